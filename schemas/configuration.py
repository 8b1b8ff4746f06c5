"""Contracts of the files a statistician supplies: published targets and rating moderations.

Each file is read as text (one row per line after the header) and checked with pandera before
any work starts. The first breach is reported as one line naming the file, the line and the
rule, e.g. `targets.csv: line 4: column target is '1.2', expected a proportion between 0 and 1`.
`first_breach` turns pandera's failure cases into that line; the reviewed-decisions file of the
quality gate (schemas/quality.py) is reported the same way.

- Targets (docs/methodology.md#targets; columns of the dbt seed `targets`): a known measure code, a
performance
  year such as 2024-25, a known geography (`*` for every geography, England and Wales or a
  region), END_STATE or INTERIM (an INTERIM target names a geography: ramp-up targets are set
  region by region), a proportion between 0 and 1, an optional tolerance between 0 and 1, a
  source, and one target per measure, year, geography and type.
- Rating moderations (docs/methodology.md#ratings; columns of the dbt seed `rating_moderations`): a
region, a
  performance year the pipeline has data for, a rating 1 to 4, a reason, who decided and when,
  and one moderation per region and year.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterable
from datetime import date, datetime
from functools import cache
from pathlib import Path

import pandas as pd
import pandera.errors
import pandera.pandas as pa

from schemas.contracts import CATALOGUE_SEED, DATE_PATTERN, REGION_CODES

NATIONAL_CODE = "K04000001"
ALL_GEOGRAPHIES = "*"
TARGET_COLUMNS = (
    "measure_code",
    "performance_year",
    "geography_code",
    "target_type",
    "target",
    "near_miss_tolerance",
    "source",
)
TARGET_KEY = ("measure_code", "performance_year", "geography_code", "target_type")
TARGET_TYPES = ("END_STATE", "INTERIM")
MODERATION_COLUMNS = (
    "region_code",
    "performance_year",
    "moderated_rating",
    "reason",
    "decided_by",
    "decided_on",
)
MODERATION_KEY = ("region_code", "performance_year")
RATINGS = ("1", "2", "3", "4")
PERFORMANCE_YEAR_PATTERN = r"^\d{4}-\d{2}$"
NUMBER_PATTERN = r"^(\d+(\.\d*)?|\.\d+)$"


class ConfigurationError(ValueError):
    """A configuration file that breaks its contract: the message names file, line and rule."""


@cache
def catalogue_measure_codes() -> tuple[str, ...]:
    """Every measure code of the catalogue seed (dbt_project/seeds/measure_catalogue.csv)."""
    with CATALOGUE_SEED.open() as handle:
        return tuple(r["measure_code"] for r in csv.DictReader(handle))


def _consecutive_years(values: pd.Series) -> pd.Series:
    def ok(value) -> bool:
        if pd.isna(value):
            return True
        return (int(value[:4]) + 1) % 100 == int(value[5:7])

    return values.map(ok)


def _proportion(values: pd.Series) -> pd.Series:
    numbers = pd.to_numeric(values.where(values.str.match(NUMBER_PATTERN, na=False)), "coerce")
    # a text that is no number gives <NA>, which must fail the check, not pass it
    return (numbers.between(0, 1).fillna(False) | values.isna()).astype(bool)


def real_date(values: pd.Series) -> pd.Series:
    return pd.to_datetime(values, format="%Y-%m-%d", errors="coerce").notna() | values.isna()


def _required(*checks: pa.Check, **kwargs) -> pa.Column:
    return pa.Column("string", list(checks), nullable=False, **kwargs)


def _year_checks() -> list[pa.Check]:
    return [
        pa.Check.str_matches(PERFORMANCE_YEAR_PATTERN, error="a performance year such as 2024-25"),
        pa.Check(_consecutive_years, error="a performance year such as 2024-25"),
    ]


def targets_schema() -> pa.DataFrameSchema:
    geographies = (ALL_GEOGRAPHIES, NATIONAL_CODE, *REGION_CODES)
    return pa.DataFrameSchema(
        {
            "measure_code": _required(
                pa.Check.isin(catalogue_measure_codes(), error="a measure code of the catalogue")
            ),
            "performance_year": _required(*_year_checks()),
            "geography_code": _required(
                pa.Check.isin(geographies, error="*, K04000001 or a region code")
            ),
            "target_type": _required(pa.Check.isin(TARGET_TYPES, error="END_STATE or INTERIM")),
            "target": _required(pa.Check(_proportion, error="a proportion between 0 and 1")),
            "near_miss_tolerance": pa.Column(
                "string",
                pa.Check(_proportion, error="empty or a proportion between 0 and 1"),
                nullable=True,
            ),
            "source": _required(pa.Check.str_length(min_value=1, error="a source")),
        },
        checks=[
            pa.Check(
                lambda f: ~((f["target_type"] == "INTERIM") & (f["geography_code"] == "*")),
                error="an INTERIM target for a named geography, not *",
            )
        ],
        unique=list(TARGET_KEY),
        report_duplicates="exclude_first",
        strict=True,
        name="targets",
        description="Published targets: one per measure, performance year, geography and type.",
    )


def moderations_schema(years: Iterable[str] | None = None) -> pa.DataFrameSchema:
    year_checks = _year_checks()
    if years is not None:
        known = sorted(set(years))
        shown = f"{known[0]} to {known[-1]}" if len(known) > 1 else "".join(known) or "none"
        year_checks.append(pa.Check.isin(known, error=f"a performance year with data ({shown})"))
    return pa.DataFrameSchema(
        {
            "region_code": _required(pa.Check.isin(REGION_CODES, error="a region code")),
            "performance_year": _required(*year_checks),
            "moderated_rating": _required(pa.Check.isin(RATINGS, error="a rating 1, 2, 3 or 4")),
            "reason": _required(pa.Check.str_length(min_value=1, error="a reason")),
            "decided_by": _required(pa.Check.str_length(min_value=1, error="who decided")),
            "decided_on": _required(
                pa.Check.str_matches(DATE_PATTERN, error="an ISO date YYYY-MM-DD"),
                pa.Check(real_date, error="a real calendar date"),
            ),
        },
        unique=list(MODERATION_KEY),
        report_duplicates="exclude_first",
        strict=True,
        name="rating_moderations",
        description="Moderated regional ratings: one per region and performance year.",
    )


CHECK_WORDS = {"not_nullable": "filled in"}


def first_breach(
    frame: pd.DataFrame,
    schema: pa.DataFrameSchema,
    columns: tuple[str, ...],
    path: Path,
    error: type[ValueError] = ConfigurationError,
    key_words: str = "",
) -> pd.DataFrame:
    """The frame checked against `schema` (columns exactly `columns`, any order); raises
    `error` naming the file, line and rule of the first breach (line 1 is the header)."""
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise error(f"{path}: line 1: missing column {', '.join(missing)}")
    unexpected = [str(c) for c in frame.columns if c not in columns]
    if unexpected:
        raise error(f"{path}: line 1: unexpected column {', '.join(unexpected)}")
    try:
        return schema.validate(frame[list(columns)].astype("string"), lazy=True)
    except pandera.errors.SchemaErrors as errors:
        cases = errors.failure_cases.dropna(subset=["index"]).assign(
            frame_level=lambda c: c["schema_context"] != "Column"
        )
        cases = cases.sort_values(["index", "frame_level"], kind="stable")
        if cases.empty:
            raise error(f"{path}: {str(errors).splitlines()[0]}") from None
        first = cases.iloc[0]
        line = int(first["index"]) + 2
        check = str(first["check"])
        if check in ("field_uniqueness", "multiple_fields_uniqueness"):
            raise error(f"{path}: line {line}: {key_words or 'a repeated key'}") from None
        if first["frame_level"]:
            raise error(f"{path}: line {line}: expected {check}") from None
        value = first["failure_case"]
        shown = "empty" if pd.isna(value) else repr(str(value)[:80])
        check = CHECK_WORDS.get(check, check)
        raise error(
            f"{path}: line {line}: column {first['column']} is {shown}, expected {check}"
        ) from None


def validate_targets(frame: pd.DataFrame, path: Path) -> pd.DataFrame:
    """A targets file read as text, checked; raises ConfigurationError on the first breach."""
    return first_breach(
        frame,
        targets_schema(),
        TARGET_COLUMNS,
        path,
        key_words="a second target for the same measure, year, geography and type",
    )


def validate_moderations(
    frame: pd.DataFrame, path: Path, years: Iterable[str] | None = None
) -> pd.DataFrame:
    """A moderations file read as text, checked; `years` are the performance years that have
    data (None skips that rule). Raises ConfigurationError on the first breach."""
    return first_breach(
        frame,
        moderations_schema(years),
        MODERATION_COLUMNS,
        path,
        key_words="a second moderation for the same region and performance year",
    )


STATISTICAL_STATUSES = (
    "Official statistics in development",
    "Management information",
    "Official statistics",
    "Accredited official statistics",
)
PUBLICATION_TEXT_KEYS = (
    "title",
    "statistical_status",
    "producer",
    "source",
    "contact_email",
)
# Keys an older publication.toml had, and what replaced them.
REPLACED_PUBLICATION_KEYS = {
    "next_update": "the next edition's date now comes from [release_calendar]",
    "publication_date": "an edition's date now comes from [release_calendar]",
}


def validate_publication(values: dict, path: Path) -> dict:
    """The cover and release settings (publication.toml): every text key filled in, a known
    statistical status, caveats a list of text, the pre-release access list and the release
    calendar (each edition's pre-announced date, later than its month and in edition order)."""

    def fail(key: str, rule: str) -> None:
        raise ConfigurationError(f"{path}: key {key}: {rule}")

    for key, replacement in REPLACED_PUBLICATION_KEYS.items():
        if key in values:
            fail(key, f"no longer used: {replacement}; remove it")
    for key in PUBLICATION_TEXT_KEYS:
        value = values.get(key)
        if not isinstance(value, str) or not value.strip():
            fail(key, "missing or empty, expected text")
    if values["statistical_status"] not in STATISTICAL_STATUSES:
        fail(
            "statistical_status",
            f"is {values['statistical_status'][:60]!r}, expected one of "
            + ", ".join(STATISTICAL_STATUSES),
        )
    caveats = values.get("caveats", [])
    if not isinstance(caveats, list) or not all(isinstance(c, str) and c for c in caveats):
        fail("caveats", "expected a list of text")
    _check_access(values.get("pre_release_access"), fail)
    _check_calendar(values.get("release_calendar"), fail)
    return values


def _check_access(access, fail) -> None:
    """[pre_release_access]: hours (1 to 24) and organisations, each a name and its roles, each
    role with a count of people (at least 1)."""
    if not isinstance(access, dict):
        fail("pre_release_access", "missing: expected a table with hours and organisations")
    hours = access.get("hours")
    if not isinstance(hours, int) or isinstance(hours, bool) or not 1 <= hours <= 24:
        fail("pre_release_access.hours", f"is {hours!r}, expected whole hours from 1 to 24")
    organisations = access.get("organisations", [])
    if not isinstance(organisations, list):
        fail("pre_release_access.organisations", "expected a list of tables")
    for number, organisation in enumerate(organisations, 1):
        where = f"pre_release_access.organisations[{number}]"
        if not isinstance(organisation, dict):
            fail(where, "expected a table with name and roles")
        name = organisation.get("name")
        if not isinstance(name, str) or not name.strip():
            fail(f"{where}.name", "missing or empty, expected text")
        roles = organisation.get("roles")
        if not isinstance(roles, list) or not roles:
            fail(f"{where}.roles", "expected a list of { role = ..., count = ... }")
        for role in roles:
            text = role.get("role") if isinstance(role, dict) else None
            count = role.get("count") if isinstance(role, dict) else None
            if not isinstance(text, str) or not text.strip():
                fail(f"{where}.roles", f"{role!r}: expected role = text")
            if not isinstance(count, int) or isinstance(count, bool) or count < 1:
                fail(f"{where}.roles", f"{text}: count is {count!r}, expected a whole number >= 1")


def _check_calendar(calendar, fail) -> None:
    """[release_calendar]: "YYYY-MM" = YYYY-MM-DD, a date after the edition's month, later
    editions on later dates."""
    if not isinstance(calendar, dict):
        fail("release_calendar", 'missing: expected a table of "YYYY-MM" = YYYY-MM-DD')
    previous = None
    for edition in sorted(calendar):
        announced = calendar[edition]
        key = f"release_calendar.{edition}"
        if not re.fullmatch(r"\d{4}-(0[1-9]|1[0-2])", edition):
            fail(key, "expected an edition YYYY-MM")
        if not isinstance(announced, date) or isinstance(announced, datetime):
            fail(key, f"is {announced!r}, expected a date YYYY-MM-DD (no quotes)")
        if announced.strftime("%Y-%m") <= edition:
            fail(key, f"{announced} is not after the edition's month")
        if previous and announced <= previous[1]:
            fail(key, f"{announced} is not after {previous[0]}'s date ({previous[1]})")
        previous = (edition, announced)


def validate_disclosure_threshold(value: str, variable: str) -> int:
    """The disclosure threshold: a whole number of people, at least 2 (1 would hide nothing)."""
    if not value.strip().isdigit() or int(value) < 2:
        raise ConfigurationError(
            f"{variable}: is {value[:30]!r}, expected a whole number of people, at least 2"
        )
    return int(value)


def validate_share(value: str, variable: str) -> float:
    """A share between 0 and 1 inclusive (0 publishes every provisional figure)."""
    try:
        share = float(value)
    except ValueError:
        share = -1.0
    if not 0.0 <= share <= 1.0:
        raise ConfigurationError(f"{variable}: is {value[:30]!r}, expected a share from 0 to 1")
    return share

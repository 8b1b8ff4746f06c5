"""Landing-zone data contracts: the columns, types, codes and keys of every raw extract.

This module is the one place the landing-zone contract of docs/methodology.md#landing-contract is
written down. Everything
else (the ingestion assets, the demo data generator's tests, the dbt sources) reads it from here.
Each extract is declared as data (`Extract` and `Column`); `column_rules()` lists each column's
checks once, and from that list `sql_checks()` gives the DuckDB predicates ingestion checks a
delivered file with (orchestration/ingest/checked_file.py) and `pandera_schema()` the same contract
as
a pandera schema (documentation, the seam test `tests/test_contract_seam.py`).

Two kinds of rule live here:
- contract rules (a missing or unexpected column, a value of the wrong type, an unknown code):
  a breach rejects the whole file;
- row rules (a null in a required field, a duplicate key, a date outside the file's month):
  the row is well formed but implausible, so it is set aside with a reason (see `row_rules`).

Monthly extracts are in `EXTRACTS`; reference extracts (one file, not monthly: the HMIP
inspections) in `REFERENCE_EXTRACTS`.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

import pandas as pd
import pandera.pandas as pa

DATE_PATTERN = r"^\d{4}-\d{2}-\d{2}$"
MONTH_PATTERN = r"^\d{4}-(0[1-9]|1[0-2])$"
INTEGER_PATTERN = r"^\d+$"

REGION_CODES = (
    "N03", "N07", "N50", "N51", "N52", "N53", "N54", "N55", "N56", "N57", "N58", "N59",
)  # fmt: skip
PROVIDER_CODES = tuple(f"C{i:02d}" for i in range(1, 22)) + tuple(f"N{i:02d}" for i in range(1, 8))


@dataclass(frozen=True)
class Column:
    """One column of an extract: its type (`str`, `date`, `int`, `month`), codes, nullability."""

    name: str
    kind: str = "str"
    codes: tuple[str, ...] | None = None
    required: bool = True
    pattern: str | None = None


@dataclass(frozen=True)
class Extract:
    """One landing-zone extract: columns in delivered order, its key and how months are cut."""

    name: str
    columns: tuple[Column, ...]
    key: tuple[str, ...]
    grain: str  # "snapshot", "fact" or "reference"
    partition_column: str | None = None  # fact extracts: the date that places a row in a month
    description: str = ""
    extra_checks: tuple[str, ...] = field(default=())

    @property
    def column_names(self) -> list[str]:
        return [c.name for c in self.columns]

    @property
    def required_columns(self) -> list[str]:
        return [c.name for c in self.columns if c.required]

    def column(self, name: str) -> Column:
        return next(c for c in self.columns if c.name == name)


def _c(name: str, kind: str = "str", codes=None, required: bool = True, pattern=None) -> Column:
    return Column(name, kind, tuple(codes) if codes else None, required, pattern)


REGION = _c("region_code", codes=REGION_CODES)
EVENT_TYPES = ("CO", "SSO", "SDO", "LICENCE", "PSS")
OFFENCE_CATEGORIES = (
    "VIOLENCE", "SEXUAL", "ROBBERY", "THEFT", "DRUGS", "MOTORING", "FRAUD", "PUBLIC_ORDER", "OTHER",
)  # fmt: skip
REQUIREMENT_TYPES = (
    "UPW", "RAR", "ACCREDITED_PROGRAMME", "STRUCTURED_INTERVENTION", "TOOLKIT", "CURFEW",
    "DRUG_REHAB", "OTHER",
)  # fmt: skip

EXTRACTS: dict[str, Extract] = {
    e.name: e
    for e in (
        Extract(
            "events",
            (
                _c("event_id"),
                _c("crn"),
                REGION,
                _c("pdu_code", required=False, pattern=r"^[A-Z0-9]+$"),
                _c("provider_code", codes=PROVIDER_CODES, required=False),
                _c("event_type", codes=EVENT_TYPES),
                _c("start_date", "date"),
                _c("release_type", codes=("STANDARD", "REMAND_FROM_COURT"), required=False),
                _c("main_offence_category", codes=OFFENCE_CATEGORIES),
                _c("custodial_sentence_months", "int", required=False),
                _c("expected_end_date", "date"),
                _c("termination_date", "date", required=False),
                _c(
                    "termination_reason",
                    codes=(
                        "COMPLETED",
                        "REVOKED_BREACH",
                        "RECALLED",
                        "TRANSFERRED",
                        "DIED",
                        "OTHER",
                    ),
                    required=False,
                ),
            ),
            key=("event_id",),
            grain="snapshot",
            description="Sentences and releases under supervision: each event active in the month.",
        ),
        Extract(
            "requirements",
            (
                _c("requirement_id"),
                _c("event_id"),
                _c("crn"),
                REGION,
                _c("requirement_type", codes=REQUIREMENT_TYPES),
                _c("sentence_date", "date"),
                _c("start_date", "date", required=False),
                _c("termination_date", "date", required=False),
                _c(
                    "termination_reason",
                    codes=("COMPLETED", "REVOKED", "BREACH", "OTHER"),
                    required=False,
                ),
                _c("hours_ordered", "int", required=False),
            ),
            key=("requirement_id",),
            grain="snapshot",
            description="Requirements of community sentences active in the month.",
        ),
        Extract(
            "persons",
            (
                _c("crn"),
                _c("sex", codes=("M", "F", "UNKNOWN")),
                _c("age_band", codes=("18-20", "21-24", "25-29", "30-39", "40-49", "50+")),
                _c("ethnicity", codes=("WHITE", "BLACK", "ASIAN", "MIXED", "OTHER", "UNKNOWN")),
                _c("religion", required=False),
                _c("disability", codes=("Y", "N", "UNKNOWN")),
                _c("sexual_orientation", required=False),
            ),
            key=("crn",),
            grain="snapshot",
            description="Protected characteristics of people with an event active in the month.",
        ),
        Extract(
            "contacts",
            (
                _c("contact_id"),
                _c("crn"),
                _c("event_id"),
                REGION,
                _c("contact_date", "date"),
                _c("mode", codes=("OFFICE", "HOME_VISIT", "VIDEO", "TELEPHONE")),
                _c(
                    "outcome",
                    codes=("ATTENDED", "FAILED_TO_ATTEND", "ACCEPTABLE_ABSENCE", "NOT_RECORDED"),
                ),
            ),
            key=("contact_id",),
            grain="fact",
            partition_column="contact_date",
            description="Appointments arranged, by the day they were arranged to take place.",
        ),
        Extract(
            "sentence_plans",
            (_c("plan_id"), _c("event_id"), _c("crn"), REGION, _c("completed_date", "date")),
            key=("plan_id",),
            grain="fact",
            partition_column="completed_date",
            description="Sentence plans by completion date.",
        ),
        Extract(
            "upw_sessions",
            (
                _c("session_id"),
                _c("requirement_id"),
                _c("crn"),
                REGION,
                _c("session_date", "date"),
                _c(
                    "status",
                    codes=("ATTENDED", "FAILED_TO_ATTEND", "ACCEPTABLE_ABSENCE", "STOOD_DOWN"),
                ),
            ),
            key=("session_id",),
            grain="fact",
            partition_column="session_date",
            description="Unpaid work sessions by session date.",
        ),
        Extract(
            "accommodation_checks",
            (
                _c("check_id"),
                _c("event_id"),
                _c("crn"),
                REGION,
                _c("checkpoint", codes=("RELEASE_NIGHT", "POST_RELEASE_3M", "POST_DISPOSAL_3M")),
                _c("check_date", "date"),
                _c("status", codes=("SETTLED", "TEMPORARY", "HOMELESS", "UNKNOWN")),
            ),
            key=("check_id",),
            grain="fact",
            partition_column="check_date",
            description="Accommodation circumstances at the checkpoints, by check date.",
        ),
        Extract(
            "employment_checks",
            (
                _c("check_id"),
                _c("event_id"),
                _c("crn"),
                REGION,
                _c("checkpoint", codes=("POST_RELEASE_6W", "POST_RELEASE_6M", "POST_DISPOSAL_6M")),
                _c("check_date", "date"),
                _c("status", codes=("EMPLOYED", "UNEMPLOYED", "UNAVAILABLE", "UNKNOWN")),
            ),
            key=("check_id",),
            grain="fact",
            partition_column="check_date",
            description="Employment circumstances at the checkpoints, by check date.",
        ),
        Extract(
            "recalls",
            (
                _c("recall_id"),
                _c("crn"),
                REGION,
                _c("return_to_custody_date", "date"),
                _c("part_b_due_date", "date"),
                _c("part_b_supplied_date", "date", required=False),
            ),
            key=("recall_id",),
            grain="fact",
            partition_column="return_to_custody_date",
            description="Recalls to custody by return-to-custody date.",
        ),
        Extract(
            "parole_reports",
            (
                _c("report_id"),
                _c("crn"),
                REGION,
                _c("sentence_kind", codes=("DETERMINATE", "INDETERMINATE")),
                _c("due_date", "date"),
                _c("sent_date", "date", required=False),
            ),
            key=("report_id",),
            grain="fact",
            partition_column="due_date",
            description="Parole assessment reports by due date.",
        ),
        Extract(
            "handovers",
            (
                _c("handover_id"),
                _c("crn"),
                REGION,
                _c("com_allocated_date", "date"),
                _c("months_to_serve", "int"),
                _c("meeting_date", "date", required=False),
            ),
            key=("handover_id",),
            grain="fact",
            partition_column="com_allocated_date",
            description="Prison to community offender manager handovers by allocation date.",
        ),
        Extract(
            "measure_returns",
            (
                _c("measure_code"),  # codes: the catalogue's RETURNED measures
                REGION,
                _c("period_month", "month"),
                _c("numerator", "int"),
                _c("denominator", "int"),
            ),
            key=("measure_code", "region_code", "period_month"),
            grain="fact",
            partition_column="period_month",
            description="Measures that arrive already aggregated, by region and month.",
        ),
    )
}

MONTHLY_EXTRACTS: tuple[str, ...] = tuple(EXTRACTS)

INSPECTION_RATINGS = ("OUTSTANDING", "GOOD", "REQUIRES_IMPROVEMENT", "INADEQUATE")
ORGANISATION_TYPES = ("CRC", "NPS_DIVISION", "REGION", "PDU")

# Reference extracts: one file each (`<landing>/<name>/<name>.csv` or `.parquet`), not monthly,
# so they are kept out of EXTRACTS (which drives the monthly ingest assets). Loaded by
# orchestration/ingest/reference.py with the same contract checks and row rules.
REFERENCE_EXTRACTS: dict[str, Extract] = {
    e.name: e
    for e in (
        Extract(
            "inspections",
            (
                _c("inspection_id"),
                _c("organisation_code", pattern=r"^[A-Z0-9]+$"),
                _c("organisation_name"),
                _c("organisation_type", codes=ORGANISATION_TYPES),
                _c("framework"),  # e.g. HMIP 2018; its rating bands are a dbt seed
                _c("published_date", "date"),
                _c("standard_code"),
                _c("standard_name"),
                _c("rating", codes=INSPECTION_RATINGS),
            ),
            key=("inspection_id", "standard_code"),
            grain="reference",
            description=(
                "HM Inspectorate of Probation inspections: one row per inspection and standard, "
                "with the standard's rating."
            ),
        ),
    )
}

CATALOGUE_SEED = (
    Path(__file__).resolve().parents[1] / "dbt_project" / "seeds" / "measure_catalogue.csv"
)


@cache
def returned_measure_codes() -> tuple[str, ...]:
    """Codes `measure_returns` may carry: the catalogue's measures delivered aggregated."""
    with CATALOGUE_SEED.open() as handle:
        return tuple(r["measure_code"] for r in csv.DictReader(handle) if r["method"] == "RETURNED")


def _value_codes(extract: Extract, column: Column) -> tuple[str, ...] | None:
    if extract.name == "measure_returns" and column.name == "measure_code":
        return returned_measure_codes()
    return column.codes


# The checks of one column, in the order they are reported: (error, pattern) for a pattern the
# value must match, (error, "calendar") for a real calendar date, (error, codes) for a code list.
# `pandera_schema` and `sql_checks` both read this list, so the two cannot drift apart.
CALENDAR_DATE = "calendar"


def column_rules(column: Column, codes: tuple[str, ...] | None) -> list[tuple[str, object]]:
    rules: list[tuple[str, object]] = []
    if column.kind == "date":
        rules += [("ISO date YYYY-MM-DD", DATE_PATTERN), ("a real calendar date", CALENDAR_DATE)]
    elif column.kind == "int":
        rules.append(("a whole number >= 0", INTEGER_PATTERN))
    elif column.kind == "month":
        rules.append(("a month YYYY-MM", MONTH_PATTERN))
    if codes:
        rules.append((f"one of {', '.join(codes)}", tuple(codes)))
    if column.pattern:
        rules.append((f"matches {column.pattern}", column.pattern))
    return rules


def _column_checks(column: Column, codes: tuple[str, ...] | None) -> list[pa.Check]:
    checks: list[pa.Check] = []
    for error, rule in column_rules(column, codes):
        if rule == CALENDAR_DATE:
            checks.append(
                pa.Check(
                    lambda s: (
                        pd.to_datetime(s, format="%Y-%m-%d", errors="coerce").notna() | s.isna()
                    ),
                    error=error,
                )
            )
        elif isinstance(rule, tuple):
            checks.append(pa.Check.isin(list(rule), error=error))
        else:
            checks.append(pa.Check.str_matches(rule, error=error))
    return checks


# The dates pandas can hold (its nanosecond timestamps): the pandera check's real calendar dates.
CALENDAR_BOUNDS = ("1677-09-22", "2262-04-11")


def _sql_string(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


@dataclass(frozen=True)
class SqlCheck:
    """One contract check as SQL over the file read as text: `passes` is true for a value that
    meets the rule (and for a null: nulls are a row rule)."""

    column: str
    error: str
    passes: str


def sql_checks(extract: Extract) -> list[SqlCheck]:
    """The contract of one extract as DuckDB predicates, the same rules in the same order as
    `pandera_schema` (ingestion checks files with these; a test holds the two together)."""
    checks = []
    for column in extract.columns:
        value = f'"{column.name}"'
        for error, rule in column_rules(column, _value_codes(extract, column)):
            if rule == CALENDAR_DATE:
                low, high = CALENDAR_BOUNDS
                test = (
                    f"coalesce(try_strptime({value}, '%Y-%m-%d')::date "
                    f"between date '{low}' and date '{high}', false)"
                )
            elif isinstance(rule, tuple):
                test = f"{value} in ({', '.join(map(_sql_string, rule))})"
            else:
                test = f"regexp_matches({value}, {_sql_string(str(rule))})"
            checks.append(SqlCheck(column.name, error, f"({value} is null or {test})"))
    return checks


def pandera_schema(extract: Extract) -> pa.DataFrameSchema:
    """The contract of one extract as a pandera schema over the file read as text.

    Every column is read as a string so that a bad type is reported with its row rather than
    failing the parser. Nulls pass the contract (they are a row rule for required fields), so
    the schema is strict about columns, types and codes only.
    """
    return pa.DataFrameSchema(
        {
            c.name: pa.Column(
                "string",
                checks=_column_checks(c, _value_codes(extract, c)),
                nullable=True,
                coerce=False,
                description=f"{c.kind}{'' if c.required else ', may be empty'}",
            )
            for c in extract.columns
        },
        strict=True,
        ordered=False,
        name=extract.name,
        description=extract.description,
    )

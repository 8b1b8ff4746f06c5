"""Data-quality rules (docs/methodology.md#quality-periods-and-the-publication-gate): pandera
checks over partition profiles and measure series.

Rules run over two frames:
- partition profiles (one row per extract, region and month, written at ingest by
  orchestration/ingest/profiling.py), enriched with each row's own history by `enrich_profiles`
  (trailing median of rows loaded and of the in-person share over the previous months of the
  same extract and region, and the previous month's values);
- measure series (one row per measure, geography and month from `measure_monthly`), enriched
  by `enrich_measures` the same way.

Each rule is a pandera DataFrame-level check whose failing rows are the flags:
`failing_rows` validates lazily and reads pandera's failure cases (check and row index), and
`extract_flags` / `measure_flags` turn them into flag rows (flag_id, subject_type EXTRACT or
MEASURE, subject, geography_code, month, rule, detail with the figures found). Rules (`RULES`
describes each):

- row_count (profile): rows loaded differ from the trailing median by more than a share AND
  more than the noise expected at that size;
- region_missing (profile): a region with a trailing median of at least N rows has none;
- duplicate_keys, null_required, outside_partition (profile): rows set aside for a repeated
  key, an empty required field, a date outside the month exceed a share of the region's rows;
- in_person_share (contacts profile), measure_jump (measure series): a share moves far from
  both its trailing median and the previous month;
- vanished_records (events and requirements): records not terminated in the previous month's
  file and absent from this month's exceed a share of those records
  (docs/methodology.md#landing-contract: a data defect;
  the pipeline ends such a record with its last file). The counts (`open_keys_before`,
  `vanished_keys`) come from the raw files (orchestration/warehouse/quality.vanished_counts).

Thresholds are configuration: `quality_thresholds.toml` beside this module (each default is
justified there), overridden key by key by the TOML file named in PROBATION_QUALITY_THRESHOLDS.
The statistician's review decisions are validated here too (`validate_reviews`).
"""

from __future__ import annotations

import copy
import json
import os
import tomllib
from collections.abc import Callable
from functools import partial
from pathlib import Path

import numpy as np
import pandas as pd
import pandera.errors
import pandera.pandas as pa

from schemas.configuration import ConfigurationError, first_breach, real_date
from schemas.contracts import DATE_PATTERN, MONTH_PATTERN, MONTHLY_EXTRACTS, REGION_CODES

THRESHOLDS_FILE = Path(__file__).with_name("quality_thresholds.toml")
THRESHOLDS_ENV = "PROBATION_QUALITY_THRESHOLDS"

ROW_COUNT = "row_count"
REGION_MISSING = "region_missing"
DUPLICATE_KEYS = "duplicate_keys"
NULL_REQUIRED = "null_required"
OUTSIDE_PARTITION = "outside_partition"
IN_PERSON_SHARE = "in_person_share"
MEASURE_JUMP = "measure_jump"
VANISHED_RECORDS = "vanished_records"
EXTRACT_RULES = (
    ROW_COUNT,
    REGION_MISSING,
    DUPLICATE_KEYS,
    NULL_REQUIRED,
    OUTSIDE_PARTITION,
    IN_PERSON_SHARE,
    VANISHED_RECORDS,
)
RULES = {
    ROW_COUNT: "Rows loaded for a region far from the trailing median of its earlier months.",
    REGION_MISSING: "A region that usually has rows has none loaded.",
    DUPLICATE_KEYS: "Rows repeating a key already delivered in the same file.",
    NULL_REQUIRED: "Rows with an empty required field.",
    OUTSIDE_PARTITION: "Rows dated outside the file's month.",
    IN_PERSON_SHARE: "The share of contacts in person jumps from its history.",
    MEASURE_JUMP: "A measure's performance jumps far from its own history.",
    VANISHED_RECORDS: "Records open in the previous month's file are missing from this month's.",
}
RULE_APPLIES = {  # every other extract rule applies to all
    IN_PERSON_SHARE: ("contacts",),
    VANISHED_RECORDS: ("events", "requirements"),
}
NATIONAL_CODE = "K04000001"  # England and Wales: extracts without a region are profiled whole
GEOGRAPHY_CODES = (*REGION_CODES, NATIONAL_CODE)

FLAG_COLUMNS = ("flag_id", "subject_type", "subject", "geography_code", "month", "rule", "detail")
FLAG_ID_PATTERN = r"^[a-z_]+:[A-Za-z0-9_]+:[A-Z0-9]+:\d{4}-(0[1-9]|1[0-2])$"
REVIEW_COLUMNS = ("flag_id", "decision", "reason", "reviewer", "reviewed_on")
DECISIONS = ("publish", "suppress")


# --------------------------------------------------------------------------- thresholds
class ThresholdsError(ValueError):
    """A thresholds file that cannot be used (named, with what is wrong)."""


def load_thresholds(path: str | Path | None = None) -> dict[str, dict[str, float]]:
    """The defaults of quality_thresholds.toml, with the keys of an override file replacing
    them (the file given, else the one named by PROBATION_QUALITY_THRESHOLDS)."""
    thresholds = tomllib.loads(THRESHOLDS_FILE.read_text(encoding="utf-8"))
    override = path or os.environ.get(THRESHOLDS_ENV)
    if not override:
        return thresholds
    override = Path(override)
    try:
        values = tomllib.loads(override.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ThresholdsError(f"{override}: thresholds file not found") from None
    except tomllib.TOMLDecodeError as error:
        raise ThresholdsError(f"{override}: not valid TOML: {error}") from None
    merged = copy.deepcopy(thresholds)
    for section, keys in values.items():
        if section not in thresholds or not isinstance(keys, dict):
            known = ", ".join(thresholds)
            raise ThresholdsError(f"{override}: unknown section [{section}] (known: {known})")
        for key, value in keys.items():
            if key not in thresholds[section]:
                known = ", ".join(thresholds[section])
                raise ThresholdsError(f"{override}: [{section}] unknown key {key!r} ({known})")
            if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
                raise ThresholdsError(
                    f"{override}: [{section}] {key} = {value!r} is not a number >= 0"
                )
            merged[section][key] = value
    return merged


# --------------------------------------------------------------------------- history
def _trailing_median(values: pd.Series, groups: list[pd.Series], months: int) -> pd.Series:
    """Median of the previous `months` values in each group (rows sorted by month)."""
    return values.groupby(groups, sort=False).transform(
        lambda s: s.shift(1).rolling(months, min_periods=1).median()
    )


# Median of a chi-squared variable with one degree of freedom: a squared standard normal
# deviation is below it half the time, so median(r^2) / CHI2_1_MEDIAN estimates the variance.
CHI2_1_MEDIAN = 0.4549


def count_deviation(rows: pd.Series, median: pd.Series) -> pd.Series:
    """Standardised deviation of a count from its trailing median on the square-root scale:
    2 * (sqrt(rows) - sqrt(median)) is about standard normal for a Poisson count, also for small
    counts where (rows - median) / sqrt(median) is badly skewed."""
    return 2 * (np.sqrt(rows.astype(float).clip(lower=0)) - np.sqrt(median.astype(float)))


def _dispersion(frame: pd.DataFrame, thresholds: dict) -> pd.Series:
    """Overdispersion of each extract's counts, by month: the variance of count_deviation over
    every region in the previous `dispersion_months` months (a robust median estimate, at least
    1), or null while fewer than `dispersion_min_points` deviations are known. Counts of
    clustered records (e.g. unpaid work sessions, many per requirement) vary more than Poisson
    counts; pooling the regions keeps the estimate stable, and only earlier months are used, so
    a defect in every region at once cannot hide itself."""
    window = int(thresholds[ROW_COUNT]["dispersion_months"])
    minimum = int(thresholds[ROW_COUNT]["dispersion_min_points"])
    usable = (frame["history_months"] >= thresholds["history"]["min_months"]) & (
        frame["rows_loaded"] > 0
    )
    squared = count_deviation(frame["rows_loaded"], frame["median_rows"]).pow(2).where(usable)
    phi = pd.Series(np.nan, index=frame.index)
    for _, rows in frame.groupby("extract", sort=False):
        by_month = {
            month: values.dropna().to_numpy()
            for month, values in squared[rows.index].groupby(rows["month"], sort=True)
        }
        months = list(by_month)
        estimates = {}
        for i, month in enumerate(months):
            earlier = [by_month[m] for m in months[max(0, i - window) : i]]
            pooled = np.concatenate(earlier) if earlier else np.array([])
            if pooled.size >= max(minimum, 1):
                estimates[month] = max(1.0, float(np.median(pooled)) / CHI2_1_MEDIAN)
        phi[rows.index] = rows["month"].map(estimates).astype(float).to_numpy()
    return phi


def enrich_profiles(profiles: pd.DataFrame, thresholds: dict) -> pd.DataFrame:
    """Profiles with their history: `history_months` (earlier months in the window, capped),
    `median_rows` and `median_in_person_share` (trailing medians over the previous months of
    the same extract and region), `history_rows` (rows loaded in those months),
    `prev_rows_loaded`, `prev_in_person_share`, and
    `dispersion` (how much more than Poisson the extract's counts vary, see _dispersion)."""
    months = int(thresholds["history"]["months"])
    frame = profiles.sort_values(["extract", "region_code", "month"]).reset_index(drop=True)
    keys = [frame["extract"], frame["region_code"]]
    grouped = frame.groupby(keys, sort=False)
    frame["history_months"] = grouped.cumcount().clip(upper=months).astype("int64")
    frame["median_rows"] = _trailing_median(frame["rows_loaded"].astype(float), keys, months)
    frame["prev_rows_loaded"] = grouped["rows_loaded"].shift(1).astype(float)
    share = frame["in_person_share"].astype(float)
    frame["median_in_person_share"] = _trailing_median(share, keys, months)
    frame["prev_in_person_share"] = share.groupby(keys, sort=False).shift(1)
    frame["history_rows"] = _trailing_sum(
        frame["rows_loaded"].where(share.notna(), 0).astype(float), keys, months
    )
    frame["dispersion"] = _dispersion(frame, thresholds)
    for column in ("open_keys_before", "vanished_keys"):  # set by vanished_counts where known
        if column not in frame.columns:
            frame[column] = 0
        frame[column] = frame[column].fillna(0).astype("int64")
    return frame


def _trailing_sum(values: pd.Series, groups: list[pd.Series], months: int) -> pd.Series:
    """Sum of the previous `months` values in each group (rows sorted by month)."""
    return values.groupby(groups, sort=False).transform(
        lambda s: s.shift(1).rolling(months, min_periods=1).sum()
    )


def enrich_measures(series: pd.DataFrame, thresholds: dict) -> pd.DataFrame:
    """Measure series (measure_code, geography_code, month, numerator, denominator and,
    optionally, provisional and exclude_from_history) with `performance`, its trailing median
    over the previous months of the same measure and geography (`median_performance`, from
    `history_months` months holding `history_denominator` cases), and the previous month's value
    and denominator.

    A month is not judged, nor used as history, when its denominator is below the minimum (too
    noisy) or it is provisional (a later delivery can still complete its cases). A month marked
    `exclude_from_history` (a known poor-quality period) is still judged but is no baseline for
    later months: recovery from such a period is no jump.
    """
    months = int(thresholds["history"]["months"])
    minimum = thresholds[MEASURE_JUMP]["min_denominator"]
    frame = series.sort_values(["measure_code", "geography_code", "month"]).reset_index(drop=True)
    frame["numerator"] = frame["numerator"].astype("int64")
    frame["denominator"] = frame["denominator"].astype("int64")
    if "provisional" not in frame.columns:
        frame["provisional"] = False
    frame["provisional"] = frame["provisional"].fillna(True).astype(bool)
    if "exclude_from_history" not in frame.columns:
        frame["exclude_from_history"] = False
    excluded = frame["exclude_from_history"].fillna(False).astype(bool)
    keys = [frame["measure_code"], frame["geography_code"]]
    usable = (frame["denominator"] >= max(minimum, 1)) & ~frame["provisional"]
    baseline = usable & ~excluded
    performance = (frame["numerator"] / frame["denominator"].where(usable)).astype(float)
    frame["performance"] = performance
    history = performance.where(baseline)
    frame["history_months"] = (
        _trailing_sum(baseline.astype(float), keys, months).fillna(0).astype("int64")
    )
    frame["history_denominator"] = _trailing_sum(
        frame["denominator"].where(baseline, 0).astype(float), keys, months
    )
    frame["median_performance"] = _trailing_median(history, keys, months)
    # The previous month is compared as it was, known period or not: a lasting shift (the
    # move to remote contact in April 2020) is flagged at its onset, not every month after.
    frame["prev_performance"] = performance.groupby(keys, sort=False).shift(1)
    frame["prev_denominator"] = (
        frame["denominator"].where(usable).astype(float).groupby(keys, sort=False).shift(1)
    )
    return frame


# --------------------------------------------------------------------------- rules
def _history(frame: pd.DataFrame, t: dict) -> pd.Series:
    return frame["history_months"] >= t["history"]["min_months"]


def _row_count_flagged(frame: pd.DataFrame, t: dict) -> pd.Series:
    c = t[ROW_COUNT]
    median = frame["median_rows"]
    relative = (frame["rows_loaded"] - median).abs() > c["max_relative_change"] * median
    noise = count_deviation(frame["rows_loaded"], median).abs() / np.sqrt(frame["dispersion"])
    return _history(frame, t) & (frame["rows_loaded"] > 0) & relative & (noise > c["z"])


def _region_missing_flagged(frame: pd.DataFrame, t: dict) -> pd.Series:
    return (
        _history(frame, t)
        & (frame["rows_loaded"] == 0)
        & (frame["median_rows"] >= t[REGION_MISSING]["min_expected_rows"])
    )


def _share_flagged(frame: pd.DataFrame, t: dict, rule: str, column: str) -> pd.Series:
    count = frame[column]
    return (count > 0) & (count > t[rule]["max_share"] * frame["rows_delivered"])


def proportion_deviation(
    value: pd.Series, n: pd.Series, reference: pd.Series, n_reference: pd.Series, factor: float
) -> pd.Series:
    """Standardised difference of a share from a reference share on the arcsine scale:
    2 * |asin(sqrt(p)) - asin(sqrt(p_ref))| / sqrt(1/n + factor/n_ref) is about standard normal
    for binomial shares. Each share is first moved to (p * n + 3/8) / (n + 3/4) (Anscombe), so
    that 42 of 42 against a usual 87% is not taken for a 4-sigma event (it happens 1 time in
    350). `factor` is pi/2 for a reference that is a median of monthly shares (less efficient
    than a pooled share), 1 for a single earlier month."""
    n, n_reference = n.astype(float), n_reference.astype(float)

    def angle(p: pd.Series, size: pd.Series) -> pd.Series:
        return np.arcsin(np.sqrt((p.clip(0, 1) * size + 0.375) / (size + 0.75)))

    spread = np.sqrt(1 / n + factor / n_reference)
    return 2 * (angle(value, n) - angle(reference, n_reference)).abs() / spread


def _proportion_jump(
    value: pd.Series,
    n: pd.Series,
    median: pd.Series,
    n_history: pd.Series,
    previous: pd.Series,
    n_previous: pd.Series,
    c: dict,
) -> pd.Series:
    """A share that moved by more than `min_points` AND more than z standard errors (see
    proportion_deviation) from its trailing median, AND likewise from the previous month when
    there is one: the onset of a lasting shift is flagged once, not every month after it."""
    off_median = ((value - median).abs() > c["min_points"]) & (
        proportion_deviation(value, n, median, n_history, np.pi / 2) > c["z"]
    )
    off_previous = previous.isna() | (
        ((value - previous).abs() > c["min_points"])
        & (proportion_deviation(value, n, previous, n_previous, 1.0) > c["z"])
    )
    return value.notna() & median.notna() & off_median & off_previous


def _in_person_flagged(frame: pd.DataFrame, t: dict) -> pd.Series:
    c = t[IN_PERSON_SHARE]
    return (
        _history(frame, t)
        & frame["extract"].isin(RULE_APPLIES[IN_PERSON_SHARE])
        & (frame["rows_loaded"] >= c["min_rows"])
        & _proportion_jump(
            frame["in_person_share"].astype(float),
            frame["rows_loaded"],
            frame["median_in_person_share"],
            frame["history_rows"],
            frame["prev_in_person_share"],
            frame["prev_rows_loaded"],
            c,
        )
    )


def _measure_jump_flagged(frame: pd.DataFrame, t: dict) -> pd.Series:
    c = t[MEASURE_JUMP]
    return _history(frame, t) & _proportion_jump(
        frame["performance"],
        frame["denominator"],
        frame["median_performance"],
        frame["history_denominator"],
        frame["prev_performance"],
        frame["prev_denominator"],
        c,
    )


PROFILE_RULE_TESTS: dict[str, Callable[[pd.DataFrame, dict], pd.Series]] = {
    ROW_COUNT: _row_count_flagged,
    REGION_MISSING: _region_missing_flagged,
    DUPLICATE_KEYS: partial(_share_flagged, rule=DUPLICATE_KEYS, column="duplicate_key_rows"),
    NULL_REQUIRED: partial(_share_flagged, rule=NULL_REQUIRED, column="null_required_rows"),
    OUTSIDE_PARTITION: partial(
        _share_flagged, rule=OUTSIDE_PARTITION, column="outside_partition_rows"
    ),
    IN_PERSON_SHARE: _in_person_flagged,
    VANISHED_RECORDS: lambda frame, t: (
        (frame["vanished_keys"] > 0)
        & (frame["vanished_keys"] > t[VANISHED_RECORDS]["max_share"] * frame["open_keys_before"])
    ),
}
MEASURE_RULE_TESTS = {MEASURE_JUMP: _measure_jump_flagged}


def _passes(test: Callable, thresholds: dict) -> Callable[[pd.DataFrame], pd.Series]:
    return lambda frame: ~test(frame, thresholds).fillna(False).astype(bool)


COUNT = pa.Column("int64", pa.Check.ge(0), coerce=True)
SHARE = pa.Column(float, pa.Check.in_range(0, 1), nullable=True, coerce=True)
MEDIAN = pa.Column(float, pa.Check.ge(0), nullable=True, coerce=True)


def profile_schema(thresholds: dict) -> pa.DataFrameSchema:
    """The enriched profile's columns, and one DataFrame-level check per extract rule (a row
    failing a check is a flag)."""
    return pa.DataFrameSchema(
        {
            "extract": pa.Column(str, pa.Check.isin(MONTHLY_EXTRACTS), coerce=True),
            "month": pa.Column(str, pa.Check.str_matches(MONTH_PATTERN), coerce=True),
            "region_code": pa.Column(str, pa.Check.isin(GEOGRAPHY_CODES), coerce=True),
            "rows_delivered": COUNT,
            "rows_loaded": COUNT,
            "distinct_keys": COUNT,
            "duplicate_key_rows": COUNT,
            "null_required_rows": COUNT,
            "outside_partition_rows": COUNT,
            "in_person_share": SHARE,
            "history_months": COUNT,
            "median_rows": MEDIAN,
            "prev_rows_loaded": MEDIAN,
            "median_in_person_share": SHARE,
            "prev_in_person_share": SHARE,
            "history_rows": MEDIAN,
            "dispersion": pa.Column(float, pa.Check.ge(1), nullable=True, coerce=True),
            "open_keys_before": COUNT,
            "vanished_keys": COUNT,
        },
        checks=[
            pa.Check(_passes(test, thresholds), name=rule, error=rule)
            for rule, test in PROFILE_RULE_TESTS.items()
        ],
        name="partition_profile_rules",
        description="Data-quality rules over each extract, region and month's profile.",
    )


def measure_schema(thresholds: dict) -> pa.DataFrameSchema:
    """The enriched measure series' columns and the measure_jump check."""
    return pa.DataFrameSchema(
        {
            "measure_code": pa.Column(str, coerce=True),
            "geography_code": pa.Column(str, pa.Check.isin(GEOGRAPHY_CODES), coerce=True),
            "numerator": COUNT,
            "denominator": COUNT,
            "performance": SHARE,
            "history_months": COUNT,
            "history_denominator": MEDIAN,
            "median_performance": SHARE,
            "prev_performance": SHARE,
            "prev_denominator": MEDIAN,
        },
        checks=[
            pa.Check(_passes(test, thresholds), name=rule, error=rule)
            for rule, test in MEASURE_RULE_TESTS.items()
        ],
        name="measure_series_rules",
        description="A measure's performance against its own history, by geography.",
    )


def failing_rows(schema: pa.DataFrameSchema, frame: pd.DataFrame) -> dict[str, pd.Index]:
    """Row index of every row failing each rule check of `schema` (pandera failure cases).

    A failure that is not one of the rules (a column of the wrong type, a count below zero)
    means the frame itself is malformed: it is raised, not turned into flags.
    """
    rules = [c.name for c in schema.checks]
    try:
        schema.validate(frame, lazy=True)
    except pandera.errors.SchemaErrors as errors:
        cases = errors.failure_cases
        structural = cases[~cases["check"].isin(rules)]
        if not structural.empty:
            first = structural.iloc[0]
            raise ValueError(
                f"{schema.name}: column {first['column']}: {first['check']} "
                f"(failure case {first['failure_case']!r})"
            ) from None
        found = cases.dropna(subset=["index"]).drop_duplicates(["check", "index"])
        return {
            rule: pd.Index(sorted(found.loc[found["check"] == rule, "index"].astype(int)))
            for rule in rules
            if (found["check"] == rule).any()
        }
    return {}


# --------------------------------------------------------------------------- flags
def flag_id(rule: str, subject: str, geography: str, month: str) -> str:
    """Stable id of a flag: `rule:subject:geography:YYYY-MM` (what a review names)."""
    return f"{rule}:{subject}:{geography}:{month}"


def _pct(x: float) -> str:
    return f"{100 * x:.1f}%"


def _share_detail(what: str, column: str, rule: str) -> Callable:
    def detail(r, t) -> str:
        count, delivered = int(getattr(r, column)), int(r.rows_delivered)
        return (
            f"{count:,} of {delivered:,} rows delivered ({_pct(count / delivered)}) {what} "
            f"(threshold {_pct(t[rule]['max_share'])})"
        )

    return detail


def _null_detail(r, t) -> str:
    text = _share_detail("have an empty required field", "null_required_rows", NULL_REQUIRED)(r, t)
    counts = {k: v for k, v in json.loads(r.null_counts or "{}").items() if v}
    columns = ", ".join(f"{k} {v:,}" for k, v in sorted(counts.items(), key=lambda kv: -kv[1]))
    return f"{text}; empty: {columns}" if columns else text


def _row_count_detail(r, t) -> str:
    c, median = t[ROW_COUNT], float(r.median_rows)
    change = (r.rows_loaded - median) / median if median else float("inf")
    sigmas = abs(2 * (np.sqrt(r.rows_loaded) - np.sqrt(median))) / np.sqrt(r.dispersion)
    return (
        f"{int(r.rows_loaded):,} rows loaded against a trailing median of {median:,.0f} over "
        f"{int(r.history_months)} months ({change:+.0%}, {sigmas:.1f} sigma; flagged beyond "
        f"{c['max_relative_change']:.0%} and {c['z']:g} sigma, dispersion {r.dispersion:.1f})"
    )


def _region_missing_detail(r, t) -> str:
    return (
        f"no rows loaded ({int(r.rows_delivered):,} delivered) against a trailing median of "
        f"{float(r.median_rows):,.0f} over {int(r.history_months)} months"
    )


def _in_person_detail(r, t) -> str:
    previous = (
        f" and {_pct(r.prev_in_person_share)} the month before"
        if pd.notna(r.prev_in_person_share)
        else ""
    )
    return (
        f"{_pct(r.in_person_share)} of {int(r.rows_loaded):,} contacts in person against a "
        f"trailing median of {_pct(r.median_in_person_share)}{previous} (flagged beyond "
        f"{100 * t[IN_PERSON_SHARE]['min_points']:g} points and {t[IN_PERSON_SHARE]['z']:g} "
        "standard errors)"
    )


def _measure_detail(r, t) -> str:
    previous = (
        f" and {_pct(r.prev_performance)} the month before" if pd.notna(r.prev_performance) else ""
    )
    return (
        f"performance {_pct(r.performance)} ({int(r.numerator):,} of {int(r.denominator):,}) "
        f"against a trailing median of {_pct(r.median_performance)}{previous} (flagged beyond "
        f"{100 * t[MEASURE_JUMP]['min_points']:g} points and {t[MEASURE_JUMP]['z']:g} "
        "standard errors)"
    )


def _vanished_detail(r, t) -> str:
    vanished, before = int(r.vanished_keys), int(r.open_keys_before)
    previous = (pd.Period(str(r.month)[:7], "M") - 1).strftime("%Y-%m")
    return (
        f"{vanished:,} of {before:,} records not terminated in the {previous} file are missing "
        f"from this month's ({_pct(vanished / before)}; threshold "
        f"{_pct(t[VANISHED_RECORDS]['max_share'])}); they count as ended with {previous}"
    )


DETAILS: dict[str, Callable] = {
    ROW_COUNT: _row_count_detail,
    REGION_MISSING: _region_missing_detail,
    DUPLICATE_KEYS: _share_detail(
        "repeat a key already delivered", "duplicate_key_rows", DUPLICATE_KEYS
    ),
    NULL_REQUIRED: _null_detail,
    OUTSIDE_PARTITION: _share_detail(
        "are dated outside the month", "outside_partition_rows", OUTSIDE_PARTITION
    ),
    IN_PERSON_SHARE: _in_person_detail,
    MEASURE_JUMP: _measure_detail,
    VANISHED_RECORDS: _vanished_detail,
}


def empty_flags() -> pd.DataFrame:
    frame = pd.DataFrame({c: pd.Series(dtype="object") for c in FLAG_COLUMNS})
    return frame.astype({"month": "datetime64[ns]"})


def _flag_rows(
    frame: pd.DataFrame,
    failed: dict[str, pd.Index],
    thresholds: dict,
    subject_type: str,
    subject: str,
    geography: str,
) -> pd.DataFrame:
    parts = []
    for rule, index in failed.items():
        rows = frame.loc[index]
        month = rows["month"].astype(str).str.slice(0, 7)
        parts.append(
            pd.DataFrame(
                {
                    "flag_id": [
                        flag_id(rule, s, g, m)
                        for s, g, m in zip(rows[subject], rows[geography], month, strict=True)
                    ],
                    "subject_type": subject_type,
                    "subject": rows[subject].astype(str),
                    "geography_code": rows[geography].astype(str),
                    "month": pd.to_datetime(month + "-01"),
                    "rule": rule,
                    "detail": [DETAILS[rule](r, thresholds) for r in rows.itertuples()],
                }
            )
        )
    if not parts:
        return empty_flags()
    return pd.concat(parts, ignore_index=True)[list(FLAG_COLUMNS)]


def extract_flags(enriched: pd.DataFrame, thresholds: dict) -> pd.DataFrame:
    """Flags (FLAG_COLUMNS) for every enriched profile row failing an extract rule."""
    if enriched.empty:
        return empty_flags()
    failed = failing_rows(profile_schema(thresholds), enriched)
    return _flag_rows(enriched, failed, thresholds, "EXTRACT", "extract", "region_code")


def measure_flags(enriched: pd.DataFrame, thresholds: dict) -> pd.DataFrame:
    """Flags (FLAG_COLUMNS) for every enriched measure row failing measure_jump."""
    if enriched.empty:
        return empty_flags()
    failed = failing_rows(measure_schema(thresholds), enriched)
    return _flag_rows(enriched, failed, thresholds, "MEASURE", "measure_code", "geography_code")


# --------------------------------------------------------------------------- reviews
class ReviewFileError(ConfigurationError):
    """A reviewed-decisions file that breaks its schema: names the file, line and rule."""


REVIEWS_SCHEMA = pa.DataFrameSchema(
    {
        "flag_id": pa.Column(
            "string",
            pa.Check.str_matches(FLAG_ID_PATTERN, error="a flag id rule:subject:geography:YYYY-MM"),
            unique=True,
            report_duplicates="exclude_first",
        ),
        "decision": pa.Column("string", pa.Check.isin(DECISIONS, error="publish or suppress")),
        "reason": pa.Column("string", pa.Check.str_length(min_value=1, error="a reason")),
        "reviewer": pa.Column("string", pa.Check.str_length(min_value=1, error="a reviewer")),
        "reviewed_on": pa.Column(
            "string",
            [
                pa.Check.str_matches(DATE_PATTERN, error="an ISO date YYYY-MM-DD"),
                pa.Check(real_date, error="a real calendar date"),
            ],
        ),
    },
    strict=True,
    name="quality_reviews",
    description="The statistician's decisions on quality flags: one row per flag reviewed.",
)


def validate_reviews(frame: pd.DataFrame, path: Path) -> pd.DataFrame:
    """The reviews read as text (one row per line after the header), checked against
    REVIEWS_SCHEMA; raises ReviewFileError naming the file, line and rule of the first breach."""
    return first_breach(
        frame,
        REVIEWS_SCHEMA,
        REVIEW_COLUMNS,
        path,
        ReviewFileError,
        key_words="column flag_id repeats a flag, expected reviewed only once",
    )

"""Contracts of the published tables: every table of an edition, its columns, and the rules its
tidy files must meet.

One `TableSpec` per table says what a reader gets: the sheet name (stable from edition to
edition), the title, the notes that apply, and per column its tidy name, its workbook header
(units in round brackets), its kind and the mart column whose dbt description documents it (the
data dictionary is generated from those descriptions, so the docs are written once).

Tidy files (CSV, Parquet) keep numbers numeric: a value that is not published is empty, and
the row's `count_shorthand` / `rate_shorthand` column says why with the Analysis Function
shorthand. The workbook shows the shorthand in place of the empty value. `pandera_schema`
turns a spec into the schema every table is validated against before it is written.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pandera.pandas as pa

SHORTHAND = {
    "[c]": "Confidential: not shown to protect individuals (small counts).",
    "[p]": "Provisional: the figure can still be revised by a later delivery.",
    "[r]": "Revised: the figure differs from the previous published edition.",
    "[x]": "Not available: suppressed because the data are of poor quality.",
    "[z]": "Not applicable: the measure did not apply to the period, or there were no cases.",
}
CELL_STATUSES = (
    "published",
    "provisional",
    "not yet complete",
    "suppressed",
    "not applicable",
    "confidential",
)
SYMBOLS = ("", "[x]", "[z]", "[c]", "[p]")  # [r] has its own column, `revision`

# Column kinds: text is never empty; count, percent and number may be empty where a shorthand
# column says why.
TEXT, CODE, COUNT, PERCENT, NUMBER, DATE = "text", "code", "count", "percent", "number", "date"


@dataclass(frozen=True)
class Column:
    name: str  # tidy name (CSV, Parquet)
    header: str  # workbook header, units in round brackets
    kind: str
    source: str  # model.column whose dbt description documents it; "" when `note` does
    symbol_column: str | None = None  # the tidy column holding the shorthand when empty
    empty_symbol: str | None = None  # or a fixed shorthand when empty
    unit: str = ""
    note: str = ""  # how the value is derived from its source, appended to the description


@dataclass(frozen=True)
class TableSpec:
    name: str  # file stem of the tidy files
    sheet: str  # workbook sheet name: stable from edition to edition
    title: str  # "{period}" is filled with the edition's period covered
    description: str  # one line for the contents sheet and the data dictionary
    columns: tuple[Column, ...]
    notes: tuple[str, ...] = ()  # note keys that apply to every table of this kind
    key: tuple[str, ...] = field(default=())  # the grain: unique per row


def _status_columns(source: str) -> tuple[Column, ...]:
    return (
        Column("cell_status", "Figure status", TEXT, f"{source}.cell_status"),
        Column(
            "count_shorthand",
            "Counts shorthand",
            TEXT,
            f"{source}.shorthand",
            note="Empty when the counts are shown.",
        ),
        Column(
            "rate_shorthand",
            "Percentage shorthand",
            TEXT,
            f"{source}.value_shorthand",
            note="Empty when the percentage is shown.",
        ),
        Column(
            "revision",
            "Revised",
            TEXT,
            "",
            note="[r] when a value differs from the previous published edition (the "
            "revisions table says which and why); empty otherwise.",
        ),
        Column("quality_status", "Quality status", CODE, f"{source}.quality_status"),
        Column(
            "quality_reasons",
            "Quality reasons",
            TEXT,
            f"{source}.quality_reasons",
            note="'No caveat' when no reason applies.",
        ),
    )


CELLS = "publication_cells"
ROUNDED = "As a percentage, rounded to 1 decimal place (halves up)."
_MEASURE = (
    Column("measure_code", "Measure code", CODE, f"{CELLS}.subject"),
    Column("measure_name", "Measure", TEXT, f"{CELLS}.subject_name"),
)
_GEOGRAPHY = (
    Column("geography_code", "Geography code", CODE, f"{CELLS}.geography_code"),
    Column("geography_name", "Geography", TEXT, f"{CELLS}.geography_name"),
)
_PERIOD = (
    Column("period", "Period code", CODE, f"{CELLS}.period"),
    Column(
        "period_name",
        "Period",
        TEXT,
        f"{CELLS}.period",
        note="In words: January 2024, Jan to Mar 2024, April 2024 to March 2025.",
    ),
)
_COUNTS = (
    Column(
        "numerator",
        "Numerator (cases)",
        COUNT,
        f"{CELLS}.numerator",
        "count_shorthand",
        unit="cases",
    ),
    Column(
        "denominator",
        "Denominator (cases)",
        COUNT,
        f"{CELLS}.denominator",
        "count_shorthand",
        unit="cases",
    ),
    Column(
        "performance_pct",
        "Performance (%)",
        PERCENT,
        f"{CELLS}.value",
        "rate_shorthand",
        unit="percent",
        note=ROUNDED,
    ),
)
_QUALITY_NOTES = ("PROVISIONAL", "INCOMPLETE", "PERCENTAGES")

NATIONAL_MONTHLY = TableSpec(
    name="national_monthly",
    sheet="National_monthly",
    title="Performance by measure and month, England and Wales, {period}",
    description="Each published measure for England and Wales, month by month.",
    columns=(*_MEASURE, *_GEOGRAPHY, *_PERIOD, *_COUNTS, *_status_columns(CELLS)),
    notes=("VALID_FROM", "NO_CASES", *_QUALITY_NOTES),
    key=("measure_code", "period"),
)
REGIONAL_QUARTERLY = TableSpec(
    name="regional_quarterly",
    sheet="Regional_quarterly",
    title="Performance by measure, probation region and quarter, {period}",
    description="Each published measure by calendar quarter, for England and Wales and the "
    "12 probation regions.",
    columns=(
        *_MEASURE,
        Column("geography_level", "Geography level", CODE, f"{CELLS}.breakdown"),
        *_GEOGRAPHY,
        *_PERIOD,
        *_COUNTS,
        *_status_columns(CELLS),
    ),
    notes=("QUARTERS", "VALID_FROM", "NO_CASES", *_QUALITY_NOTES),
    key=("measure_code", "geography_code", "period"),
)


def _attainment(name: str, sheet: str, grain: str, period_words: str) -> TableSpec:
    return TableSpec(
        name=name,
        sheet=sheet,
        title=f"Target attainment by measure, geography and {period_words}, {{period}}",
        description=f"Each measure with a target against its target, by {period_words}, for "
        "England and Wales and each probation region.",
        columns=(
            *_MEASURE,
            Column("geography_level", "Geography level", CODE, f"{CELLS}.breakdown"),
            *_GEOGRAPHY,
            *_PERIOD,
            Column(
                "months_counted", "Months counted", NUMBER, f"{CELLS}.months_loaded", unit="months"
            ),
            *_COUNTS,
            Column(
                "target_pct",
                "Target (%)",
                PERCENT,
                f"{CELLS}.target",
                unit="percent",
                note=ROUNDED,
            ),
            Column(
                "attainment",
                "Attainment",
                TEXT,
                f"{CELLS}.attainment",
                "rate_shorthand",
                note="In words: Met, Near miss or Missed.",
            ),
            *_status_columns(CELLS),
        ),
        notes=("TARGETS", "NO_CASES", *_QUALITY_NOTES),
        key=("measure_code", "geography_code", "period"),
    )


ATTAINMENT_YEARLY = _attainment(
    "attainment_yearly", "Attainment_yearly", "PERFORMANCE_YEAR", "performance year"
)
ATTAINMENT_QUARTERLY = _attainment(
    "attainment_quarterly", "Attainment_quarterly", "QUARTER", "quarter"
)

RATINGS_MART = "region_ratings"
RATINGS = TableSpec(
    name="regional_ratings",
    sheet="Ratings",
    title="Regional ratings by performance year, {period}",
    description="Each probation region's rating for the performance year, with its points and "
    "score.",
    columns=(
        Column("region_code", "Region code", CODE, f"{RATINGS_MART}.region_code"),
        Column("region_name", "Region", TEXT, f"{RATINGS_MART}.region_name"),
        Column("performance_year", "Performance year", CODE, f"{RATINGS_MART}.performance_year"),
        Column(
            "measures_counted",
            "Measures assessed",
            NUMBER,
            f"{RATINGS_MART}.measures_counted",
            unit="measures",
        ),
        Column(
            "exceptional", "Exceptional", NUMBER, f"{RATINGS_MART}.exceptional", unit="measures"
        ),
        Column("met", "Met", NUMBER, f"{RATINGS_MART}.met", unit="measures"),
        Column("near_miss", "Near miss", NUMBER, f"{RATINGS_MART}.near_miss", unit="measures"),
        Column("missed", "Missed", NUMBER, f"{RATINGS_MART}.missed", unit="measures"),
        Column("points", "Points", NUMBER, f"{RATINGS_MART}.points", unit="points"),
        Column("max_points", "Maximum points", NUMBER, f"{RATINGS_MART}.max_points", unit="points"),
        Column(
            "score_pct",
            "Score (%)",
            PERCENT,
            f"{RATINGS_MART}.score",
            empty_symbol="[z]",
            unit="percent",
            note=ROUNDED,
        ),
        Column(
            "data_rating",
            "Rating from the data",
            NUMBER,
            f"{RATINGS_MART}.data_rating",
            empty_symbol="[z]",
        ),
        Column("rating", "Rating", NUMBER, f"{RATINGS_MART}.rating", empty_symbol="[z]"),
        Column(
            "rating_label", "Rating label", TEXT, f"{RATINGS_MART}.rating_label", empty_symbol="[z]"
        ),
        Column("moderated", "Moderated", TEXT, f"{RATINGS_MART}.moderated", note="Yes or No."),
        Column(
            "moderation_reason",
            "Moderation reason",
            TEXT,
            f"{RATINGS_MART}.moderation_reason",
            note="'Not moderated' when not moderated.",
        ),
        Column(
            "provisional", "Provisional", TEXT, f"{RATINGS_MART}.provisional", note="Yes or No."
        ),
    ),
    notes=("RATINGS", "TARGETS"),
    key=("region_code", "performance_year"),
)

POINTS_MART = "region_rating_points"
RATING_POINTS = TableSpec(
    name="rating_points",
    sheet="Rating_points",
    title="Points behind the regional ratings, by region, performance year and measure, {period}",
    description="For each region, year and measure: its performance, target, outcome and the "
    "points it earned.",
    columns=(
        Column("region_code", "Region code", CODE, f"{POINTS_MART}.region_code"),
        Column("region_name", "Region", TEXT, f"{POINTS_MART}.region_name"),
        Column("performance_year", "Performance year", CODE, f"{POINTS_MART}.performance_year"),
        Column("measure_code", "Measure code", CODE, f"{POINTS_MART}.measure_code"),
        Column("measure_name", "Measure", TEXT, f"{CELLS}.subject_name"),
        Column(
            "months_counted",
            "Months counted",
            NUMBER,
            f"{POINTS_MART}.months_counted",
            unit="months",
        ),
        Column(
            "performance_pct",
            "Performance (%)",
            PERCENT,
            f"{POINTS_MART}.performance",
            empty_symbol="[z]",
            unit="percent",
            note=ROUNDED,
        ),
        Column(
            "target_pct",
            "Target (%)",
            PERCENT,
            f"{POINTS_MART}.target",
            empty_symbol="[z]",
            unit="percent",
            note=ROUNDED,
        ),
        Column(
            "national_performance_pct",
            "England and Wales performance (%)",
            PERCENT,
            f"{POINTS_MART}.national_performance",
            empty_symbol="[z]",
            unit="percent",
            note=ROUNDED,
        ),
        Column("outcome", "Outcome", CODE, f"{POINTS_MART}.outcome"),
        Column(
            "points", "Points", NUMBER, f"{POINTS_MART}.points", empty_symbol="[z]", unit="points"
        ),
        Column("weight", "Weight", NUMBER, f"{POINTS_MART}.weight"),
        Column(
            "counts", "Counts towards the rating", TEXT, f"{POINTS_MART}.counts", note="Yes or No."
        ),
    ),
    notes=("RATINGS",),
    key=("region_code", "performance_year", "measure_code"),
)

LEAGUE_MART = "inspection_league_table"
INSPECTIONS = TableSpec(
    name="inspection_league_table",
    sheet="Inspections",
    title="Inspection league table: latest HM Inspectorate of Probation rating of each "
    "organisation",
    description="Each inspected organisation's latest rating and score, ranked within its "
    "inspection framework.",
    columns=(
        Column("organisation_type", "Organisation type", CODE, f"{LEAGUE_MART}.organisation_type"),
        Column("organisation_code", "Organisation code", CODE, f"{LEAGUE_MART}.organisation_code"),
        Column("organisation_name", "Organisation", TEXT, f"{LEAGUE_MART}.organisation_name"),
        Column("framework", "Inspection framework", TEXT, f"{LEAGUE_MART}.framework"),
        Column("published_date", "Report published", DATE, f"{LEAGUE_MART}.published_date"),
        Column("rating", "Rating", TEXT, f"{LEAGUE_MART}.rating"),
        Column(
            "total_score", "Score (points)", NUMBER, f"{LEAGUE_MART}.total_score", unit="points"
        ),
        Column(
            "max_score", "Maximum score (points)", NUMBER, f"{LEAGUE_MART}.max_score", unit="points"
        ),
        Column(
            "rank_in_framework", "Rank in framework", NUMBER, f"{LEAGUE_MART}.rank_in_framework"
        ),
        Column(
            "organisations_in_framework",
            "Organisations in framework",
            NUMBER,
            f"{LEAGUE_MART}.organisations_in_framework",
        ),
        Column(
            "previous_rating",
            "Previous rating",
            TEXT,
            f"{LEAGUE_MART}.previous_rating",
            empty_symbol="[z]",
        ),
    ),
    notes=("INSPECTIONS",),
    key=("organisation_type", "organisation_code"),
)


def _circumstances(name: str, sheet: str, topic: str) -> TableSpec:
    return TableSpec(
        name=name,
        sheet=sheet,
        title=f"{topic} circumstances by checkpoint, breakdown and quarter, {{period}}",
        description=f"People by {topic.lower()} status at each checkpoint, for England and "
        "Wales and by region, sex, age band, ethnicity, offence and custodial sentence length.",
        columns=(
            *_PERIOD,
            Column("checkpoint", "Checkpoint code", CODE, f"{CELLS}.subject"),
            Column("checkpoint_name", "Checkpoint", TEXT, f"{CELLS}.subject_name"),
            Column("breakdown", "Breakdown code", CODE, f"{CELLS}.breakdown"),
            Column("breakdown_name", "Breakdown", TEXT, f"{CELLS}.breakdown_name"),
            Column("group_code", "Group code", CODE, f"{CELLS}.breakdown_value"),
            Column("group_name", "Group", TEXT, f"{CELLS}.breakdown_value_name"),
            Column("status_code", f"{topic} status code", CODE, f"{CELLS}.category"),
            Column("status_name", f"{topic} status", TEXT, f"{CELLS}.category_name"),
            Column(
                "people",
                "People (number)",
                COUNT,
                f"{CELLS}.numerator",
                "count_shorthand",
                unit="people",
            ),
            Column(
                "share_pct",
                "Share of the group (%)",
                PERCENT,
                f"{CELLS}.value",
                "rate_shorthand",
                unit="percent",
                note=ROUNDED,
            ),
            *_status_columns(CELLS),
        ),
        notes=("CIRCUMSTANCES", "DISCLOSURE", "PERCENTAGES"),
        key=("period", "checkpoint", "breakdown", "group_code", "status_code"),
    )


ACCOMMODATION = _circumstances("accommodation", "Accommodation", "Accommodation")
EMPLOYMENT = _circumstances("employment", "Employment", "Employment")

QUALITY = TableSpec(
    name="quality",
    sheet="Quality",
    title="Suppressed and caveated periods in this edition, {period}",
    description="Every period in the edition's window whose figures are suppressed or "
    "published with a caveat, with its reason.",
    columns=(
        Column("quality_status", "Quality status", CODE, "period_quality.status"),
        Column(
            "first_month",
            "From",
            CODE,
            "period_quality.month",
            note="First month (YYYY-MM) the reason applies to in the window.",
        ),
        Column(
            "last_month",
            "To",
            CODE,
            "period_quality.month",
            note="Last month (YYYY-MM) the reason applies to in the window.",
        ),
        Column(
            "subjects",
            "Measures and extracts",
            TEXT,
            "period_quality.subject",
            note="Every measure or extract affected, separated by commas.",
        ),
        Column(
            "geographies",
            "Geographies",
            TEXT,
            "period_quality.geography_code",
            note="Every geography affected, separated by commas.",
        ),
        Column("reasons", "Reason", TEXT, "period_quality.reasons"),
    ),
    notes=("UNIFICATION", "QUALITY_REVIEW"),
    key=("quality_status", "reasons", "first_month"),
)

_REVISION_COLUMNS = (
    ("table", "Table", "The table (file stem) the value is published in."),
    ("subject", "Measure or checkpoint",
     "The measure code, or for circumstances the checkpoint and status code."),
    ("group", "Geography or group",
     "The geography code, or for circumstances the breakdown and group code."),
    ("period", "Period code", "The period's code, as in the table."),
    ("column", "Column", "The column whose value changed."),
    ("previous_value", "Previous value",
     "The value in the previous published edition: a number, or the shorthand shown instead "
     "(text, as it can be either)."),
    ("new_value", "New value",
     "The value in this edition: a number, or the shorthand shown instead (text)."),
    ("reason", "Reason",
     "Why it changed: a quality decision, a re-delivered extract (which, for which month), a "
     "late month, or a change of method or reference data."),
)  # fmt: skip
REVISIONS = TableSpec(
    name="revisions",
    sheet="Revisions",
    title="Revisions since the previous published edition, {period}",
    description="Every published value that differs from the previous published edition, "
    "with its previous and new value and the reason.",
    columns=tuple(
        Column(name, header, TEXT, "", note=note) for name, header, note in _REVISION_COLUMNS
    ),  # fmt: skip
    notes=("REVISIONS",),
    key=("table", "subject", "group", "period", "column"),
)

EDITION_TABLES: dict[str, TableSpec] = {
    spec.name: spec
    for spec in (
        NATIONAL_MONTHLY,
        REGIONAL_QUARTERLY,
        ATTAINMENT_YEARLY,
        ATTAINMENT_QUARTERLY,
        RATINGS,
        RATING_POINTS,
        INSPECTIONS,
        ACCOMMODATION,
        EMPLOYMENT,
        QUALITY,
        REVISIONS,
    )
}
# Tables whose values are compared with the previous published edition and marked [r].
REVISABLE_TABLES = (
    NATIONAL_MONTHLY.name,
    REGIONAL_QUARTERLY.name,
    ATTAINMENT_YEARLY.name,
    ATTAINMENT_QUARTERLY.name,
    ACCOMMODATION.name,
    EMPLOYMENT.name,
)
# The tables the quality gate re-checks cell by cell against period_quality.
GATED_TABLES = {"national_monthly": "month", "regional_quarterly": "quarter"}

_DTYPES = {TEXT: str, CODE: str, DATE: str, COUNT: "Int64", NUMBER: "Float64", PERCENT: "Float64"}


def pandera_schema(spec: TableSpec) -> pa.DataFrameSchema:
    """The contract a table's tidy frame must meet before any file is written."""
    columns = {}
    for column in spec.columns:
        checks = []
        nullable = (
            column.kind in (COUNT, NUMBER, PERCENT)
            or column.symbol_column is not None
            or column.empty_symbol is not None
        )
        may_be_empty = column.name in ("count_shorthand", "rate_shorthand", "revision")
        if column.kind in (TEXT, CODE) and not nullable and not may_be_empty:
            checks.append(pa.Check.str_length(min_value=1))
        if column.name == "cell_status":
            checks.append(pa.Check.isin(list(CELL_STATUSES)))
        if column.name in ("count_shorthand", "rate_shorthand"):
            checks.append(pa.Check.isin(list(SYMBOLS)))
        if column.name == "revision":
            checks.append(pa.Check.isin(["", "[r]"]))
        if column.kind == PERCENT:
            checks.append(pa.Check.in_range(0, 100))
        if column.kind == COUNT:
            checks.append(pa.Check.ge(0))
        columns[column.name] = pa.Column(
            _DTYPES[column.kind], checks=checks, nullable=nullable, coerce=True
        )
    return pa.DataFrameSchema(
        columns, strict=True, ordered=True, unique=list(spec.key) or None, name=spec.name
    )

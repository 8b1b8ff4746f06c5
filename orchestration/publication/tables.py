"""The tables of an edition, as tidy data frames: the edition's window picked from the marts,
figures rounded, period names written out. Nothing here decides what a cell is: that is
`publication_cells` (dbt), which these functions only select from and format.

An edition is named by its last month. Its national table covers that month and the months
before it (15 by default), its regional, attainment and circumstances tables the last complete
calendar quarters (5 by default), its yearly tables the performance years those months touch;
`edition_windows.csv` (a dbt seed) holds the window lengths and their exceptions. Percentages
are rounded here and only here, half up (GSS practice). Functions take and return data frames;
reading and writing is the assets' job.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

import pandas as pd

from orchestration.partitions import month_range
from orchestration.settings import DBT_PROJECT_DIR
from schemas.periods import performance_year, quarter_label
from schemas.published import (
    ACCOMMODATION,
    ATTAINMENT_QUARTERLY,
    ATTAINMENT_YEARLY,
    EDITION_TABLES,
    EMPLOYMENT,
    INSPECTIONS,
    NATIONAL_MONTHLY,
    QUALITY,
    RATING_POINTS,
    RATINGS,
    REGIONAL_QUARTERLY,
    REVISIONS,
    TableSpec,
    pandera_schema,
)

WINDOWS_SEED = DBT_PROJECT_DIR / "seeds" / "edition_windows.csv"
MONTH_NAMES = (
    "January", "February", "March", "April", "May", "June",
    "July", "August", "September", "October", "November", "December",
)  # fmt: skip
# The marts an edition is built from.
MART_INPUTS = (
    "publication_cells",
    "period_quality",
    "region_ratings",
    "region_rating_points",
    "inspection_league_table",
    "dim_measures",
)
# The extract each circumstances table counts from (as int_circumstance_periods reads them).
CIRCUMSTANCE_EXTRACTS = {"accommodation": "accommodation_checks", "employment": "employment_checks"}


@dataclass(frozen=True)
class EditionWindow:
    edition: str
    months: tuple[str, ...]  # national monthly periods, YYYY-MM
    quarters: tuple[date, ...]  # quarterly periods, first day of each quarter

    @property
    def first_month(self) -> str:
        return min(self.months[0], self.quarters[0].strftime("%Y-%m"))

    @property
    def quarter_codes(self) -> tuple[str, ...]:
        return tuple(quarter_label(q.isoformat()) for q in self.quarters)

    @property
    def years(self) -> tuple[str, ...]:
        """Performance years (April to March, e.g. 2024-25) with a month in the window."""
        return tuple(sorted({performance_year(m) for m in self.months}))


def _shift_month(month: str, offset: int) -> str:
    year, mon = map(int, month.split("-"))
    index = year * 12 + (mon - 1) + offset
    return f"{index // 12:04d}-{index % 12 + 1:02d}"


def window_lengths(edition: str) -> tuple[int, int]:
    rows = list(csv.DictReader(WINDOWS_SEED.open()))
    chosen = next((r for r in rows if r["edition"] == edition), None)
    chosen = chosen or next(r for r in rows if r["edition"] == "*")
    return int(chosen["national_months"]), int(chosen["regional_quarters"])


def edition_window(edition: str) -> EditionWindow:
    n_months, n_quarters = window_lengths(edition)
    months = tuple(month_range(_shift_month(edition, 1 - n_months), edition))
    year, mon = map(int, edition.split("-"))
    last_complete_quarter_end = mon - mon % 3  # 0 means December of the year before
    end = (
        date(year, last_complete_quarter_end, 1)
        if last_complete_quarter_end
        else date(year - 1, 12, 1)
    )
    end_key = end.strftime("%Y-%m")
    quarters = tuple(
        date.fromisoformat(_shift_month(end_key, -2 - 3 * i) + "-01")
        for i in reversed(range(n_quarters))
    )
    return EditionWindow(edition, months, quarters)


def period_name(period: str, period_type: str) -> str:
    """A period code in words: month 2024-01 January 2024; quarter 2024 Q1 Jan to Mar 2024;
    performance year 2024-25 April 2024 to March 2025."""
    if period_type == "QUARTER":
        year, quarter = period.split(" Q")
        first = 3 * (int(quarter) - 1)
        return f"{MONTH_NAMES[first][:3]} to {MONTH_NAMES[first + 2][:3]} {year}"
    if period_type == "PERFORMANCE_YEAR":
        start = int(period[:4])
        return f"April {start} to March {start + 1}"
    year, month = period.split("-")
    return f"{MONTH_NAMES[int(month) - 1]} {year}"


def month_span(first: str, last: str) -> str:
    """Months first to last (YYYY-MM) in words: January 2024 to March 2025."""
    (y1, m1), (y2, m2) = (map(int, first.split("-")), map(int, last.split("-")))
    return f"{MONTH_NAMES[m1 - 1]} {y1} to {MONTH_NAMES[m2 - 1]} {y2}"


def percent(value, numerator=None, denominator=None) -> float | None:
    """A proportion as a percentage rounded to 1 decimal place, halves up (GSS practice).
    Exact from the integer numerator and denominator when given."""
    if numerator is not None and denominator and not pd.isna(numerator):
        exact = Decimal(int(numerator)) * 100 / Decimal(int(denominator))
    elif value is None or pd.isna(value):
        return None
    else:
        exact = Decimal(repr(float(value))) * 100
    return float(exact.quantize(Decimal("0.1"), rounding=ROUND_HALF_UP))


def rounded(value) -> float | None:
    """A figure already in percent rounded to 1 decimal place, halves up."""
    if value is None or pd.isna(value):
        return None
    return float(Decimal(repr(float(value))).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP))


def edition_cells(cells: pd.DataFrame, window: EditionWindow) -> dict[str, pd.DataFrame]:
    """The rows of publication_cells each cell-based table of the edition publishes. The gate
    reads the same selection, so whatever is published is what was checked."""
    group, grain, period = cells["table_group"], cells["period_type"], cells["period"]
    quarterly = grain.eq("QUARTER") & period.isin(window.quarter_codes)
    return {
        NATIONAL_MONTHLY.name: cells[
            group.eq("MEASURE")
            & cells["breakdown"].eq("NATIONAL")
            & grain.eq("MONTH")
            & period.isin(window.months)
        ],
        REGIONAL_QUARTERLY.name: cells[group.eq("MEASURE") & quarterly],
        ATTAINMENT_YEARLY.name: cells[
            group.eq("TARGET_ATTAINMENT") & grain.eq("PERFORMANCE_YEAR") & period.isin(window.years)
        ],
        ATTAINMENT_QUARTERLY.name: cells[group.eq("TARGET_ATTAINMENT") & quarterly],
        ACCOMMODATION.name: cells[group.eq("ACCOMMODATION") & quarterly],
        EMPLOYMENT.name: cells[group.eq("EMPLOYMENT") & quarterly],
    }


ATTAINMENT_WORDS = {"MET": "Met", "NEAR_MISS": "Near miss", "MISSED": "Missed"}


def _cell_table(selected: pd.DataFrame, spec: TableSpec) -> pd.DataFrame:
    """A tidy table from publication_cells rows: values only where the mart publishes them."""
    rows = selected.sort_values(
        ["subject", "breakdown", "breakdown_value", "category", "period_start"]
    )
    counts, values = rows["counts_published"].astype(bool), rows["value_published"].astype(bool)
    shown_symbol = rows["cell_status"].eq("provisional").map({True: "[p]", False: ""})
    rate = [
        percent(v, n, d) if ok else None
        for v, n, d, ok in zip(
            rows["value"], rows["numerator"], rows["denominator"], values, strict=True
        )
    ]
    out = pd.DataFrame(
        {
            "measure_code": rows["subject"],
            "measure_name": rows["subject_name"],
            "checkpoint": rows["subject"],
            "checkpoint_name": rows["subject_name"],
            "geography_level": rows["breakdown"],
            "geography_code": rows["geography_code"],
            "geography_name": rows["geography_name"],
            "breakdown": rows["breakdown"],
            "breakdown_name": rows["breakdown_name"],
            "group_code": rows["breakdown_value"],
            "group_name": rows["breakdown_value_name"],
            "status_code": rows["category"],
            "status_name": rows["category_name"],
            "period": rows["period"],
            "period_name": [
                period_name(p, t) for p, t in zip(rows["period"], rows["period_type"], strict=True)
            ],
            "months_counted": rows["months_loaded"],
            "numerator": rows["numerator"].where(counts),
            "denominator": rows["denominator"].where(counts),
            "people": rows["numerator"].where(counts),
            "performance_pct": rate,
            "share_pct": rate,
            "target_pct": [percent(t) for t in rows["target"]],
            "attainment": rows["attainment"].map(ATTAINMENT_WORDS).where(values),
            "cell_status": rows["cell_status"],
            # the symbol of a value: why it is empty, or [p] when it is shown but provisional
            "count_shorthand": rows["shorthand"].where(~counts, shown_symbol),
            "rate_shorthand": rows["value_shorthand"].where(~values, shown_symbol),
            # set by orchestration/publication/revisions.py against the last release
            "revision": "",
            "quality_status": rows["quality_status"],
            "quality_reasons": rows["quality_reasons"].replace("", "No caveat"),
        }
    )
    return _conform(out, spec)


def _conform(frame: pd.DataFrame, spec: TableSpec) -> pd.DataFrame:
    frame = frame[[c.name for c in spec.columns]].reset_index(drop=True)
    return pandera_schema(spec).validate(frame)


def _yes_no(series: pd.Series) -> pd.Series:
    return series.fillna(False).astype(bool).map({True: "Yes", False: "No"})


def ratings_table(ratings: pd.DataFrame, window: EditionWindow) -> pd.DataFrame:
    rows = ratings[ratings["performance_year"].isin(window.years)].sort_values(
        ["performance_year", "region_code"]
    )
    out = rows.assign(
        score_pct=[rounded(s) for s in rows["score"]],  # the mart's score is in percent
        moderated=_yes_no(rows["moderated"]),
        moderation_reason=rows["moderation_reason"].fillna("Not moderated"),
        provisional=_yes_no(rows["provisional"]),
    )
    return _conform(out, RATINGS)


def rating_points_table(
    points: pd.DataFrame, catalogue: pd.DataFrame, window: EditionWindow
) -> pd.DataFrame:
    rows = points[points["performance_year"].isin(window.years)].merge(
        catalogue[["measure_code", "measure_name"]], on="measure_code"
    )
    rows = rows.sort_values(["performance_year", "region_code", "measure_code"])
    out = rows.assign(
        performance_pct=[
            percent(v, n, d)
            for v, n, d in zip(
                rows["performance"], rows["numerator"], rows["denominator"], strict=True
            )
        ],
        target_pct=[percent(t) for t in rows["target"]],
        national_performance_pct=[percent(t) for t in rows["national_performance"]],
        counts=_yes_no(rows["counts"]),
    )
    return _conform(out, RATING_POINTS)


def inspections_table(league: pd.DataFrame) -> pd.DataFrame:
    rows = league.sort_values(["framework", "rank_in_framework", "organisation_code"])
    out = rows.assign(published_date=pd.to_datetime(rows["published_date"]).dt.strftime("%Y-%m-%d"))
    return _conform(out, INSPECTIONS)


def quality_table(
    quality: pd.DataFrame, catalogue: pd.DataFrame, first_month: str, edition: str
) -> pd.DataFrame:
    """Every suppressed or caveated period from first_month to the edition, one row per reason:
    the months it spans, the published measures (and circumstances extracts) it touches, the
    geographies, and the strictest status it carries."""
    published = set(catalogue.loc[catalogue["is_published"].astype(bool), "measure_code"])
    q = quality.assign(ym=pd.to_datetime(quality["month"]).dt.strftime("%Y-%m"))
    q = q[
        q["ym"].between(first_month, edition)
        & q["status"].isin(["SUPPRESS", "CAVEAT"])
        & (
            (q["subject_type"].eq("MEASURE") & q["subject"].isin(published))
            | (q["subject_type"].eq("EXTRACT") & q["subject"].isin(CIRCUMSTANCE_EXTRACTS.values()))
        )
    ]
    exploded = q.assign(reason=q["reasons"].str.split(r" \| ")).explode("reason")
    exploded = exploded[exploded["reason"].fillna("").str.len() > 0]
    rows = []
    for reason, group in exploded.groupby("reason", sort=True):
        rows.append(
            {
                "quality_status": "SUPPRESS" if group["status"].eq("SUPPRESS").any() else "CAVEAT",
                "first_month": group["ym"].min(),
                "last_month": group["ym"].max(),
                "subjects": ", ".join(sorted(set(group["subject"]))),
                "geographies": ", ".join(sorted(set(group["geography_code"]))),
                "reasons": reason,
            }
        )
    frame = pd.DataFrame(rows, columns=[c.name for c in QUALITY.columns])
    if frame.empty:
        none = "No period in the window is suppressed or caveated."
        frame.loc[0] = ["OK", first_month, edition, "No measure", "No geography", none]
    frame = frame.sort_values(["first_month", "quality_status", "reasons"])
    return _conform(frame, QUALITY)


def edition_tables(
    window: EditionWindow, marts: dict[str, pd.DataFrame]
) -> dict[str, pd.DataFrame]:
    """Every table of the edition, tidy and validated against its contract."""
    selected = edition_cells(marts["publication_cells"], window)
    tables = {name: _cell_table(rows, EDITION_TABLES[name]) for name, rows in selected.items()}
    tables[RATINGS.name] = ratings_table(marts["region_ratings"], window)
    tables[RATING_POINTS.name] = rating_points_table(
        marts["region_rating_points"], marts["dim_measures"], window
    )
    tables[INSPECTIONS.name] = inspections_table(marts["inspection_league_table"])
    tables[QUALITY.name] = quality_table(
        marts["period_quality"], marts["dim_measures"], edition_first_month(window), window.edition
    )
    tables[REVISIONS.name] = _conform(pd.DataFrame(columns=[c.name for c in REVISIONS.columns]),
                                      REVISIONS)  # fmt: skip
    return {name: tables[name] for name in EDITION_TABLES}


def measure_sources(catalogue: pd.DataFrame) -> dict[str, list[str]]:
    """The extracts each measure reads (catalogue source_extracts)."""
    return {
        code: [e for e in str(extracts).split(";") if e]
        for code, extracts in zip(
            catalogue["measure_code"], catalogue["source_extracts"].fillna(""), strict=True
        )
    }


def edition_first_month(window: EditionWindow) -> str:
    """The first month any table of the edition covers (its first performance year's April)."""
    first_year = window.years[0] if window.years else performance_year(window.first_month)
    return min(window.first_month, f"{first_year[:4]}-04")


def table_periods(window: EditionWindow) -> dict[str, str]:
    """The months each table of the edition covers, in words, for its title."""
    quarters = month_span(
        window.quarters[0].strftime("%Y-%m"),
        _shift_month(window.quarters[-1].strftime("%Y-%m"), 2),
    )
    first_year, last_year = window.years[0], window.years[-1]
    years = month_span(f"{first_year[:4]}-04", f"{int(last_year[:4]) + 1}-03")
    return {
        NATIONAL_MONTHLY.name: month_span(window.months[0], window.months[-1]),
        REGIONAL_QUARTERLY.name: quarters,
        ATTAINMENT_YEARLY.name: years,
        ATTAINMENT_QUARTERLY.name: quarters,
        RATINGS.name: years,
        RATING_POINTS.name: years,
        INSPECTIONS.name: "",
        ACCOMMODATION.name: quarters,
        EMPLOYMENT.name: quarters,
        QUALITY.name: month_span(edition_first_month(window), window.edition),
        REVISIONS.name: month_span(edition_first_month(window), window.edition),
    }


def table_note_keys(window: EditionWindow, marts: dict[str, pd.DataFrame]) -> dict[str, list]:
    """The notes each table references: those of its kind (schemas/published.py), then those
    its cells carry (publication_cells.note_keys: known periods, reviewed flags)."""
    selected = edition_cells(marts["publication_cells"], window)
    quality = marts["period_quality"]
    in_range = (
        pd.to_datetime(quality["month"])
        .dt.strftime("%Y-%m")
        .between(edition_first_month(window), window.edition)
    )
    found = {name: rows["note_keys"] for name, rows in selected.items()}
    found[QUALITY.name] = quality.loc[
        in_range & quality["status"].isin(["SUPPRESS", "CAVEAT"]), "note_keys"
    ]
    keys = {}
    for name, spec in EDITION_TABLES.items():
        carried = sorted({k for value in found.get(name, []) for k in str(value).split(",") if k})
        keys[name] = list(dict.fromkeys([*spec.notes, *carried]))
    return keys

"""Publication tables of an edition: the published window, suppression and shorthand.

An edition is named by its last month. Its national table covers that month and the months
before it (15 by default), its regional table the last complete calendar quarters (5 by
default); `edition_windows.csv` (a dbt seed) holds the window lengths and their exceptions.
Every cell's quality status comes from `period_quality`: SUPPRESS publishes `[x]` with the
reason as a note, CAVEAT publishes the figure with its note. Figures are rounded here and only
here. Functions take and return data frames; reading and writing is the assets' job.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from datetime import date

import pandas as pd

from orchestration.partitions import month_range
from orchestration.settings import DBT_PROJECT_DIR
from schemas.published import NATIONAL_MONTHLY, REGIONAL_QUARTERLY

WINDOWS_SEED = DBT_PROJECT_DIR / "seeds" / "edition_windows.csv"
VALUE_COLUMNS = ("numerator", "denominator", "performance_pct")
SEVERITY = {"OK": 0, "CAVEAT": 1, "WARN": 2, "SUPPRESS": 3}


@dataclass(frozen=True)
class EditionWindow:
    edition: str
    months: tuple[str, ...]  # national monthly periods, YYYY-MM
    quarters: tuple[date, ...]  # regional quarterly periods, first day of each quarter

    @property
    def first_month(self) -> str:
        return min(self.months[0], self.quarters[0].strftime("%Y-%m"))


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


def _percent(numerator: float, denominator: float) -> str:
    return f"{100 * numerator / denominator:.1f}"


def _cells(frame: pd.DataFrame, catalogue: pd.DataFrame) -> pd.DataFrame:
    """Apply validity, suppression and shorthand to unrounded figures with a quality status."""
    frame = frame.merge(
        catalogue[["measure_code", "measure_name", "valid_from"]], on="measure_code"
    )
    rows = []
    for r in frame.itertuples(index=False):
        notes = [r.reasons] if r.reasons else []
        if r.quality_status == "SUPPRESS":
            values, status = ("[x]",) * 3, "suppressed"
        elif pd.Timestamp(r.period_start) < pd.Timestamp(r.valid_from):
            values, status = ("[z]",) * 3, "not applicable"
            notes.append(f"Measure valid for publication from {pd.Timestamp(r.valid_from):%B %Y}.")
        elif r.denominator == 0:
            values, status = ("0", "0", "[z]"), "not applicable"
            notes.append("No cases in the period.")
        else:
            values = (
                str(int(r.numerator)),
                str(int(r.denominator)),
                _percent(r.numerator, r.denominator),
            )
            status = "provisional" if r.provisional else "published"
            if r.provisional:
                notes.append("[p] Provisional: a later delivery can still complete this period.")
        rows.append(
            {
                "measure_code": r.measure_code,
                "measure_name": r.measure_name,
                "geography_level": r.geography_level,
                "geography_code": r.geography_code,
                "geography_name": r.geography_name,
                "period": r.period,
                "numerator": values[0],
                "denominator": values[1],
                "performance_pct": values[2],
                "status": status,
                "notes": " ".join(notes) or "none",
            }
        )
    return pd.DataFrame(rows, columns=list(NATIONAL_MONTHLY.columns))


def measure_quality(quality: pd.DataFrame) -> pd.DataFrame:
    """The MEASURE rows of period_quality (it also holds one row per extract)."""
    if "subject_type" not in quality.columns:
        return quality.copy()
    return quality[quality["subject_type"].eq("MEASURE")].copy()


def worst_status(statuses: pd.Series) -> str:
    return max(statuses, key=lambda s: SEVERITY[s]) if len(statuses) else "OK"


def national_monthly(
    window: EditionWindow,
    monthly: pd.DataFrame,
    quality: pd.DataFrame,
    catalogue: pd.DataFrame,
) -> pd.DataFrame:
    """National figures by month for the edition's months, with quality applied."""
    published = catalogue.loc[catalogue["is_published"], "measure_code"]
    rows = monthly[
        (monthly["geography_level"] == "NATIONAL")
        & monthly["measure_code"].isin(published)
        & monthly["month"].dt.strftime("%Y-%m").isin(window.months)
    ].copy()
    rows["period"] = rows["month"].dt.strftime("%Y-%m")
    rows["period_start"] = rows["month"]
    rows = rows.merge(
        measure_quality(quality).rename(
            columns={"subject": "measure_code", "status": "quality_status"}
        )[["measure_code", "geography_code", "month", "quality_status", "reasons"]],
        on=["measure_code", "geography_code", "month"],
        how="left",
    )
    missing = rows["quality_status"].isna()
    if missing.any():
        raise ValueError(f"{int(missing.sum())} national cells have no period_quality row")
    rows = rows.sort_values(["measure_code", "month"])
    return NATIONAL_MONTHLY.validate(_cells(rows, catalogue))


def regional_quarterly(
    window: EditionWindow,
    quarterly: pd.DataFrame,
    quality: pd.DataFrame,
    catalogue: pd.DataFrame,
) -> pd.DataFrame:
    """Regional figures by quarter for the edition's quarters; a quarter takes the strictest
    quality status of its months, with every reason."""
    published = catalogue.loc[catalogue["is_published"], "measure_code"]
    starts = [pd.Timestamp(q) for q in window.quarters]
    rows = quarterly[
        (quarterly["geography_level"] == "REGION")
        & quarterly["measure_code"].isin(published)
        & quarterly["quarter_start"].isin(starts)
    ].copy()
    q = measure_quality(quality)
    q["quarter_start"] = q["month"].dt.to_period("Q").dt.start_time
    by_quarter = (
        q.groupby(["subject", "geography_code", "quarter_start"])
        .agg(
            quality_status=("status", worst_status),
            reasons=("reasons", lambda s: " | ".join(sorted({x for x in s if x}))),
        )
        .reset_index()
        .rename(columns={"subject": "measure_code"})
    )
    rows = rows.merge(
        by_quarter, on=["measure_code", "geography_code", "quarter_start"], how="left"
    )
    missing = rows["quality_status"].isna()
    if missing.any():
        raise ValueError(f"{int(missing.sum())} regional cells have no period_quality row")
    incomplete = ~rows["complete"]
    rows.loc[incomplete, "provisional"] = True
    rows["period"] = rows["quarter"]
    rows["period_start"] = rows["quarter_start"]
    rows = rows.sort_values(["measure_code", "geography_code", "quarter_start"])
    return REGIONAL_QUARTERLY.validate(_cells(rows, catalogue))

"""The publication gate: independent checks that a candidate edition respects `period_quality`.

The gate re-reads `period_quality` itself rather than trusting the tables it checks, so an
edition built by a partial run or a backfill of publication assets alone is held to the same
rules: every cell in a SUPPRESS period must be `[x]` in every value column, every cell must
have a quality status, and no published measure cell inside the edition's window may be WARN
(an unreviewed quality flag: the statistician must record publish or suppress first).
Violations are returned as readable sentences.
"""

from __future__ import annotations

import pandas as pd

from orchestration.publication import VALUE_COLUMNS, EditionWindow, measure_quality
from orchestration.settings import NATIONAL_CODE


def _cell_status(table: pd.DataFrame, quality: pd.DataFrame, grain: str) -> pd.DataFrame:
    q = measure_quality(quality).rename(columns={"subject": "measure_code"})
    if grain == "month":
        q["period"] = q["month"].dt.strftime("%Y-%m")
    else:
        periods = q["month"].dt.to_period("Q")
        q["period"] = periods.dt.year.astype(str) + " Q" + periods.dt.quarter.astype(str)
    suppressed = (
        q.assign(suppress=q["status"].eq("SUPPRESS"))
        .groupby(["measure_code", "geography_code", "period"])["suppress"]
        .any()
        .reset_index()
    )
    return table.merge(suppressed, on=["measure_code", "geography_code", "period"], how="left")


def gate_violations(tables: dict[str, pd.DataFrame], quality: pd.DataFrame) -> list[str]:
    """Sentences describing every breach of the quality gate in the candidate tables."""
    problems: list[str] = []
    grains = {"national_monthly": "month", "regional_quarterly": "quarter"}
    for name, table in tables.items():
        checked = _cell_status(table, quality, grains[name])
        unknown = checked[checked["suppress"].isna()]
        for r in unknown.head(5).itertuples():
            problems.append(
                f"{name}: {r.measure_code} {r.geography_code} {r.period} "
                "has no period_quality status"
            )
        leaked = checked[checked["suppress"].fillna(False).astype(bool)]
        for column in VALUE_COLUMNS:
            bad = leaked[leaked[column] != "[x]"]
            for r in bad.head(5).itertuples():
                problems.append(
                    f"{name}: {r.measure_code} {r.geography_code} {r.period} is in a suppressed "
                    f"period but publishes {column}={getattr(r, column)!r}"
                )
    return problems


def window_warnings(
    window: EditionWindow, quality: pd.DataFrame, catalogue: pd.DataFrame
) -> pd.DataFrame:
    """period_quality rows with status WARN for published measures inside the edition's
    window: national cells in its months, regional cells in the months of its quarters."""
    published = catalogue.loc[catalogue["is_published"].astype(bool), "measure_code"]
    q = measure_quality(quality)
    q = q[q["subject"].isin(published) & q["status"].eq("WARN")]
    month = q["month"].dt.strftime("%Y-%m")
    quarter_months = {
        (pd.Timestamp(start) + pd.DateOffset(months=k)).strftime("%Y-%m")
        for start in window.quarters
        for k in range(3)
    }
    national = q["geography_code"].eq(NATIONAL_CODE)
    inside = (national & month.isin(window.months)) | (~national & month.isin(quarter_months))
    return q[inside]


def unreviewed_flag_ids(warnings: pd.DataFrame) -> list[str]:
    """The distinct unreviewed flag ids behind WARN rows of period_quality, sorted."""
    column = warnings.get("unreviewed_flag_ids", pd.Series(dtype=str)).fillna("")
    return sorted({f.strip() for ids in column for f in ids.split(",") if f.strip()})


def warning_violations(
    window: EditionWindow, quality: pd.DataFrame, catalogue: pd.DataFrame, reviews_path=None
) -> list[str]:
    """One sentence when published cells in the window carry unreviewed quality flags, naming
    the flags (the first 10) and where to record a decision; else nothing."""
    warnings = window_warnings(window, quality, catalogue)
    if warnings.empty:
        return []
    ids = unreviewed_flag_ids(warnings)
    shown = ", ".join(ids[:10]) + (f" and {len(ids) - 10} more" if len(ids) > 10 else "")
    where = f" in {reviews_path}" if reviews_path else ""
    return [
        f"edition {window.edition}: {len(warnings)} published cell(s) in the window carry "
        f"{len(ids)} unreviewed quality flag(s): {shown} (record publish or suppress{where}; "
        "`probation-pipeline flags --unreviewed` lists them)"
    ]

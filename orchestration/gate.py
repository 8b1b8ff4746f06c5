"""The publication gate: independent checks that a candidate edition respects `period_quality`.

The gate re-reads `period_quality` itself rather than trusting the tables it checks, so an
edition built by a partial run or a backfill of publication assets alone is held to the same
rules: every cell in a SUPPRESS period must be `[x]` in every value column, and every cell must
have a quality status. Violations are returned as readable sentences.
"""

from __future__ import annotations

import pandas as pd

from orchestration.publication import VALUE_COLUMNS


def _cell_status(table: pd.DataFrame, quality: pd.DataFrame, grain: str) -> pd.DataFrame:
    q = quality.rename(columns={"subject": "measure_code"}).copy()
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

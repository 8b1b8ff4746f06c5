"""The publication gate: checks that a candidate edition may be staged.

Two rules, each from its own source:
- no cell the edition publishes may hold it: `publication_cells.holds_edition` (an unreviewed
  quality flag, WARN, on a cell that would publish something other than [z]), read for exactly
  the cells the edition's tables select (`edition_cells`);
- independently of the mart that built the tables, every national and regional cell in a
  period `period_quality` marks SUPPRESS must publish no value and say `suppressed`, and every
  such cell must have a quality status at all.
Violations are returned as readable sentences.
"""

from __future__ import annotations

import pandas as pd

from orchestration.publication.tables import EditionWindow, edition_cells
from schemas.periods import quarter_labels
from schemas.published import GATED_TABLES

VALUE_COLUMNS = ("numerator", "denominator", "performance_pct")


def _suppressed_periods(quality: pd.DataFrame, grain: str) -> pd.DataFrame:
    q = quality[quality["subject_type"].eq("MEASURE")].rename(columns={"subject": "measure_code"})
    if grain == "month":
        q = q.assign(period=q["month"].dt.strftime("%Y-%m"))
    else:
        periods = q["month"].dt.to_period("Q")
        q = q.assign(period=quarter_labels(periods))
    return (
        q.assign(suppress=q["status"].eq("SUPPRESS"))
        .groupby(["measure_code", "geography_code", "period"])["suppress"]
        .any()
        .reset_index()
    )


def gate_violations(tables: dict[str, pd.DataFrame], quality: pd.DataFrame) -> list[str]:
    """Sentences describing every cell of the national and regional tables that publishes a
    value in a period period_quality suppresses, or has no quality status."""
    problems: list[str] = []
    for name, grain in GATED_TABLES.items():
        if name not in tables:
            continue
        checked = tables[name].merge(
            _suppressed_periods(quality, grain),
            on=["measure_code", "geography_code", "period"],
            how="left",
        )
        for r in checked[checked["suppress"].isna()].head(5).itertuples():
            problems.append(
                f"{name}: {r.measure_code} {r.geography_code} {r.period} "
                "has no period_quality status"
            )
        leaked = checked[checked["suppress"].eq(True)]
        for column in VALUE_COLUMNS:
            for r in leaked[leaked[column].notna()].head(5).itertuples():
                problems.append(
                    f"{name}: {r.measure_code} {r.geography_code} {r.period} is in a suppressed "
                    f"period but publishes {column}={getattr(r, column)!r}"
                )
        for r in leaked[leaked["cell_status"].ne("suppressed")].head(5).itertuples():
            problems.append(
                f"{name}: {r.measure_code} {r.geography_code} {r.period} is in a suppressed "
                f"period but its status is {r.cell_status!r}"
            )
    return problems


def window_holds(window: EditionWindow, cells: pd.DataFrame) -> pd.DataFrame:
    """The cells the edition would publish that hold it (publication_cells.holds_edition)."""
    selected = pd.concat(edition_cells(cells, window).values())
    return selected[selected["holds_edition"].astype(bool)]


def unreviewed_flag_ids(holds: pd.DataFrame) -> list[str]:
    """The distinct unreviewed flag ids behind the holding cells, sorted."""
    column = holds.get("unreviewed_flag_ids", pd.Series(dtype=str)).fillna("")
    return sorted({f.strip() for ids in column for f in ids.split(",") if f.strip()})


def warning_violations(window: EditionWindow, cells: pd.DataFrame, reviews_path=None) -> list[str]:
    """One sentence when published cells in the window carry unreviewed quality flags, naming
    the flags (the first 10) and where to record a decision; else nothing."""
    holds = window_holds(window, cells)
    if holds.empty:
        return []
    ids = unreviewed_flag_ids(holds)
    shown = ", ".join(ids[:10]) + (f" and {len(ids) - 10} more" if len(ids) > 10 else "")
    where = f" in {reviews_path}" if reviews_path else ""
    return [
        f"edition {window.edition}: {len(holds)} published cell(s) in the window carry "
        f"{len(ids)} unreviewed quality flag(s): {shown} (record publish or suppress{where}; "
        "`probation-pipeline flags --unreviewed` lists them)"
    ]

"""Revisions: what changed in an edition since the previous published edition, and why.

Every cell of a revisable table that the previous published edition also showed is compared
value by value (counts, percentages, attainment). A cell whose values differ is marked `[r]`
in the table's `revision` column, and one row per changed value goes to the `revisions` table
with the previous and new value and the reason, the first that applies:
- a quality decision: the cell's quality status or shorthand changed (a flag reviewed,
  a period suppressed or released); a cell that was `[x]` only because it was not yet
  complete takes the reasons below, the deliveries that completed it;
- a re-delivered extract: an extract the cell reads, for a month of its period, was loaded
  from a different file revision (the load ledger of each edition is kept in `loads.csv`);
- a late month: months that were not loaded for the previous edition have arrived since
  (later deliveries complete provisional cases);
- otherwise a change of method or reference data.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from orchestration.publication.tables import CIRCUMSTANCE_EXTRACTS
from schemas.published import COUNT, PERCENT, REVISABLE_TABLES, TEXT, TableSpec


def value_columns(spec: TableSpec) -> list[str]:
    return [
        c.name
        for c in spec.columns
        if c.kind in (COUNT, PERCENT) or (c.kind == TEXT and c.symbol_column)
    ]


YEARLY_TABLES = ("attainment_yearly",)


def period_months(period: str, yearly: bool) -> list[str]:
    """The months (YYYY-MM) of a month, a quarter (2024 Q1) or a performance year (2024-25)."""
    if yearly:
        start = int(period[:4])
        return [f"{start + (m < 4)}-{m:02d}" for m in (*range(4, 13), *range(1, 4))]
    if " Q" in period:
        year, quarter = period.split(" Q")
        first = 3 * (int(quarter) - 1) + 1
        return [f"{year}-{m:02d}" for m in range(first, first + 3)]
    return [period]


INCOMPLETE = "not yet complete"  # cell status of a provisional cell with most cases still open


def _shown(value, symbol: str) -> str:
    if value is None or pd.isna(value):
        return symbol or "empty"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _reason(row, extracts, loads_now: dict, loads_before: dict, months_before: set) -> str:
    incomplete = INCOMPLETE in (row.cell_status_now, row.cell_status_before)
    if (row.quality_status_now != row.quality_status_before) or (
        not incomplete
        and row.count_shorthand_now != row.count_shorthand_before
        and "[x]" in (row.count_shorthand_now, row.count_shorthand_before)
    ):
        return f"quality decision: quality status {row.quality_status_before} to " + str(
            row.quality_status_now
        )
    redelivered = [
        f"{extract} {month} ({loads_now[(extract, month)]})"
        for month in period_months(row.period, row.yearly)
        for extract in extracts
        if (extract, month) in loads_now
        and (extract, month) in loads_before
        and loads_now[(extract, month)] != loads_before[(extract, month)]
    ]
    if redelivered:
        return "re-delivered extract: " + ", ".join(redelivered[:3])
    elsewhere = sorted(  # a re-delivery of a later month can complete an earlier month's cases
        f"{extract} {month} ({revision})"
        for (extract, month), revision in loads_now.items()
        if extract in extracts and (extract, month) in loads_before
        and loads_before[(extract, month)] != revision
    )  # fmt: skip
    if elsewhere:
        return "re-delivered extract: " + ", ".join(elsewhere[:3])
    late = sorted({m for _, m in loads_now} - months_before)
    if late:
        return "late month: data for " + ", ".join(late[:3]) + " arrived since"
    return "change of method or reference data"


def _ledger(loads: pd.DataFrame | None) -> dict:
    if loads is None or loads.empty:
        return {}
    return {
        (e, m): f"revision {r}, SHA-256 {h[:12]}"
        for e, m, r, h in zip(
            loads["extract"],
            loads["month_key"],
            loads["source_revision"],
            loads["source_sha256"],
            strict=True,
        )
    }


def compare(
    tables: dict[str, pd.DataFrame],
    previous: dict[str, pd.DataFrame] | None,
    loads_now: pd.DataFrame,
    loads_before: pd.DataFrame | None,
    sources: dict[str, list[str]],
    specs: dict[str, TableSpec],
) -> tuple[dict[str, pd.DataFrame], pd.DataFrame]:
    """(the tables with their `revision` column set, the revisions rows)."""
    now_ledger, before_ledger = _ledger(loads_now), _ledger(loads_before)
    months_before = {m for _, m in before_ledger}
    rows, out = [], {}
    for name, table in tables.items():
        spec = specs[name]
        if name not in REVISABLE_TABLES or previous is None or name not in previous:
            out[name] = table
            continue
        key, values = list(spec.key), value_columns(spec)
        old = previous[name]
        extra = [
            c
            for c in ("count_shorthand", "rate_shorthand", "quality_status", "cell_status")
            if c in table and c in old
        ]
        merged = table.reset_index().merge(
            old[key + values + extra], on=key, how="inner", suffixes=("_now", "_before")
        )
        revised_index = set()
        for column in values:
            now, before = merged[f"{column}_now"], merged[f"{column}_before"]
            both_missing = now.isna() & before.isna()
            differs = ~both_missing & ~((now == before).fillna(False))
            for row in merged[differs].itertuples(index=False):
                record = row._asdict()
                period = record["period"]
                subject = (
                    record.get("measure_code") or f"{record['checkpoint']} {record['status_code']}"
                )
                group = (
                    record.get("geography_code") or f"{record['breakdown']} {record['group_code']}"
                )
                extracts = sources.get(subject.split(" ")[0], []) or [
                    CIRCUMSTANCE_EXTRACTS.get(name, "")
                ]
                symbol = (
                    "rate_shorthand"
                    if column.endswith("_pct") or column == "attainment"
                    else "count_shorthand"
                )
                rows.append(
                    {
                        "table": name,
                        "subject": subject,
                        "group": group,
                        "period": period,
                        "column": column,
                        "previous_value": _shown(
                            record[f"{column}_before"], record.get(f"{symbol}_before", "")
                        ),
                        "new_value": _shown(
                            record[f"{column}_now"], record.get(f"{symbol}_now", "")
                        ),
                        "reason": _reason(
                            _Row(record, period, name in YEARLY_TABLES),
                            extracts,
                            now_ledger,
                            before_ledger,
                            months_before,
                        ),
                    }
                )
                revised_index.add(record["index"])
        marked = table.copy()
        marked["revision"] = ["[r]" if i in revised_index else "" for i in marked.index]
        out[name] = marked
    revisions = pd.DataFrame(
        rows,
        columns=[
            "table",
            "subject",
            "group",
            "period",
            "column",
            "previous_value",
            "new_value",
            "reason",
        ],  # fmt: skip
    )
    return out, revisions


class _Row:
    """The fields `_reason` reads, from a merged record."""

    def __init__(self, record: dict, period: str, yearly: bool):
        self.period = period
        self.yearly = yearly
        self.quality_status_now = record.get("quality_status_now")
        self.quality_status_before = record.get("quality_status_before")
        self.count_shorthand_now = record.get("count_shorthand_now", "")
        self.count_shorthand_before = record.get("count_shorthand_before", "")
        self.cell_status_now = record.get("cell_status_now")
        self.cell_status_before = record.get("cell_status_before")


def read_published_tables(folder: Path, names) -> dict[str, pd.DataFrame]:
    return {
        name: pd.read_parquet(folder / "parquet" / f"{name}.parquet")
        for name in names
        if (folder / "parquet" / f"{name}.parquet").exists()
    }

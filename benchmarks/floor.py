"""The floor: one DuckDB SQL script (floor.sql) over the landing files, for the benchmark.

    python benchmarks/floor.py --landing DIR --start YYYY-MM --end YYYY-MM [--warehouse DUCKDB]

It covers the whole measure catalogue: every case-level measure (SL004 to SL040, CASE_MEASURES)
and every delivered return, by region and month, computed straight from the landing CSV files by
rules written from docs/methodology.md#landing-contract-docs/methodology.md#measures: the physical
least any implementation must do for them (read each
extract's newest deliveries once, apply the row rules, keep each key's latest state, join and
count). It repeats no contract check. `compare_with_warehouse` checks its cells against the
pipeline's `measure_monthly`.
"""

from __future__ import annotations

import argparse
import re
import sys
import time
from pathlib import Path

import duckdb
import pandas as pd

SCRIPT = Path(__file__).with_name("floor.sql")
CALENDAR = Path(__file__).resolve().parents[1] / "dbt_project" / "seeds" / "business_calendar.csv"
EXTRACTS = (
    "events",
    "requirements",
    "persons",
    "contacts",
    "sentence_plans",
    "upw_sessions",
    "accommodation_checks",
    "employment_checks",
    "recalls",
    "parole_reports",
    "handovers",
    "measure_returns",
)
CASE_MEASURES = (
    "SL004",
    "SL005",
    "SL006",
    "SL007",
    "SL010",
    "SL011",
    "SL012",
    "SL013",
    "SL014",
    "SL015A",
    "SL015B",
    "SL016",
    "SL017A",
    "SL017B",
    "SL022",
    "SL027",
    "SL028",
    "SL029",
    "SL033",
    "SL040",
)


def _literal(text: str) -> str:
    return "'" + str(text).replace("'", "''") + "'"


def newest_deliveries(landing: Path, extract: str, start: str, end: str) -> list[Path]:
    """The highest revision of each month in [start, end] delivered as CSV."""
    pattern = re.compile(rf"^{extract}_(\d{{4}}-\d{{2}})(?:_r(\d+))?\.csv$")
    newest: dict[str, tuple[int, Path]] = {}
    for path in (landing / extract).iterdir():
        match = pattern.match(path.name)
        if match and start <= match[1] <= end:
            revision = int(match[2] or 1)
            if match[1] not in newest or revision > newest[match[1]][0]:
                newest[match[1]] = (revision, path)
    return [newest[month][1] for month in sorted(newest)]


def run_floor(
    landing: Path, start: str, end: str, calendar_csv: Path = CALENDAR
) -> tuple[pd.DataFrame, float]:
    """(cells, seconds): measure_code, region_code, month, numerator, denominator."""
    began = time.perf_counter()
    values = {
        name: "["
        + ", ".join(_literal(p) for p in newest_deliveries(landing, name, start, end))
        + "]"
        for name in EXTRACTS
    }
    values.update(calendar=_literal(calendar_csv), start=_literal(start), end=_literal(end))
    script = SCRIPT.read_text()
    for name, value in values.items():
        script = script.replace("{" + name + "}", value)
    with duckdb.connect() as con:
        con.execute(script)
        cells = con.sql("select * from cells order by all").df()
    return cells, time.perf_counter() - began


def compare_with_warehouse(cells: pd.DataFrame, warehouse: Path) -> tuple[int, int, pd.DataFrame]:
    """(cells compared, cells mismatched, the mismatches) against the pipeline's regional
    monthly figures (measure_monthly, cells with cases) for the measures the floor computes."""
    codes = sorted(set(cells["measure_code"]) | set(CASE_MEASURES))
    with duckdb.connect(str(warehouse), read_only=True) as con:
        pipeline = con.execute(
            """
            select measure_code, geography_code as region_code, strftime(month, '%Y-%m') as month,
                numerator, denominator
            from measure_monthly
            where geography_level = 'REGION' and denominator > 0
              and measure_code in (select unnest($codes))
              and strftime(month, '%Y-%m') between $first and $last
            """,
            {"codes": codes, "first": cells["month"].min(), "last": cells["month"].max()},
        ).df()
    keys = ["measure_code", "region_code", "month"]
    floor = cells[cells["denominator"] > 0]
    both = floor.merge(pipeline, on=keys, how="outer", suffixes=("_floor", "_pipeline"),
                       indicator=True)  # fmt: skip
    differs = (
        (both["_merge"] != "both")
        | (both["numerator_floor"] != both["numerator_pipeline"])
        | (both["denominator_floor"] != both["denominator_pipeline"])
    )
    return len(both), int(differs.sum()), both[differs].reset_index(drop=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--landing", type=Path, required=True)
    parser.add_argument("--start", required=True)
    parser.add_argument("--end", required=True)
    parser.add_argument("--warehouse", type=Path, help="compare with this pipeline warehouse")
    args = parser.parse_args()
    cells, seconds = run_floor(args.landing, args.start, args.end)
    print(f"floor: {len(cells):,} cells in {seconds:.1f}s")
    if args.warehouse:
        compared, mismatched, mismatches = compare_with_warehouse(cells, args.warehouse)
        print(f"{compared:,} cells compared with the pipeline, {mismatched} mismatched")
        if mismatched:
            print(mismatches.head(20).to_string())
    return 0


if __name__ == "__main__":
    sys.exit(main())

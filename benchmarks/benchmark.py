"""Benchmark: generate demo landing data and run the whole pipeline, printing figures.

    python benchmarks/benchmark.py [--scale 1.0] [--start 2023-01] [--end 2024-03] [--keep DIR]

Prints the wall time and peak memory of each stage and the row counts of the main tables. The
demo data are generated in a child process (skipped when `--keep DIR` already holds a landing
zone), so the pipeline's own peak RSS is measured apart from the generator's; dbt runs as a
child of the pipeline and is reported as the children's peak. Speed targets live here, not in
the test suite.
"""

from __future__ import annotations

import argparse
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import duckdb

from orchestration.runner import run_pipeline
from orchestration.settings import Settings

TABLES = ("measure_monthly", "measure_quarterly", "period_quality", "stg_events", "stg_contacts")


def peak_rss_mb() -> tuple[float, float]:
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    return own, children


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=0.1)
    parser.add_argument("--start", default="2023-01")
    parser.add_argument("--end", default="2024-03")
    parser.add_argument("--keep", type=Path, help="folder to keep the data in")
    args = parser.parse_args()

    root = args.keep or Path(tempfile.mkdtemp(prefix="probation-bench-"))
    settings = Settings.from_env(root / "landing", root / "data")
    try:
        if not (settings.landing_dir / "events").is_dir():
            began = time.perf_counter()
            subprocess.run(
                [
                    sys.executable,
                    "-m",
                    "orchestration.cli",
                    "demo-data",
                    "--scale",
                    str(args.scale),
                    "--start",
                    args.start,
                    "--end",
                    args.end,
                    "--out",
                    str(settings.landing_dir),
                ],
                check=True,
            )
            generated = time.perf_counter() - began
            print(
                f"demo data   scale {args.scale} {args.start}..{args.end}: {generated:7.1f}s, "
                f"generator peak RSS {peak_rss_mb()[1]:,.0f} MB"
            )

        began = time.perf_counter()
        result = run_pipeline(
            settings, start=args.start, end=args.end, quiet=True, log_level="CRITICAL"
        )
        ran = time.perf_counter() - began
        own, children = peak_rss_mb()
        print(
            f"pipeline    {len(result.months)} months: {ran:7.1f}s, peak RSS {own:,.0f} MB "
            f"(pipeline process) / {children:,.0f} MB (largest child: generator or dbt)"
        )
        if result.failures:
            print("failures:", *result.failures, sep="\n  ")
            return 1
        with duckdb.connect(str(settings.warehouse_path), read_only=True) as con:
            for table in TABLES:
                count = con.execute(f"select count(*) from {table}").fetchone()[0]
                print(f"  {table:<20} {count:>12,} rows")
        state = "held: " + "; ".join(result.held) if result.held else "built"
        print(f"edition {result.edition}: {state}")
        return 0
    finally:
        if not args.keep:
            shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())

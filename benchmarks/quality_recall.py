"""Benchmark: how well the data-quality rules find injected defects, and how often they cry wolf.

    python benchmarks/quality_recall.py [--scale 1.0] [--start 2022-04] [--end 2024-03]
        [--workers N] [--pipeline] [--keep DIR]

Generates demo landing data (no built-in unification defects unless the range covers 2021)
with a fixed list of defects of every kind in different regions and months (`DEFECTS`, placed
by offset from --start so any range of 24 months works), loads every extract-month with the
real ingestion code (profiles included), runs the whole-history rules (`flags_from_files`) and
prints:
- recall: the share of injected region-months flagged by a rule of the expected kind (and by
  any rule);
- false-flag rate: the share of clean extract x region x month cells flagged by any rule,
  counting only cells after the COVID and unification periods (2020-04 to 2021-06; cells in
  those periods are reported separately), overall and among cells with enough history to be
  judged;
- timings of each stage.

By default extract-months are loaded directly with `load_partition` in `--workers` processes
(the pipeline's own ingestion code, without Dagster's per-run overhead). `--pipeline` runs the
whole pipeline instead (Dagster ingest assets and dbt, quality flags included), which adds the
measure_jump rule on measure_monthly to the figures. Speed targets live here, not in the tests.
"""

from __future__ import annotations

import argparse
import csv
import os
import resource
import shutil
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import pandas as pd

from orchestration.demo import DefectSpec, generate_landing
from orchestration.ingest.extract_month import load_partition
from orchestration.ingest.landing import delivered_months
from orchestration.partitions import month_range
from orchestration.settings import DBT_PROJECT_DIR, NATIONAL_CODE, Settings
from orchestration.warehouse.quality import flags_from_files, read_profiles
from schemas.contracts import MONTHLY_EXTRACTS
from schemas.quality import enrich_profiles, load_thresholds

# (kind, extract, region, month offset from --start, share): every kind, 12 regions, 16 months.
DEFECTS = (
    ("drop_rows", "contacts", "N07", 6, 0.4),
    ("drop_rows", "sentence_plans", "N55", 7, 0.5),
    ("duplicate_rows", "contacts", "N52", 8, 0.05),
    ("duplicate_rows", "upw_sessions", "N03", 9, 0.05),
    ("shift_dates", "accommodation_checks", "N51", 10, 0.1),
    ("shift_dates", "recalls", "N58", 11, 0.1),
    ("drop_region", "events", "N53", 12, None),
    ("drop_region", "handovers", "N50", 13, None),
    ("null_spike", "requirements", "N59", 14, 0.3),
    ("null_spike", "persons", "*", 15, 0.3),
    ("drop_rows", "contacts", "N57", 16, 0.35),
    ("null_spike", "contacts", "N56", 17, 0.3),
    ("shift_dates", "contacts", "N54", 18, 0.05),
    ("duplicate_rows", "employment_checks", "N57", 19, 0.1),
    ("drop_rows", "events", "N03", 20, 0.4),
    ("drop_region", "parole_reports", "N07", 21, None),
)
EXPECTED_RULE = {
    "drop_rows": "row_count",
    "duplicate_rows": "duplicate_keys",
    "shift_dates": "outside_partition",
    "drop_region": "region_missing",
    "null_spike": "null_required",
}
DISTURBED = ("2020-04", "2021-06")  # COVID and unification: reported separately


def defects_for(start: str, end: str) -> list[DefectSpec]:
    months = month_range(start, end)
    specs = []
    for kind, extract, region, offset, share in DEFECTS:
        if offset < len(months):
            specs.append(DefectSpec(kind, extract, region, months[offset], share))
    return specs


def measure_sources() -> dict[str, set[str]]:
    """Which extracts each measure reads (the catalogue seed's source_extracts)."""
    with (DBT_PROJECT_DIR / "seeds" / "measure_catalogue.csv").open() as handle:
        return {
            r["measure_code"]: {e for e in r["source_extracts"].split(";") if e}
            for r in csv.DictReader(handle)
        }


def peak_rss_mb() -> tuple[float, float]:
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    return own, children


def _load(args: tuple[Settings, str, str]) -> tuple[str, str, int, float]:
    settings, extract, month = args
    began = time.perf_counter()
    report = load_partition(settings, extract, month)
    return extract, month, report.rows_delivered, time.perf_counter() - began


def ingest(settings: Settings, workers: int) -> pd.DataFrame:
    months = delivered_months(settings.landing_dir, MONTHLY_EXTRACTS)
    jobs = [(settings, e, m) for m in months for e in MONTHLY_EXTRACTS]
    jobs.sort(key=lambda j: j[1] != "contacts")  # the biggest files first
    with ProcessPoolExecutor(max_workers=workers) as pool:
        done = list(pool.map(_load, jobs))
    return pd.DataFrame(done, columns=["extract", "month", "rows", "seconds"])


def evaluate(settings: Settings, flags: pd.DataFrame, specs: list[DefectSpec]) -> dict:
    thresholds = load_thresholds()
    profiles = enrich_profiles(read_profiles(settings), thresholds)
    extract_flags = flags[flags["subject_type"] == "EXTRACT"].copy()
    extract_flags["ym"] = pd.to_datetime(extract_flags["month"]).dt.strftime("%Y-%m")
    rules_at = extract_flags.groupby(["subject", "geography_code", "ym"])["rule"].apply(set)

    injected = {}
    for spec in specs:
        geography = spec.region or NATIONAL_CODE
        injected[(spec.extract, geography, spec.month)] = spec
    rows = []
    for key, spec in injected.items():
        found = rules_at.get(key, set())
        rows.append(
            {
                "defect": spec.label,
                "expected": EXPECTED_RULE[spec.kind],
                "found": ", ".join(sorted(found)) or "-",
                "hit": EXPECTED_RULE[spec.kind] in found,
                "any": bool(found),
            }
        )
    recall = pd.DataFrame(rows)

    cells = profiles[["extract", "region_code", "month", "history_months"]].copy()
    cells["injected"] = [
        (e, r, m) in injected
        for e, r, m in zip(cells["extract"], cells["region_code"], cells["month"], strict=True)
    ]
    cells["flagged"] = [
        (e, r, m) in rules_at.index
        for e, r, m in zip(cells["extract"], cells["region_code"], cells["month"], strict=True)
    ]
    cells["disturbed"] = cells["month"].between(*DISTURBED)
    clean = cells[~cells["injected"]]
    judged = clean["history_months"] >= thresholds["history"]["min_months"]
    return {
        "recall": recall,
        "clean": clean[~clean["disturbed"]],
        "judged": clean[~clean["disturbed"] & judged],
        "disturbed": clean[clean["disturbed"]],
        "false_flags": extract_flags[
            [
                (s, g, m) not in injected and not (DISTURBED[0] <= m <= DISTURBED[1])
                for s, g, m in zip(
                    extract_flags["subject"],
                    extract_flags["geography_code"],
                    extract_flags["ym"],
                    strict=True,
                )
            ]
        ],
        "measure_flags": flags[flags["subject_type"] == "MEASURE"],
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--start", default="2022-04")
    parser.add_argument("--end", default="2024-03")
    parser.add_argument("--seed", type=int, default=20190401)
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--pipeline", action="store_true", help="run the whole pipeline")
    parser.add_argument("--keep", type=Path, help="folder to keep the data in")
    args = parser.parse_args()

    root = args.keep or Path(tempfile.mkdtemp(prefix="probation-quality-"))
    settings = Settings.from_env(root / "landing", root / "data")
    specs = defects_for(args.start, args.end)
    try:
        began = time.perf_counter()
        summary = generate_landing(
            settings.landing_dir,
            start=args.start,
            end=args.end,
            scale=args.scale,
            seed=args.seed,
            inject=specs,
        )
        rows = sum(summary.get("rows", {}).values())
        print(
            f"demo data   scale {args.scale} {args.start}..{args.end}: "
            f"{time.perf_counter() - began:7.1f}s, {rows:,} rows, {len(specs)} injected defects, "
            f"peak RSS {peak_rss_mb()[0]:,.0f} MB"
        )

        began = time.perf_counter()
        if args.pipeline:
            from orchestration.running.runner import run_pipeline

            result = run_pipeline(settings, quiet=True, log_level="CRITICAL")
            if result.failures:
                print("failures:", *result.failures, sep="\n  ")
                return 1
            label = f"pipeline    {len(result.months)} months (Dagster ingest, dbt, flags)"
        else:
            loads = ingest(settings, args.workers)
            label = (
                f"ingestion   {len(loads)} extract-months, {args.workers} worker(s), "
                f"{loads['seconds'].sum():,.0f}s of work, slowest {loads['seconds'].max():.1f}s"
            )
        print(f"{label}: {time.perf_counter() - began:7.1f}s, peak RSS {peak_rss_mb()[1]:,.0f} MB")

        began = time.perf_counter()
        flags = flags_from_files(settings)
        print(f"flags       whole history: {time.perf_counter() - began:7.1f}s, {len(flags)} flags")

        found = evaluate(settings, flags, specs)
        recall = found["recall"]
        print("\ninjected defects:")
        with pd.option_context("display.width", 200, "display.max_colwidth", 60):
            print(recall.to_string(index=False))
        print(
            f"\nrecall (expected rule): {recall['hit'].mean():.1%} "
            f"({int(recall['hit'].sum())} of {len(recall)}); "
            f"by any rule: {recall['any'].mean():.1%}"
        )
        for name, label in (("clean", "all clean cells"), ("judged", "with enough history")):
            cells = found[name]
            rate = cells["flagged"].mean() if len(cells) else float("nan")
            print(
                f"false-flag rate, {label}: {rate:.2%} "
                f"({int(cells['flagged'].sum())} of {len(cells):,} extract x region x month cells)"
            )
        disturbed = found["disturbed"]
        if len(disturbed):
            print(
                f"cells in {DISTURBED[0]}..{DISTURBED[1]} (COVID, unification) flagged: "
                f"{int(disturbed['flagged'].sum())} of {len(disturbed):,}"
            )
        if len(found["false_flags"]):
            print("\nfalse flags:")
            for r in found["false_flags"].itertuples():
                print(f"  {r.flag_id}: {r.detail}")
        measure_flags = found["measure_flags"]
        if args.pipeline:
            sources = measure_sources()
            damaged = {(s.extract, s.region or NATIONAL_CODE, s.month) for s in specs}
            explained = [
                any(
                    (e, g, f"{pd.Timestamp(r.month):%Y-%m}") in damaged
                    for e in sources.get(r.subject, ())
                    for g in ({r.geography_code} if r.geography_code != NATIONAL_CODE
                              else {NATIONAL_CODE, *(s.region for s in specs if s.region)})
                )
                for r in measure_flags.itertuples()
            ]  # fmt: skip
            print(
                f"\nmeasure_jump flags: {len(measure_flags)} ({sum(explained)} where an extract "
                f"the measure reads was damaged in that region and month, "
                f"{len(explained) - sum(explained)} elsewhere)"
            )
            for r, why in zip(measure_flags.itertuples(), explained, strict=True):
                print(f"  {r.flag_id}{'' if why else ' (no injected cause)'}: {r.detail}")
        return 0
    finally:
        if not args.keep:
            shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())

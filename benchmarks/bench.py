"""`make bench`: the pipeline's speed and memory at national scale, against a floor and a peer.

    python benchmarks/bench.py [--scale 1.0] [--start 2024-01] [--end 2025-03]
                               [--cache data/bench] [--json PATH] [--no-floor] [--no-peer]

1. Generates demo landing data for START..END and for START..END+1 (cached in `--cache`, so a
   second benchmark skips it). The files of the second that are not in the first are what
   lands on the night the sixteenth month arrives: that month and the re-deliveries due by then.
2. Runs the whole pipeline (`run_pipeline`, in process, a throwaway Dagster instance) on a
   fresh data folder over START..END, then delivers the new files and runs it again.
3. Runs the floor (`floor.py`: one DuckDB SQL script computing every measure straight from the
   landing files) and the pandas peer (`pandas_peer.py`: SL004, SL005, SL007, SL014) over the
   same START..END files, checks their cells against the pipeline's, and times them.
4. Prints, per stage, wall time, rows per second and peak memory (the resident memory of this
   process and its children, sampled every 50 ms), the ratios to the floor and the peer, and
   writes it all as JSON (`<cache>/bench.json` unless `--json`).

Stages are read from the Dagster event log (step start and end) and from the ingest steps'
own phase timings: `contract checks and loading` (reading, contract, row rules, raw Parquet),
`quality profiles and checks` (the month's profile and the partitioned quality checks), `dbt`
(the one dbt build, quality flags included), `publication` (tables, edition files and their
checks), `snapshot`, and
`orchestration` (what is left of the run's wall time: Dagster planning, run start and end).
Speed is reported here, never asserted in tests.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import threading
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import dagster as dg
import duckdb

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "benchmarks")]

import orchestration.defs.ingest as ingest_defs_module  # noqa: E402
import orchestration.ingest.extract_month as ingest_module  # noqa: E402
from orchestration.partitions import month_range  # noqa: E402
from orchestration.running.run_report import step_windows  # noqa: E402
from orchestration.running.runner import run_pipeline  # noqa: E402
from orchestration.settings import Settings  # noqa: E402

warnings.filterwarnings("ignore", category=dg.PreviewWarning)  # Dagster's own notices
CALENDAR = ROOT / "dbt_project" / "seeds" / "business_calendar.csv"
STAGE_OF_STEP = {
    "warehouse_models": "dbt",
    "publication_tables": "publication",
    "edition_files": "publication",
    "analyst_snapshot": "snapshot",
}
STAGES = (
    "generation",
    "contract checks and loading",
    "quality profiles and checks",
    "dbt",
    "publication",
    "snapshot",
    "orchestration",
)


# ---------------------------------------------------------------------------------------------
# memory: resident set of this process and every descendant, sampled in the background


def _tree_rss_bytes(pid: int) -> int:
    total, stack = 0, [pid]
    while stack:
        current = stack.pop()
        try:
            with open(f"/proc/{current}/statm") as handle:
                total += int(handle.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
            for task in os.listdir(f"/proc/{current}/task"):
                with open(f"/proc/{current}/task/{task}/children") as handle:
                    stack += [int(child) for child in handle.read().split()]
        except (OSError, ValueError):
            continue
    return total


class MemorySampler:
    """Samples the process tree's resident memory; `peak(start, end)` is the highest sample in a
    time window (seconds from time.time())."""

    def __init__(self, interval: float = 0.05):
        self.interval, self.samples = interval, []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self):
        while not self._stop.is_set():
            self.samples.append((time.time(), _tree_rss_bytes(os.getpid())))
            self._stop.wait(self.interval)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()

    def peak(self, start: float, end: float) -> float:
        values = [rss for at, rss in self.samples if start <= at <= end + self.interval]
        return max(values, default=0) / 2**20


# ---------------------------------------------------------------------------------------------
# stages of a pipeline run


@dataclass
class Stage:
    seconds: float = 0.0
    rows: int = 0
    peak_mb: float = 0.0
    windows: list[tuple[float, float]] = field(default_factory=list)

    def as_dict(self) -> dict:
        return {
            "seconds": round(self.seconds, 2),
            "rows": self.rows,
            "rows_per_second": round(self.rows / self.seconds) if self.seconds else None,
            "peak_mb": round(self.peak_mb),
        }


def _step_windows(instance: dg.DagsterInstance) -> list[tuple[str, float, float]]:
    """(step key, start, end) of every step of every run in the instance."""
    return step_windows(instance, [run.run_id for run in instance.get_runs()])


def _materializations(instance: dg.DagsterInstance, first: str) -> list[dict]:
    """The metadata of every materialisation of assets whose key starts with `first`."""
    reports = []
    for run in instance.get_runs():
        materialized = dg.DagsterEventType.ASSET_MATERIALIZATION
        for entry in instance.all_logs(run.run_id, of_type=materialized):
            materialization = entry.dagster_event.event_specific_data.materialization
            if materialization.asset_key.path[0] != first:
                continue
            reports.append({k: v.value for k, v in materialization.metadata.items()})
    return reports


class _Timer:
    """Accumulates the time spent in the functions it wraps (the ingest steps' quality profile
    and partition checks run inside the loading step, so they are timed from within)."""

    seconds = 0.0

    def wrap(self, module, name: str) -> None:
        function = getattr(module, name)

        def timed(*args, **kwargs):
            began = time.perf_counter()
            try:
                return function(*args, **kwargs)
            finally:
                self.seconds += time.perf_counter() - began

        setattr(module, name, timed)


PROFILE_TIMER = _Timer()
PROFILE_TIMER.wrap(ingest_module, "profile_partition")
PROFILE_TIMER.wrap(ingest_defs_module, "months_checks")


def _table_rows(settings: Settings, sql: str) -> int:
    with duckdb.connect(str(settings.warehouse_path), read_only=True) as con:
        return int(con.execute(sql).fetchone()[0])


def run_stages(settings: Settings, sampler: MemorySampler, start: str, end: str) -> dict:
    """Run the pipeline over [start, end] and account its wall time to the stages."""
    instance = dg.DagsterInstance.ephemeral()
    PROFILE_TIMER.seconds = 0.0
    began = time.time()
    summary = run_pipeline(
        settings, start=start, end=end, instance=instance, quiet=True, log_level="CRITICAL"
    )
    ended = time.time()
    if summary.failures:
        raise SystemExit("pipeline failed: " + "; ".join(summary.failures))

    stages = {name: Stage() for name in STAGES if name != "generation"}
    loading = stages["contract checks and loading"]
    profiling = stages["quality profiles and checks"]
    steps: dict[str, float] = {}
    for step, at, until in _step_windows(instance):
        steps[step] = round(steps.get(step, 0.0) + until - at, 2)
        if step.startswith("ingest_month"):
            loading.windows.append((at, until))
            continue
        name = next((s for op, s in STAGE_OF_STEP.items() if step.startswith(op)), "orchestration")
        stages[name].seconds += until - at
        stages[name].windows.append((at, until))
    reports = _materializations(instance, "raw")
    step_seconds = sum(until - at for at, until in loading.windows)
    profile_seconds = PROFILE_TIMER.seconds
    profiling.seconds = profile_seconds
    loading.seconds = step_seconds - profile_seconds
    profiling.windows = loading.windows
    delivered = sum(int(r["rows_delivered"]) for r in reports if "rows_delivered" in r)
    loading.rows = profiling.rows = delivered
    stages["orchestration"].seconds = (ended - began) - sum(
        s.seconds for n, s in stages.items() if n != "orchestration"
    )
    stages["orchestration"].windows = [(began, ended)]
    ledger = str(settings.raw_dir / "loads" / "*.parquet").replace("'", "''")
    stages["dbt"].rows = _table_rows(settings, f"select sum(rows_loaded) from '{ledger}'")
    stages["publication"].rows = _table_rows(settings, "select count(*) from publication_cells")
    stages["snapshot"].rows = sum(
        _count(settings.analytics_path, table) for table in _analytics_tables(settings)
    )
    for stage in stages.values():
        stage.peak_mb = max((sampler.peak(a, b) for a, b in stage.windows), default=0.0)
    return {
        "seconds": round(ended - began, 2),
        "peak_mb": round(sampler.peak(began, ended)),
        "extract_months_loaded": len(summary.loaded),
        "rows_delivered": delivered,
        "edition": summary.edition,
        "held": summary.held,
        "stages": {name: stage.as_dict() for name, stage in stages.items()},
        "steps": steps,
        "edition_files_seconds": {
            key: report[key]
            for report in _materializations(instance, "edition_files")
            for key in ("workbook_xlsx_seconds", "workbook_ods_seconds", "bulletin_seconds")
        },
    }


def _analytics_tables(settings: Settings) -> list[str]:
    with duckdb.connect(str(settings.analytics_path), read_only=True) as con:
        return [r[0] for r in con.execute("select table_name from duckdb_tables()").fetchall()]


def _count(database: Path, table: str) -> int:
    with duckdb.connect(str(database), read_only=True) as con:
        return int(con.execute(f'select count(*) from "{table}"').fetchone()[0])


# ---------------------------------------------------------------------------------------------
# landing data


def _next_month(month: str) -> str:
    year, number = map(int, month.split("-"))
    return f"{year + number // 12}-{number % 12 + 1:02d}"


def generate(out: Path, scale: float, start: str, end: str, sampler: MemorySampler) -> dict:
    """Demo landing data for [start, end] in `out`, unless a finished copy is already there."""
    done = out / ".generated.json"
    if done.exists():
        return {**json.loads(done.read_text()), "cached": True}
    shutil.rmtree(out, ignore_errors=True)
    began = time.time()
    command = [sys.executable, "-m", "orchestration.cli", "demo-data", "--scale", str(scale)]
    command += ["--start", start, "--end", end, "--out", str(out)]
    subprocess.run(command, check=True, cwd=ROOT, stdout=subprocess.DEVNULL)
    ended = time.time()
    rows = sum(
        sum(1 for _ in path.open("rb")) - 1 for path in out.glob("*/*.csv") if path.is_file()
    )
    figures = {
        "seconds": round(ended - began, 2),
        "rows": rows,
        "peak_mb": round(sampler.peak(began, ended)),
    }
    done.write_text(json.dumps(figures))
    return {**figures, "cached": False}


def link_tree(source: Path, target: Path, only: set[Path] | None = None) -> list[Path]:
    """Hard-link the files of `source` into `target` (all, or the relative paths in `only`),
    keeping modification times (they are extraction times when a control file is missing)."""
    linked = []
    for path in sorted(source.rglob("*")):
        relative = path.relative_to(source)
        if not path.is_file() or relative.name.startswith(".") or (only and relative not in only):
            continue
        destination = target / relative
        destination.parent.mkdir(parents=True, exist_ok=True)
        if not destination.exists():
            os.link(path, destination)
            linked.append(relative)
    return linked


def new_files(before: Path, after: Path) -> set[Path]:
    """Files in `after` that `before` lacks; the files both hold must be identical."""

    def delivered(root: Path) -> set[Path]:  # the generator's own record (.generated.json) aside
        return {
            p.relative_to(root)
            for p in root.rglob("*")
            if p.is_file() and not p.relative_to(root).name.startswith(".")
        }

    old, new = delivered(before), delivered(after)
    for relative in old & new:
        if (before / relative).stat().st_size != (after / relative).stat().st_size:
            raise SystemExit(f"{relative}: differs between the two generations")
    return {r for r in new - old if not r.name.startswith(".")}


# ---------------------------------------------------------------------------------------------
# report


def _rate(rows: int, seconds: float) -> str:
    return f"{rows / seconds:>12,.0f}" if seconds and rows else f"{'':>12}"


def print_table(figures: dict) -> None:
    first, second = figures["first_run"], figures["new_month_run"]
    generation = figures["generation"]
    print()
    print(f"{'stage':<30}{'first run':>10}{'rows/s':>12}{'peak MB':>9}"
          f"{'new month':>12}{'rows/s':>12}{'peak MB':>9}")  # fmt: skip
    gen = generation["first"]
    print(
        f"{'generation':<30}{gen['seconds']:>9.1f}s{_rate(gen['rows'], gen['seconds'])}"
        f"{gen['peak_mb']:>9,}{'' if not gen.get('cached') else '  (cached)'}"
    )
    for name in STAGES[1:]:
        a, b = first["stages"][name], second["stages"][name]
        print(
            f"{name:<30}{a['seconds']:>9.1f}s{_rate(a['rows'], a['seconds'])}{a['peak_mb']:>9,}"
            f"{b['seconds']:>11.1f}s{_rate(b['rows'], b['seconds'])}{b['peak_mb']:>9,}"
        )
    print(
        f"{'whole pipeline':<30}{first['seconds']:>9.1f}s"
        f"{_rate(first['rows_delivered'], first['seconds'])}{first['peak_mb']:>9,}"
        f"{second['seconds']:>11.1f}s"
        f"{_rate(second['rows_delivered'], second['seconds'])}{second['peak_mb']:>9,}"
    )
    print(
        f"\nfirst run: {first['extract_months_loaded']} extract-months, "
        f"{first['rows_delivered']:,} rows; new month: {second['extract_months_loaded']} "
        f"extract-months ({figures['delivered_files']} files), {second['rows_delivered']:,} rows"
    )
    for peer in ("floor", "pandas_peer"):
        if peer in figures:
            p = figures[peer]
            print(
                f"{peer.replace('_', ' '):<12} {p['seconds']:7.1f}s, peak {p['peak_mb']:,} MB, "
                f"{p['cells_compared']:,} cells compared with the pipeline, "
                f"{p['cells_mismatched']} mismatched; pipeline / {peer.replace('_', ' ')} = "
                f"{p['ratio']:.2f}"
            )
    print()
    for line in goal_lines(figures):
        print(line)


# The goals of the incremental refresh (a national month in seconds, a first run within a few
# times the floor, memory within a small machine's)
NEW_MONTH_GOAL, NEW_MONTH_STRETCH, FLOOR_RATIO_GOAL, PEAK_MB_GOAL = 30, 15, 3, 4096


def goal_lines(figures: dict) -> list[str]:
    """One line per goal: the figure measured, the goal, met or missed."""
    second, first = figures["new_month_run"], figures["first_run"]
    verdict = {True: "met", False: "missed"}
    lines = [
        f"goal: new month {second['seconds']:.1f} s, under {NEW_MONTH_GOAL} s "
        f"(stretch {NEW_MONTH_STRETCH} s): {verdict[second['seconds'] < NEW_MONTH_GOAL]}"
    ]
    if "floor" in figures:
        ratio = figures["floor"]["ratio"]
        lines.append(
            f"goal: first run {ratio:.2f} times the floor, at most {FLOOR_RATIO_GOAL}: "
            f"{verdict[ratio <= FLOOR_RATIO_GOAL]}"
        )
    peak = max(first["peak_mb"], second["peak_mb"])
    lines.append(f"goal: peak memory {peak:,} MB, under {PEAK_MB_GOAL:,} MB: "
                 f"{verdict[peak < PEAK_MB_GOAL]}")  # fmt: skip
    return lines


def run_peer(name: str, function, landing: Path, args, settings, sampler) -> dict:
    began = time.time()
    cells, seconds = function(landing, args.start, args.end, CALENDAR)
    ended = time.time()
    module = sys.modules[function.__module__]
    compared, mismatched, _ = module.compare_with_warehouse(cells, settings.warehouse_path)
    return {
        "seconds": round(seconds, 2),
        "peak_mb": round(sampler.peak(began, ended)),
        "cells_compared": compared,
        "cells_mismatched": mismatched,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--start", default="2024-01")
    parser.add_argument("--end", default="2025-03")
    parser.add_argument("--cache", type=Path, default=ROOT / "data" / "bench")
    parser.add_argument("--json", type=Path)
    parser.add_argument("--no-floor", action="store_true")
    parser.add_argument("--no-peer", action="store_true")
    args = parser.parse_args()
    month_range(args.start, args.end)  # a bad month is refused before anything is generated
    after = _next_month(args.end)
    cache = args.cache.resolve()
    tag = f"scale{args.scale:g}_{args.start}"
    first_landing = cache / f"landing_{tag}_{args.end}"
    second_landing = cache / f"landing_{tag}_{after}"
    work = cache / "work"

    with MemorySampler() as sampler:
        print(f"Generating scale {args.scale:g} landing data for {args.start}..{after} "
              f"(cached in {cache})", flush=True)  # fmt: skip
        generation = {
            "first": generate(first_landing, args.scale, args.start, args.end, sampler),
            "second": generate(second_landing, args.scale, args.start, after, sampler),
        }
        shutil.rmtree(work, ignore_errors=True)
        settings = Settings.from_env(work / "landing", work / "data")
        link_tree(first_landing, settings.landing_dir)

        print(f"Running the pipeline over {args.start}..{args.end}", flush=True)
        first = run_stages(settings, sampler, args.start, args.end)
        figures = {"generation": generation, "first_run": first}

        if not args.no_floor:
            import floor

            print("Running the floor (one DuckDB SQL script)", flush=True)
            figures["floor"] = run_peer("floor", floor.run_floor, first_landing, args, settings,
                                        sampler)  # fmt: skip
        if not args.no_peer:
            import pandas_peer

            print("Running the pandas peer (SL004, SL005, SL007, SL014)", flush=True)
            figures["pandas_peer"] = run_peer(
                "pandas_peer", pandas_peer.run_peer, first_landing, args, settings, sampler
            )

        delivered = new_files(first_landing, second_landing)
        link_tree(second_landing, settings.landing_dir, delivered)
        figures["delivered_files"] = sum(1 for r in delivered if r.suffix != ".ctl")
        print(f"Delivering {after} and the re-deliveries due by then "
              f"({figures['delivered_files']} files); running again", flush=True)  # fmt: skip
        figures["new_month_run"] = run_stages(settings, sampler, args.start, after)

    for peer in ("floor", "pandas_peer"):
        if peer in figures:
            figures[peer]["ratio"] = first["seconds"] / figures[peer]["seconds"]
    figures["machine"] = {
        "cpus": os.cpu_count(),
        "memory_gb": round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30, 1),
        "python": platform.python_version(),
        "duckdb": duckdb.__version__,
        "platform": platform.platform(),
    }
    figures["arguments"] = {"scale": args.scale, "start": args.start, "end": args.end}
    print_table(figures)
    out = args.json or cache / "bench.json"
    out.write_text(json.dumps(figures, indent=2))
    print(f"\nFigures written to {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""The incremental refresh against a build from scratch (docs/methodology.md#incremental-refresh):
the two refreshes the
property test (tests/test_incremental_refresh.py) compares, and a replay of the demo's
deliveries in the order they arrive.

    python benchmarks/incremental_proof.py [--start 2023-04] [--end 2025-03] [--scale 0.02]
                                           [--work DIR]

The replay generates the demo landing zone for START..END, then delivers its files night by
night in the order of their control files' extraction times (one batch per calendar month of
extraction: what a nightly run finds after each month's deliveries). After each batch it loads
what is new, refreshes incrementally, builds a warehouse from scratch over the same raw files,
and compares every table of the two (`except all` both ways). It prints one line per batch and
exits 1 at the first difference.

Both refreshes run as the `warehouse_models` step does (orchestration/warehouse/incremental.py: the
plan,
the building copy, the dbt command, the swap), with dbt's data tests left out: they check the
data, they do not change it. Loading runs the ingest step's own function per extract-month.
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.compare_outputs import compare  # noqa: E402
from orchestration.ingest.checked_file import ContractBreach  # noqa: E402
from orchestration.ingest.extract_month import load_partition, needs_load  # noqa: E402
from orchestration.ingest.landing import deliveries  # noqa: E402
from orchestration.ingest.reference import load_reference  # noqa: E402
from orchestration.settings import DBT_PROJECT_DIR, Settings  # noqa: E402
from orchestration.warehouse.dbt_project import dbt_executable  # noqa: E402
from orchestration.warehouse.incremental import (  # noqa: E402
    BuildPlan,
    building_path,
    dbt_build_args,
    finish_building,
    plan_build,
    prepare_building,
)
from schemas.contracts import MONTHLY_EXTRACTS  # noqa: E402

WITHOUT_TESTS = ["--exclude-resource-type", "test", "--exclude-resource-type", "unit_test"]


def _env(settings: Settings, extra: dict[str, str]) -> dict[str, str]:
    return {
        **os.environ,
        **settings.dbt_env(),
        **extra,
        "DBT_PROFILES_DIR": str(DBT_PROJECT_DIR),
        "DBT_TARGET_PATH": str(settings.data_dir / "dbt" / "proof"),
        "PROBATION_REVIEWS_FILE": str(settings.data_dir / "quality_reviews.csv"),
    }


def refresh(
    settings: Settings, full_refresh: bool = False, kill_after: float | None = None
) -> BuildPlan:
    """A refresh as the warehouse_models step runs it; with kill_after, dbt is killed (-9)
    that many seconds in, leaving the warehouse as a killed step leaves it."""
    plan = plan_build(settings, full_refresh=full_refresh)
    env = _env(settings, prepare_building(settings, plan))
    command = [dbt_executable(), *dbt_build_args(settings, plan), *WITHOUT_TESTS]
    process = subprocess.Popen(
        command, cwd=DBT_PROJECT_DIR, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
        text=True, start_new_session=True,
    )  # fmt: skip
    if kill_after is not None:
        try:
            process.wait(timeout=kill_after)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
            assert building_path(settings).exists()  # killed part way: never swapped in
            return plan
    output, _ = process.communicate()
    if process.returncode != 0:
        raise RuntimeError(f"dbt failed:\n{output[-4000:]}")
    finish_building(settings, plan)
    return plan


def build_from_scratch(incremental: Settings, scratch: Settings) -> None:
    """A warehouse built from nothing in `scratch`, reading `incremental`'s raw files."""
    shutil.rmtree(scratch.data_dir / "building", ignore_errors=True)
    scratch.warehouse_path.unlink(missing_ok=True)
    scratch.data_dir.mkdir(parents=True, exist_ok=True)
    if not (scratch.data_dir / "raw").exists():
        (scratch.data_dir / "raw").symlink_to(incremental.raw_dir, target_is_directory=True)
    refresh(scratch, full_refresh=True)


def differences(incremental: Settings, scratch: Settings) -> list[str]:
    """Every warehouse table that differs between the two (`except all` both ways)."""
    return compare(
        incremental.data_dir, scratch.data_dir, ("loaded_at",), edition_only=True,
        warehouse=True, quiet=True,
    )  # fmt: skip


def ingest(settings: Settings) -> list[str]:
    """Load every extract-month whose newest delivery is not loaded yet (the ingest step's
    work, without Dagster), and the reference extract; one line per file rejected."""
    rejected = []
    for extract in MONTHLY_EXTRACTS:
        for month in sorted({d.month for d in deliveries(settings.landing_dir, extract)}):
            if needs_load(settings, extract, month):
                try:
                    load_partition(settings, extract, month)
                except ContractBreach as breach:
                    rejected.append(str(breach))
    load_reference(settings, "inspections")
    return rejected


def deliver(source: Path, landing: Path, relative: str) -> None:
    """Copy one delivery, with its control file, into the landing zone."""
    (landing / relative).parent.mkdir(parents=True, exist_ok=True)
    shutil.copy2(source / relative, landing / relative)
    control = Path(f"{source / relative}.ctl")
    if control.exists():
        shutil.copy2(control, f"{landing / relative}.ctl")


def replay(start: str, end: str, scale: float, work: Path) -> int:
    from orchestration.demo import generate_landing

    shutil.rmtree(work, ignore_errors=True)
    source = work / "source"
    summary = generate_landing(source, start=start, end=end, scale=scale)
    order = sorted(summary["deliveries"], key=lambda d: (d["extracted_at"], d["path"]))
    nights: dict[str, list[str]] = {}
    for delivery in order:
        nights.setdefault(delivery["extracted_at"][:7], []).append(delivery["path"])
    landing = work / "landing"
    incremental = Settings.from_env(landing, work / "incremental")
    scratch = Settings.from_env(landing, work / "scratch")
    (landing / "inspections").mkdir(parents=True)
    shutil.copy2(source / "inspections" / "inspections.csv", landing / "inspections")
    print(f"{len(order)} deliveries of {start}..{end} at scale {scale}, in {len(nights)} batches")
    kinds: dict[str, int] = {}
    for number, (extracted, files) in enumerate(nights.items(), start=1):
        for relative in files:
            deliver(source, landing, relative)
        rejected = ingest(incremental)
        began = time.perf_counter()
        plan = refresh(incremental)
        seconds = time.perf_counter() - began
        build_from_scratch(incremental, scratch)
        problems = differences(incremental, scratch)
        kind = "incremental" if plan.incremental else "full"
        kinds[kind] = kinds.get(kind, 0) + 1
        revisions = sum("_r" in f for f in files)
        print(
            f"batch {number:2} (extracted {extracted}): {len(files)} files, {revisions} "
            f"re-deliveries, {len(rejected)} rejected; {kind} refresh {seconds:.1f} s; "
            f"{'identical' if not problems else 'DIFFERENT: ' + '; '.join(problems)}",
            flush=True,
        )
        if problems:
            return 1
    print(f"every batch identical to a build from scratch ({kinds})")
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--start", default="2023-04")
    parser.add_argument("--end", default="2025-03")
    parser.add_argument("--scale", type=float, default=0.02)
    parser.add_argument("--work", type=Path, default=Path("data/incremental_proof"))
    args = parser.parse_args()
    return replay(args.start, args.end, args.scale, args.work.resolve())


if __name__ == "__main__":
    sys.exit(main())

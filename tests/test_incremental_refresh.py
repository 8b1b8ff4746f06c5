"""The proof of the incremental refresh (DESIGN §11): deliveries applied one batch at a time,
refreshed incrementally after each, give after every batch exactly the warehouse a build from
scratch of the same landing zone gives (every table, `except all` both ways).

A small demo landing zone (January to April 2024) with injected defects supplies the
deliveries: first deliveries and `_r2`/`_r3` re-deliveries (late outcomes, backdated
terminations), a vanished record, rows set aside (duplicate keys, dates outside the month).
Each seeded sequence cuts the deliveries, in the order of their control files' extraction
times, into random batches, and adds:
- a month held back (every delivery of one extract-month arrives in a later batch);
- a rejected file (a re-delivery that breaks the contract), then the month re-delivered whole;
- a review recorded between two refreshes;
- a refresh killed (`kill -9`) part way, then run again.

Both sides run the refresh as the `warehouse_models` step does (orchestration/incremental.py:
the plan, the building copy, the dbt command, the swap), with dbt's data tests left out: they
check the data, they do not change it. The scratch build reads the same raw files (a link to
the incremental side's). More seeds: PROBATION_PROPERTY_SEEDS=1,2,3.
"""

from __future__ import annotations

import os
import random
import shutil
import signal
import subprocess
from pathlib import Path

import duckdb
import pytest

from benchmarks.compare_outputs import compare
from orchestration.checked_file import ContractBreach
from orchestration.dbt_project import dbt_executable
from orchestration.demo import generate_landing, parse_defect
from orchestration.incremental import (
    building_path,
    dbt_build_args,
    finish_building,
    plan_build,
    prepare_building,
)
from orchestration.ingest import load_partition, needs_load
from orchestration.landing import deliveries
from orchestration.reference import load_reference
from orchestration.settings import DBT_PROJECT_DIR, Settings
from schemas.contracts import MONTHLY_EXTRACTS

pytestmark = [pytest.mark.pipeline, pytest.mark.xdist_group("incremental")]

START, END = "2024-01", "2024-04"
DEFECTS = [
    "vanished_record:events:N07:2024-03:0.05",
    "duplicate_rows:contacts:N03:2024-02:0.1",
    "shift_dates:upw_sessions:N07:2024-03:0.2",
]
SEEDS = [int(s) for s in os.environ.get("PROBATION_PROPERTY_SEEDS", "11").split(",")]
WITHOUT_TESTS = ["--exclude-resource-type", "test", "--exclude-resource-type", "unit_test"]


@pytest.fixture(scope="module")
def delivered(tmp_path_factory) -> tuple[Path, list[dict]]:
    """The demo landing zone and its deliveries, oldest extraction first."""
    source = tmp_path_factory.mktemp("deliveries") / "landing"
    summary = generate_landing(
        source, start=START, end=END, scale=0.005, inject=[parse_defect(d) for d in DEFECTS]
    )
    order = sorted(summary["deliveries"], key=lambda d: (d["extracted_at"], d["path"]))
    return source, order


def _env(settings: Settings, extra: dict[str, str]) -> dict[str, str]:
    return {
        **os.environ,
        **settings.dbt_env(),
        **extra,
        "DBT_PROFILES_DIR": str(DBT_PROJECT_DIR),
        "DBT_TARGET_PATH": str(settings.data_dir / "dbt" / "property"),
        "PROBATION_REVIEWS_FILE": str(settings.data_dir / "quality_reviews.csv"),
    }


def refresh(settings: Settings, full_refresh: bool = False, kill_after: float | None = None):
    """A refresh as the warehouse_models step runs it; with kill_after, dbt is killed (-9)
    that many seconds in and the warehouse is left as the killed step leaves it."""
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
            assert building_path(settings).exists()  # killed part way: the copy never swapped
            return plan
    output, _ = process.communicate()
    assert process.returncode == 0, output[-4000:]
    finish_building(settings, plan)
    return plan


def ingest(settings: Settings) -> list[str]:
    """Load every extract-month whose newest delivery is not loaded yet (the ingest step's
    work, without Dagster); the lines of the files rejected."""
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


def broken_copy(good: Path, target: Path) -> None:
    """A copy of a delivery whose last row names a region that does not exist."""
    lines = good.read_text().splitlines()
    header = lines[0].split(",")
    row = lines[-1].split(",")
    row[header.index("region_code")] = "Z99"
    target.write_text("\n".join([*lines[:-1], ",".join(row)]) + "\n")


def plan_sequence(order: list[dict], rng: random.Random) -> list[dict]:
    """Batches of deliveries (paths relative to the landing zone) and the events between."""
    order = list(order)
    held_key = rng.choice([(d["extract"], d["month"]) for d in order if d["month"] < END])
    held = [d for d in order if (d["extract"], d["month"]) == held_key]
    order = [d for d in order if d not in held]
    cuts = sorted(rng.sample(range(1, len(order)), 4))
    batches = [order[a:b] for a, b in zip([0, *cuts], [*cuts, len(order)], strict=True)]
    batches[rng.randrange(2, len(batches))] += held  # the missing month arrives later
    steps = [{"files": [d["path"] for d in batch]} for batch in batches]
    steps[1]["broken"] = True  # a rejected re-delivery; the month whole in the next batch
    steps[rng.randrange(1, len(steps))]["review"] = True
    steps[rng.randrange(1, len(steps))]["kill_after"] = rng.uniform(2.0, 8.0)
    return steps


def table_count(settings: Settings) -> int:
    with duckdb.connect(str(settings.warehouse_path), read_only=True) as con:
        return con.execute("select count(*) from duckdb_tables()").fetchone()[0]


@pytest.mark.parametrize("seed", SEEDS)
def test_an_incremental_refresh_equals_a_build_from_scratch_after_every_delivery(
    delivered, tmp_path, seed
):
    source, order = delivered
    rng = random.Random(seed)
    steps = plan_sequence(order, rng)
    landing = tmp_path / "landing"
    incremental = Settings.from_env(landing, tmp_path / "incremental")
    scratch = Settings.from_env(landing, tmp_path / "scratch")
    (landing / "inspections").mkdir(parents=True)
    shutil.copy2(source / "inspections" / "inspections.csv", landing / "inspections")
    broken: tuple[Path, Path] | None = None
    kinds = []
    for number, step in enumerate(steps, start=1):
        for relative in step["files"]:
            (landing / relative).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source / relative, landing / relative)
            if Path(str(source / relative) + ".ctl").exists():
                shutil.copy2(str(source / relative) + ".ctl", str(landing / relative) + ".ctl")
        if broken:  # the month re-delivered whole, as the revision after the broken one
            good, bad = broken
            fixed = bad.with_name(bad.name.replace("_r8.", "_r9."))
            shutil.copy2(good, fixed)
            broken = None
        if step.get("broken"):
            fact = next(landing / f for f in step["files"] if not f.startswith("persons/"))
            bad = fact.with_name(fact.stem.split("_r")[0] + "_r8" + fact.suffix)
            broken_copy(fact, bad)
            broken = (fact, bad)
        rejected = ingest(incremental)
        if step.get("broken"):
            assert len(rejected) == 1 and "Z99" in rejected[0] and bad.name in rejected[0]
            kinds.append("rejected")
        if step.get("review"):
            flags = _flag_ids(incremental)
            if flags:
                review = f"{flags[0]},publish,Checked with the region,A Stat,2024-05-01\n"
                for side in (incremental, scratch):
                    side.data_dir.mkdir(parents=True, exist_ok=True)
                    (side.data_dir / "quality_reviews.csv").write_text(
                        "flag_id,decision,reason,reviewer,reviewed_on\n" + review
                    )
                kinds.append("review")
        if "kill_after" in step and incremental.warehouse_path.exists():
            refresh(incremental, kill_after=step["kill_after"])
            kinds.append("killed")
        plan = refresh(incremental)
        kinds.append("incremental" if plan.incremental else "full")
        # the build from scratch: a fresh data folder reading the same raw files
        shutil.rmtree(scratch.data_dir / "building", ignore_errors=True)
        scratch.warehouse_path.unlink(missing_ok=True)
        scratch.data_dir.mkdir(parents=True, exist_ok=True)
        if not (scratch.data_dir / "raw").exists():
            (scratch.data_dir / "raw").symlink_to(incremental.raw_dir, target_is_directory=True)
        refresh(scratch, full_refresh=True)
        problems = compare(
            incremental.data_dir, scratch.data_dir, ("loaded_at",), edition_only=True,
            warehouse=True, quiet=True,
        )  # fmt: skip
        assert problems == [], f"seed {seed}, batch {number} ({kinds}): {problems}"
        assert table_count(incremental) > 100
    # every kind of event happened, and after the first batch every refresh was incremental
    assert {"rejected", "killed", "review"} <= set(kinds), kinds
    assert kinds.count("full") == 1, kinds


def _flag_ids(settings: Settings) -> list[str]:
    if not settings.warehouse_path.exists():
        return []
    with duckdb.connect(str(settings.warehouse_path), read_only=True) as con:
        rows = con.execute("select flag_id from data_quality_flags order by flag_id").fetchall()
    return [r[0] for r in rows]

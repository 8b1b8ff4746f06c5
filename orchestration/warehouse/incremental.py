"""Incremental refresh of the warehouse (docs/methodology.md#incremental-refresh): which build a
refresh needs, and the
building copy that replaces the warehouse only when the build succeeds.

dbt builds `<data>/building/warehouse.duckdb`: for an incremental build a copy of the
warehouse, updated where the deliveries since the last refresh can change it; for a full build
an empty file. The warehouse as it was is attached read-only as `previous`, what the models
compare with (dbt_project/macros/incremental_refresh.sql). When the build succeeds, its marker
(the digest of what a build depends on besides the data) is written into the copy and the copy
is renamed over the warehouse. A killed or failed build leaves the warehouse, and so the
marker, as they were: the next refresh redoes the work.

A refresh is incremental only when the last one's marker matches: the code, SQL and seeds, the
settings passed to dbt, and the first month delivered of each extract (a month that arrives
before the first one moves the start of every series) are unchanged. Anything else, or
`--full-refresh`, rebuilds every model.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pyarrow.parquet as pq

from orchestration.code_digest import code_digest
from orchestration.settings import Settings

MARKER_TABLE = "refresh_marker"
PREVIOUS_ENV = "PROBATION_PREVIOUS_WAREHOUSE"
BUILDING_ENV = "PROBATION_WAREHOUSE"


@dataclass(frozen=True)
class BuildPlan:
    incremental: bool
    reason: str  # why, in a few words, for the run log
    digest: str


def first_months(settings: Settings) -> dict[str, str]:
    """The first month loaded of each extract, from the load ledger."""
    found: dict[str, str] = {}
    for path in sorted((settings.raw_dir / "loads").glob("*.parquet")):
        row = pq.read_table(path, columns=["extract", "month"]).to_pylist()[0]
        if row["month"] < found.get(row["extract"], "9999-99"):
            found[row["extract"]] = row["month"]
    return found


def build_digest(settings: Settings) -> str:
    """The digest of what every model depends on besides the deliveries themselves."""
    parts = {
        "code": code_digest(),
        "vars": settings.dbt_vars(),
        "first_months": first_months(settings),
    }
    return hashlib.sha256(json.dumps(parts, sort_keys=True).encode()).hexdigest()


def recorded_digest(settings: Settings) -> str | None:
    """The marker of the last successful refresh, if the warehouse has one."""
    if not settings.warehouse_path.exists():
        return None
    try:
        with duckdb.connect(str(settings.warehouse_path), read_only=True) as con:
            found = con.execute(f"select digest from {MARKER_TABLE}").fetchone()
    except duckdb.Error:
        return None
    return found[0] if found else None


def plan_build(settings: Settings, full_refresh: bool = False) -> BuildPlan:
    """Incremental when the last refresh's marker matches and no full refresh is asked for."""
    digest = build_digest(settings)
    if full_refresh:
        return BuildPlan(False, "full refresh asked for", digest)
    recorded = recorded_digest(settings)
    if recorded is None:
        return BuildPlan(False, "no earlier refresh to build on", digest)
    if recorded != digest:
        return BuildPlan(False, "code, settings or first months changed since the last refresh",
                         digest)  # fmt: skip
    return BuildPlan(True, "only what the deliveries since the last refresh change", digest)


def building_path(settings: Settings) -> Path:
    """Where dbt builds: a folder of its own, so the database keeps the warehouse's name."""
    return settings.data_dir / "building" / settings.warehouse_path.name


def prepare_building(settings: Settings, plan: BuildPlan) -> dict[str, str]:
    """Start the building copy (the warehouse for an incremental build, nothing for a full
    one) and return the environment variables dbt needs."""
    target = building_path(settings)
    shutil.rmtree(target.parent, ignore_errors=True)
    target.parent.mkdir(parents=True)
    if plan.incremental:
        shutil.copyfile(settings.warehouse_path, target)
    # the same values for either build (dbt reparses its project when one changes): a full
    # build is run with --full-refresh, which leaves `previous` unattached
    return {BUILDING_ENV: str(target), PREVIOUS_ENV: str(settings.warehouse_path)}


@contextlib.contextmanager
def environment(values: dict[str, str]) -> Iterator[None]:
    """The variables set while dbt runs, then put back as they were: they name one data
    folder's building copy, which no later dbt command of the process may read."""
    saved = {name: os.environ.get(name) for name in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def dbt_build_args(settings: Settings, plan: BuildPlan) -> list[str]:
    """The dbt command of a refresh: `build`, with `--full-refresh` unless incremental, and
    the statistician's files as variables. Seeds are small: a full build rebuilds them, so a
    changed seed (a new column) never meets a stale table."""
    command = ["build", *([] if plan.incremental else ["--full-refresh"])]
    dbt_vars = settings.dbt_vars()
    return command + (["--vars", json.dumps(dbt_vars)] if dbt_vars else [])


def finish_building(settings: Settings, plan: BuildPlan) -> None:
    """Record the marker in the built copy and put it in place of the warehouse."""
    target = building_path(settings)
    with duckdb.connect(str(target)) as con:
        con.execute(f"create or replace table {MARKER_TABLE} as select ? as digest", [plan.digest])
        con.execute("checkpoint")
    os.replace(target, settings.warehouse_path)
    shutil.rmtree(target.parent, ignore_errors=True)

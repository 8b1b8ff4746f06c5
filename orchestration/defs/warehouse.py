"""The dbt project as Dagster assets: seeds, staging, intermediate and mart models, with dbt
tests as asset checks (dbt's unit tests are run by the test suite, not by production builds).
All of them write the DuckDB warehouse, so they share the single-writer pool `warehouse`.

Before dbt runs, the statistician's files it reads (targets, rating moderations) are checked
(orchestration/configuration.py) and passed to dbt as variables. When dbt fails, the step fails
with one line per failed node (model, seed or test, and dbt's first line of error), not the
dbt command line."""

import json
import os
import shutil
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import dagster as dg
from dagster_dbt import DagsterDbtTranslator, DbtCliResource, dbt_assets

from orchestration.configuration import configuration_problems
from orchestration.dbt_manifest import ensure_manifest
from orchestration.resources import PipelineResource
from orchestration.warehouse_lock import WAREHOUSE_POOL, warehouse_lock_problem

RATINGS = "ratings"


class WarehouseTranslator(DagsterDbtTranslator):
    """Groups dbt nodes by layer (seeds, staging, intermediate, marts)."""

    def get_group_name(self, dbt_resource_props: Mapping[str, Any]) -> str | None:
        fqn = dbt_resource_props.get("fqn", [])
        if RATINGS in fqn[1:-1]:
            return RATINGS  # seeds/ratings and models/marts/ratings
        if dbt_resource_props["resource_type"] == "seed":
            return "reference"
        return fqn[1] if len(fqn) > 2 else "warehouse"


PARTIAL_PARSE = "partial_parse.msgpack"


def clear_artefacts(target: Path, keep: str) -> None:
    """Remove the artefacts of the last dbt run from `target`, keeping the file `keep`."""
    if not target.is_dir():
        return
    for path in target.iterdir():
        if path.name == keep:
            continue
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path, ignore_errors=True)
        else:
            path.unlink(missing_ok=True)


def dbt_failures(run_results: Mapping[str, Any]) -> list[str]:
    """One line per dbt node that errored or failed, from dbt's run_results.json."""
    lines = []
    for result in run_results.get("results", []):
        if result.get("status") not in ("error", "fail", "runtime error"):
            continue
        # model.probation.<name>, test.probation.<name>.<hash>, unit_test.probation.<model>.<name>
        kind, _, name, *rest = result["unique_id"].split(".")
        name = rest[-1] if kind == "unit_test" and rest else name
        message = " ".join((result.get("message") or "").split())
        lines.append(f"dbt {kind} {name} {result['status']}: {message[:300]}")
    return lines


@dbt_assets(
    manifest=ensure_manifest(),
    dagster_dbt_translator=WarehouseTranslator(),
    pool=WAREHOUSE_POOL,
)
def warehouse_models(
    context: dg.AssetExecutionContext, dbt: DbtCliResource, pipeline: PipelineResource
):
    settings = pipeline.settings()
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    problems = configuration_problems(settings)
    lock = warehouse_lock_problem(settings)
    problems += [lock] if lock else []
    if problems:
        raise dg.Failure(description="; ".join(problems), allow_retries=False)
    os.environ.update(settings.dbt_env())  # the dbt profile and sources read the data folder
    # Seeds are small: rebuild them every time so a changed seed (new column) never meets a
    # stale table. There are no incremental models, so nothing else is affected.
    dbt_vars = settings.dbt_vars()
    command = ["build", "--full-refresh", *(["--vars", json.dumps(dbt_vars)] if dbt_vars else [])]
    # dbt's unit tests check the SQL, not the data: they belong to `make test`
    # (tests/test_dbt_unit_tests.py), not to every production build
    command += ["--exclude-resource-type", "unit_test"]
    # dbt's artefacts of this step live in the data folder, replaced run by run (never in the
    # source tree, never accumulating), except dbt's partial-parse cache: with it dbt parses
    # only what changed since the last build (it reparses everything when a file, variable or
    # environment variable it reads has changed)
    target = settings.data_dir / "dbt" / context.op_handle.name  # one folder per dbt step
    clear_artefacts(target, keep=PARTIAL_PARSE)
    invocation = dbt.cli(command, context=context, raise_on_error=False, target_path=target)
    yield from invocation.stream()
    if not invocation.is_successful():
        try:
            failures = dbt_failures(invocation.get_artifact("run_results.json"))
        except (OSError, ValueError):
            failures = []
        raise dg.Failure(
            description="; ".join(failures) or "dbt build failed (see the run log)",
            allow_retries=False,
        )

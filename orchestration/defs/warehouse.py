"""The dbt project as Dagster assets: seeds, staging, intermediate and mart models, with dbt
tests as asset checks (dbt's unit tests are run by the test suite, not by production builds).
All of them write the DuckDB warehouse, so they share the single-writer pool `warehouse`.

Before dbt runs, the statistician's files it reads (targets, rating moderations) are checked
(orchestration/warehouse/configuration.py) and passed to dbt as variables. When dbt fails, the step
fails
with one line per failed node (model, seed or test, and dbt's first line of error), not the
dbt command line."""

import os
import shutil
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import dagster as dg
import duckdb
from dagster_dbt import DagsterDbtTranslator, DbtCliResource, dbt_assets

from orchestration.asset_metadata import DATA_ENGINEERING, STATISTICS, duckdb_tables
from orchestration.resources import PipelineResource
from orchestration.running.warehouse_lock import WAREHOUSE_POOL, warehouse_lock_problem
from orchestration.warehouse.configuration import configuration_problems
from orchestration.warehouse.dbt_project import load_manifest
from orchestration.warehouse.incremental import (
    dbt_build_args,
    environment,
    finish_building,
    plan_build,
    prepare_building,
)

RATINGS = "ratings"


QUALITY_FLAGS = "model.probation.data_quality_flags"
QUALITY_MODELS = ("period_quality", "data_quality_flags")


def _after_quality(manifest: Mapping[str, Any]) -> set[str]:
    """Nodes downstream of the quality flags (what publication is cut from)."""
    children = manifest.get("child_map", {})
    found: set[str] = set()
    todo = list(children.get(QUALITY_FLAGS, []))
    while todo:
        node = todo.pop()
        if node not in found:
            found.add(node)
            todo += children.get(node, [])
    return found


def _leading_comment(sql: str) -> str:
    """The SQL file's opening comment (its author's words on what the model is)."""
    lines = []
    for line in sql.strip().splitlines():
        stripped = line.strip()
        if not stripped.startswith("--"):
            break
        lines.append(stripped.lstrip("-").strip())
    return " ".join(part for part in lines if part)


class WarehouseTranslator(DagsterDbtTranslator):
    """Groups that read left to right (reference and staging, measures, quality, ratings,
    publication), the yml description (else the SQL's opening comment, never the raw SQL),
    and owners: data engineering up to the measures, statistics from the quality verdicts on."""

    def __init__(self, manifest: Mapping[str, Any]):
        super().__init__()
        self._after_quality = _after_quality(manifest)

    def get_group_name(self, dbt_resource_props: Mapping[str, Any]) -> str | None:
        fqn = dbt_resource_props.get("fqn", [])
        unique_id = dbt_resource_props.get("unique_id", "")
        if dbt_resource_props["resource_type"] == "seed":
            return "reference"
        if fqn[1:2] == ["staging"]:
            return "staging"
        if RATINGS in fqn[1:-1]:
            return RATINGS  # models/marts/ratings
        if dbt_resource_props["name"] in QUALITY_MODELS:
            return "quality"
        return "publication" if unique_id in self._after_quality else "measures"

    def get_description(self, dbt_resource_props: Mapping[str, Any]) -> str:
        described = (dbt_resource_props.get("description") or "").strip()
        if described:
            return described
        comment = _leading_comment(dbt_resource_props.get("raw_code") or "")
        kind, name = dbt_resource_props["resource_type"], dbt_resource_props["name"]
        return comment or f"dbt {kind} {name} (see dbt_project/ for its definition)."

    def get_owners(self, dbt_resource_props: Mapping[str, Any]) -> list[str]:
        group = self.get_group_name(dbt_resource_props)
        early = ("reference", "staging", "measures")
        return DATA_ENGINEERING if group in early else STATISTICS


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


def with_table_metadata(settings, events: list) -> list:
    """The dbt step's events, each model's and seed's output with `dagster/row_count` (tables)
    and `dagster/column_schema`, read after the build from one read-only connection."""
    outputs = [e for e in events if isinstance(e, dg.Output)]
    if not outputs or not settings.warehouse_path.exists():
        return events
    with duckdb.connect(str(settings.warehouse_path), read_only=True) as con:
        found = duckdb_tables(con, [e.output_name for e in outputs])
    return [
        e.with_metadata({**e.metadata, **found[e.output_name]})
        if isinstance(e, dg.Output) and e.output_name in found
        else e
        for e in events
    ]


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


class WarehouseConfig(dg.Config):
    """`full_refresh`: rebuild every model from every delivery, not only what the deliveries
    since the last refresh change (docs/methodology.md#incremental-refresh)."""

    full_refresh: bool = False


@dbt_assets(
    manifest=load_manifest(),
    dagster_dbt_translator=WarehouseTranslator(load_manifest()),
    pool=WAREHOUSE_POOL,
)
def warehouse_models(
    context: dg.AssetExecutionContext,
    dbt: DbtCliResource,
    pipeline: PipelineResource,
    config: WarehouseConfig,
):
    settings = pipeline.settings()
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    problems = configuration_problems(settings)
    lock = warehouse_lock_problem(settings)
    problems += [lock] if lock else []
    if problems:
        raise dg.Failure(description="; ".join(problems), allow_retries=False)
    os.environ.update(settings.dbt_env())  # the dbt profile and sources read the data folder
    # dbt builds a copy of the warehouse, swapped in when the build succeeds: incremental when
    # the last refresh's marker matches (orchestration/warehouse/incremental.py), else every model
    plan = plan_build(settings, full_refresh=config.full_refresh)
    context.log.info(f"{'incremental' if plan.incremental else 'full'} build: {plan.reason}")
    building = prepare_building(settings, plan)
    command = dbt_build_args(settings, plan)
    # dbt's unit tests check the SQL, not the data: they belong to `make test`
    # (tests/test_dbt_unit_tests.py), not to every production build
    command += ["--exclude-resource-type", "unit_test"]
    # dbt's artefacts of this step live in the data folder, replaced run by run (never in the
    # source tree, never accumulating), except dbt's partial-parse cache: with it dbt parses
    # only what changed since the last build (it reparses everything when a file, variable or
    # environment variable it reads has changed)
    target = settings.data_dir / "dbt" / context.op_handle.name  # one folder per dbt step
    clear_artefacts(target, keep=PARTIAL_PARSE)
    with environment(building):
        invocation = dbt.cli(command, context=context, raise_on_error=False, target_path=target)
        # dbt holds the warehouse while it builds: the events are kept until it has finished,
        # then given their row counts and column schemas from one read-only connection
        events = list(invocation.stream())
    if invocation.is_successful():
        finish_building(settings, plan)
    yield from with_table_metadata(settings, events)
    if not invocation.is_successful():
        try:
            failures = dbt_failures(invocation.get_artifact("run_results.json"))
        except (OSError, ValueError):
            failures = []
        raise dg.Failure(
            description="; ".join(failures) or "dbt build failed (see the run log)",
            allow_retries=False,
        )

"""The dbt project as Dagster assets: seeds, staging, intermediate and mart models, with dbt
tests (including unit tests) as asset checks. All of them write the DuckDB warehouse, so they
share the single-writer pool `warehouse`."""

import os
from collections.abc import Mapping
from typing import Any

import dagster as dg
from dagster_dbt import DagsterDbtTranslator, DbtCliResource, dbt_assets

from orchestration.dbt_manifest import ensure_manifest
from orchestration.resources import PipelineResource

WAREHOUSE_POOL = "warehouse"


class WarehouseTranslator(DagsterDbtTranslator):
    """Groups dbt nodes by layer (seeds, staging, intermediate, marts)."""

    def get_group_name(self, dbt_resource_props: Mapping[str, Any]) -> str | None:
        if dbt_resource_props["resource_type"] == "seed":
            return "reference"
        fqn = dbt_resource_props.get("fqn", [])
        return fqn[1] if len(fqn) > 2 else "warehouse"


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
    os.environ.update(settings.dbt_env())  # the dbt profile and sources read the data folder
    # Seeds are small: rebuild them every time so a changed seed (new column) never meets a
    # stale table. There are no incremental models, so nothing else is affected.
    yield from dbt.cli(["build", "--full-refresh"], context=context).stream()

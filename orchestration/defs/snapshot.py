"""The analyst snapshot asset: rebuilt after the marts, whatever the publication gate says."""

import dagster as dg

from orchestration.dbt_manifest import mart_models
from orchestration.defs.warehouse import WAREHOUSE_POOL
from orchestration.resources import PipelineResource
from orchestration.snapshot import build_snapshot

SNAPSHOT_TABLES = [*mart_models(), "stg_loads"]


@dg.asset(
    group_name="analyst",
    deps=SNAPSHOT_TABLES,
    pool=WAREHOUSE_POOL,
    kinds={"duckdb", "parquet"},
    description=(
        "analytics.duckdb and analytics/*.parquet beside the warehouse: every mart and the load "
        "ledger, rebuilt and swapped in atomically so analysts never lock the warehouse."
    ),
)
def analyst_snapshot(pipeline: PipelineResource) -> dg.MaterializeResult:
    settings = pipeline.settings()
    counts = build_snapshot(settings, SNAPSHOT_TABLES)
    return dg.MaterializeResult(
        metadata={
            "path": dg.MetadataValue.path(str(settings.analytics_path)),
            **{f"rows_{name}": n for name, n in counts.items()},
        }
    )

"""The analyst snapshot asset: rebuilt after the marts, whatever the publication gate says."""

import dagster as dg
import duckdb

from orchestration.asset_metadata import DATA_ENGINEERING, column_schema, table_metadata
from orchestration.defs.warehouse import WAREHOUSE_POOL
from orchestration.publication.dictionary import model_docs
from orchestration.publication.snapshot import build_snapshot
from orchestration.resources import PipelineResource
from orchestration.warehouse.dbt_project import MANIFEST_PATH, mart_models

SNAPSHOT_TABLES = [*mart_models(), "stg_loads"]


@dg.asset(
    group_name="analyst",
    owners=DATA_ENGINEERING,
    deps=SNAPSHOT_TABLES,
    pool=WAREHOUSE_POOL,
    kinds={"duckdb", "parquet"},
    description=(
        "analytics.duckdb and analytics/*.parquet beside the warehouse: every mart and the load "
        "ledger, rebuilt and swapped in atomically so analysts never lock the warehouse, with "
        "every table and column documented (DuckDB comments, a dictionary table, Parquet field "
        "metadata) from the dbt docs."
    ),
)
def analyst_snapshot(pipeline: PipelineResource) -> dg.MaterializeResult:
    settings = pipeline.settings()
    counts = build_snapshot(settings, SNAPSHOT_TABLES, model_docs(MANIFEST_PATH))
    with duckdb.connect(str(settings.analytics_path), read_only=True) as con:
        columns = con.execute(
            "select table_name || '.' || column_name, data_type from information_schema.columns "
            "order by table_name, ordinal_position"
        ).fetchall()
    return dg.MaterializeResult(
        metadata={
            **table_metadata(sum(counts.values()), column_schema(columns)),
            "path": dg.MetadataValue.path(str(settings.analytics_path)),
            **{f"rows_{name}": n for name, n in counts.items()},
        }
    )

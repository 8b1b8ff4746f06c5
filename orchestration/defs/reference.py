"""Reference-extract assets (one file, not monthly): `raw/inspections`, the HMIP inspections.

The asset is not partitioned and sits in group `reference` (not `ingest`, which `ingest_job`
runs by month), so `refresh_job` loads it before dbt, whose source `raw.inspections` maps to its
key. It checks the file against its contract (schemas/contracts.py), sets aside rows that break a
row rule, and writes raw Parquet (orchestration/ingest/reference.py). A contract breach fails it
with
the file, line and rule; no file delivered gives an empty table, and an empty league table.
"""

from pathlib import Path

import dagster as dg
import pyarrow.parquet as pq

from orchestration.asset_metadata import DATA_ENGINEERING, arrow_schema, table_metadata
from orchestration.ingest.extract_month import ContractBreach
from orchestration.ingest.reference import load_reference
from orchestration.resources import PipelineResource
from schemas.contracts import REFERENCE_EXTRACTS

INSPECTIONS = REFERENCE_EXTRACTS["inspections"]


@dg.asset(
    name=INSPECTIONS.name,
    key_prefix="raw",
    group_name="reference",
    owners=DATA_ENGINEERING,
    kinds={"pandera", "parquet"},
    description=(
        f"{INSPECTIONS.description} Reference extract (one file, <landing>/inspections/"
        "inspections.csv or .parquet), validated against its landing-zone contract; empty when "
        "no file has been delivered."
    ),
    metadata={
        "grain": INSPECTIONS.grain,
        "key": ", ".join(INSPECTIONS.key),
        "columns": dg.MetadataValue.md(
            "\n".join(f"- `{c.name}` {c.kind}" for c in INSPECTIONS.columns)
        ),
    },
)
def inspections(pipeline: PipelineResource) -> dg.MaterializeResult:
    settings = pipeline.settings()
    try:
        report = load_reference(settings, INSPECTIONS.name)
    except ContractBreach as error:
        raise dg.Failure(
            description=str(error), metadata={"extract": INSPECTIONS.name}, allow_retries=False
        ) from None
    source = (
        dg.MetadataValue.path(report.source_file)
        if report.delivered
        else f"none delivered: no {settings.landing_dir / 'inspections'}/inspections.csv or "
        ".parquet; raw/inspections is empty, so is the league table"
    )
    schema = pq.read_schema(report.raw_path) if Path(report.raw_path).exists() else None
    return dg.MaterializeResult(
        metadata={
            **table_metadata(report.rows_loaded, arrow_schema(schema) if schema else None),
            "delivered": report.delivered,
            "source_file": source,
            "source_sha256": report.source_sha256 or "",
            "rows_delivered": report.rows_delivered,
            "rows_loaded": report.rows_loaded,
            "rows_set_aside": report.rows_set_aside,
            "set_aside_by_reason": dg.MetadataValue.json(report.set_aside_by_reason),
            "raw_path": dg.MetadataValue.path(report.raw_path),
            **(
                {"quarantine_path": dg.MetadataValue.path(report.quarantine_path)}
                if report.quarantine_path
                else {}
            ),
        }
    )


@dg.definitions
def reference() -> dg.Definitions:
    return dg.Definitions(assets=[inspections])

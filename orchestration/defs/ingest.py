"""Ingest assets: one monthly-partitioned asset per landing-zone extract.

Each partition checks the month's delivery against its pandera contract (schemas/contracts.py),
sets aside implausible rows with a reason, and writes raw Parquet. A breach fails that partition
only, with the file, line and rule in the error; earlier loads stay as they were.
"""

import dagster as dg

from orchestration.ingest import ContractBreach, MissingDelivery, load_partition
from orchestration.partitions import monthly_partitions
from orchestration.resources import PipelineResource
from schemas.contracts import EXTRACTS, Extract


def build_ingest_asset(extract: Extract) -> dg.AssetsDefinition:
    @dg.asset(
        name=extract.name,
        key_prefix="raw",
        group_name="ingest",
        partitions_def=monthly_partitions,
        kinds={"pandera", "parquet"},
        description=f"{extract.description} Validated against its landing-zone contract.",
        metadata={
            "grain": extract.grain,
            "key": ", ".join(extract.key),
            "columns": dg.MetadataValue.md(
                "\n".join(
                    f"- `{c.name}` {c.kind}{'' if c.required else ' (may be empty)'}"
                    for c in extract.columns
                )
            ),
        },
    )
    def ingest(context: dg.AssetExecutionContext, pipeline: PipelineResource):
        settings = pipeline.settings()
        try:
            report = load_partition(settings, extract.name, context.partition_key)
        except (ContractBreach, MissingDelivery, ValueError) as error:
            raise dg.Failure(
                description=str(error),
                metadata={"extract": extract.name, "month": context.partition_key},
                allow_retries=False,
            ) from None
        return dg.MaterializeResult(
            metadata={
                "source_file": dg.MetadataValue.path(report.source_file),
                "source_revision": report.source_revision,
                "source_sha256": report.source_sha256,
                "rows_delivered": report.rows_delivered,
                "rows_loaded": report.rows_loaded,
                "rows_set_aside": report.rows_set_aside,
                "set_aside_by_reason": dg.MetadataValue.json(report.set_aside_by_reason),
                "raw_path": dg.MetadataValue.path(report.raw_path),
            }
        )

    return ingest


ingest_assets = [build_ingest_asset(e) for e in EXTRACTS.values()]

load_ledger = dg.AssetSpec(
    key=["raw", "loads"],
    group_name="ingest",
    description="The load ledger: one row per extract-month loaded, written by every ingest asset.",
)

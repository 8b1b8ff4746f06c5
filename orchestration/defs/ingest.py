"""Ingest assets: one monthly-partitioned asset per landing-zone extract.

Each partition checks the month's delivery against its contract (schemas/contracts.py, checked
in DuckDB by orchestration/checked_file.py), sets aside implausible rows with a reason, and
writes raw Parquet and the month's quality profile. A breach fails that partition only, with
the file, line and rule in the error; earlier loads stay as they were.

Each asset also carries one partitioned asset check per data-quality rule (schemas/quality.py),
evaluated with the materialisation against the earlier months' profiles already on disk. They
have severity WARN: a flagged month is loaded all the same, and the check's metadata says which
regions were flagged and the figures found. Whether a flag holds back publication is decided
over the whole history by the `quality_flags` asset and `period_quality`.
"""

import dagster as dg

from orchestration.ingest import ContractBreach, MissingDelivery, load_partition
from orchestration.partitions import monthly_partitions
from orchestration.quality import CheckOutcome, partition_checks, rules_for
from orchestration.resources import PipelineResource
from schemas.contracts import EXTRACTS, Extract
from schemas.quality import RULES, ThresholdsError


def _check_result(outcome: CheckOutcome) -> dg.AssetCheckResult:
    table = "\n".join(
        ["| region | found |", "|---|---|"]
        + [f"| {region} | {detail} |" for region, detail in outcome.details.items()]
    )
    return dg.AssetCheckResult(
        check_name=outcome.rule,
        passed=outcome.passed,
        severity=dg.AssetCheckSeverity.WARN,
        description=outcome.description,
        metadata={
            "regions_flagged": ", ".join(outcome.regions) or "none",
            "found": dg.MetadataValue.md(table if outcome.details else "Nothing flagged."),
            **{k: v for k, v in outcome.figures.items() if v is not None},
        },
    )


def build_ingest_asset(extract: Extract) -> dg.AssetsDefinition:
    @dg.asset(
        name=extract.name,
        key_prefix="raw",
        group_name="ingest",
        partitions_def=monthly_partitions,
        kinds={"pandera", "parquet"},
        check_specs=[
            dg.AssetCheckSpec(
                rule,
                asset=dg.AssetKey(["raw", extract.name]),
                description=f"{RULES[rule]} (WARN; thresholds in schemas/quality_thresholds.toml)",
                partitions_def=monthly_partitions,
            )
            for rule in rules_for(extract.name)
        ],
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
        try:
            checks = partition_checks(settings, extract.name, context.partition_key)
        except ThresholdsError as error:
            raise dg.Failure(description=str(error), allow_retries=False) from None
        return dg.MaterializeResult(
            check_results=[_check_result(outcome) for outcome in checks],
            metadata={
                "source_file": dg.MetadataValue.path(report.source_file),
                "source_revision": report.source_revision,
                "source_sha256": report.source_sha256,
                "extracted_at": report.extracted_at,
                "extracted_at_source": report.extracted_at_source,
                "rows_delivered": report.rows_delivered,
                "rows_loaded": report.rows_loaded,
                "rows_set_aside": report.rows_set_aside,
                "set_aside_by_reason": dg.MetadataValue.json(report.set_aside_by_reason),
                "raw_path": dg.MetadataValue.path(report.raw_path),
                "regions_flagged": dg.MetadataValue.json(
                    {c.rule: c.regions for c in checks if c.regions}
                ),
            },
        )

    return ingest


ingest_assets = [build_ingest_asset(e) for e in EXTRACTS.values()]

load_ledger = dg.AssetSpec(
    key=["raw", "loads"],
    group_name="ingest",
    description="The load ledger: one row per extract-month loaded, written by every ingest asset.",
)

"""The quality_flags asset: the data-quality rules over the whole history, with the reviews.

It runs between two dbt steps: after `measure_monthly` (whose figures the measure_jump rule
reads) and before `period_quality` (which reads its output as the dbt source `quality.flags`).
It reads every partition profile and `measure_monthly` (read-only connection, closed at once),
joins the statistician's reviewed decisions, and writes `<data>/quality/flags.parquet`.
"""

import dagster as dg
import pyarrow.parquet as pq

from orchestration.asset_metadata import STATISTICS, arrow_schema, table_metadata
from orchestration.defs.ingest import EXTRACT_KEYS
from orchestration.defs.warehouse import WAREHOUSE_POOL
from orchestration.quality import build_flags, flags_path
from orchestration.resources import PipelineResource
from schemas.quality import ReviewFileError, ThresholdsError


@dg.asset(
    group_name="quality",
    owners=STATISTICS,
    deps=[
        "measure_monthly",
        "known_quality_periods",
        *EXTRACT_KEYS.values(),
    ],
    pool=WAREHOUSE_POOL,
    kinds={"pandera", "parquet"},
    description=(
        "Every data-quality flag over the whole history (extract rules on each extract, region "
        "and month's profile; measure_jump on measure_monthly), with its review state from the "
        "reviewed-decisions file. Written to quality/flags.parquet for period_quality."
    ),
)
def quality_flags(context: dg.AssetExecutionContext, pipeline: PipelineResource):
    settings = pipeline.settings()
    try:
        flags = build_flags(settings)
    except (ReviewFileError, ThresholdsError) as error:
        raise dg.Failure(description=str(error), allow_retries=False) from None
    unreviewed = flags[flags["status"] == "WARN"]
    by_rule = flags.groupby("rule").size().to_dict() if len(flags) else {}
    by_status = flags.groupby("status").size().to_dict() if len(flags) else {}
    newest = unreviewed.sort_values("month", ascending=False).head(20)
    return dg.MaterializeResult(
        metadata={
            **table_metadata(len(flags), arrow_schema(pq.read_schema(flags_path(settings)))),
            "path": dg.MetadataValue.path(str(flags_path(settings))),
            "reviews_file": dg.MetadataValue.path(str(settings.reviews_path)),
            "flags": len(flags),
            "unreviewed": len(unreviewed),
            "by_rule": dg.MetadataValue.json({k: int(v) for k, v in by_rule.items()}),
            "by_status": dg.MetadataValue.json({k: int(v) for k, v in by_status.items()}),
            "newest_unreviewed": dg.MetadataValue.md(
                "\n".join(
                    ["| flag_id | detail |", "|---|---|"]
                    + [f"| {r.flag_id} | {r.detail} |" for r in newest.itertuples()]
                )
                if len(newest)
                else "None."
            ),
        }
    )

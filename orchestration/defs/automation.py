"""Jobs, the nightly schedule and the re-delivery sensor.

- `ingest_job`: the ingest assets for chosen monthly partitions (backfills from the UI);
- `refresh_job`: everything downstream of ingestion (warehouse, publication, analyst snapshot);
- `nightly_job`: one month's ingestion and everything downstream, run by the nightly schedule
  for the newest month and by the sensor for a month whose extract was re-delivered.
"""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import dagster as dg

from orchestration.ingest import needs_load, previous_load
from orchestration.landing import delivered_months, latest_delivery
from orchestration.partitions import monthly_partitions
from orchestration.resources import PipelineResource
from orchestration.settings import TIMEZONE
from schemas.contracts import MONTHLY_EXTRACTS

INGEST = dg.AssetSelection.groups("ingest")

ingest_job = dg.define_asset_job(
    "ingest_job",
    selection=INGEST,
    partitions_def=monthly_partitions,
    description="Load chosen months of every extract into raw Parquet (one run per partition).",
)
refresh_job = dg.define_asset_job(
    "refresh_job",
    selection=dg.AssetSelection.all() - INGEST,
    description="Rebuild the warehouse, the publication candidates and the analyst snapshot.",
)
nightly_job = dg.define_asset_job(
    "nightly_job",
    selection=dg.AssetSelection.all(),
    partitions_def=monthly_partitions,
    description="Load one month of every extract, then rebuild everything downstream.",
)


def newest_complete_month(when: datetime) -> str:
    """The month before `when` in Europe/London: the newest month whose extracts can exist."""
    local = when.astimezone(ZoneInfo(TIMEZONE))
    return (local.replace(day=1) - timedelta(days=1)).strftime("%Y-%m")


@dg.schedule(job=nightly_job, cron_schedule="0 2 * * *", execution_timezone=TIMEZONE)
def nightly_schedule(context: dg.ScheduleEvaluationContext):
    """Every night, reload the newest complete month and refresh everything downstream."""
    return dg.RunRequest(partition_key=newest_complete_month(context.scheduled_execution_time))


@dg.sensor(job=nightly_job, minimum_interval_seconds=300)
def redelivery_sensor(context: dg.SensorEvaluationContext, pipeline: PipelineResource):
    """A month already loaded whose extract was re-delivered (a higher `_rN` revision) is
    reloaded, once per new file, and everything downstream refreshed."""
    settings = pipeline.settings()
    for month in delivered_months(settings.landing_dir, MONTHLY_EXTRACTS):
        changed = [
            e
            for e in MONTHLY_EXTRACTS
            if previous_load(settings, e, month) is not None and needs_load(settings, e, month)
        ]
        if changed:
            files = sorted(
                latest_delivery(settings.landing_dir, e, month).path.name for e in changed
            )
            yield dg.RunRequest(
                partition_key=month,
                run_key=f"redelivery:{month}:{','.join(files)}",  # once per delivered file
                tags={"probation/redelivered": ",".join(files)},
            )


@dg.definitions
def automation() -> dg.Definitions:
    return dg.Definitions(
        jobs=[ingest_job, refresh_job, nightly_job],
        schedules=[nightly_schedule],
        sensors=[redelivery_sensor],
    )

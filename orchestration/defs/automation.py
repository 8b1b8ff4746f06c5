"""Jobs, schedules and sensors: what runs without a person pressing a button.

- `ingest_job`: the ingest assets for chosen monthly partitions (backfills from the UI: one run
  per month, queued with bounded concurrency by dagster.yaml's run queue);
- `refresh_job`: everything downstream of ingestion (warehouse, quality flags, publication,
  analyst snapshot);
- `nightly_job`: one month's ingestion and everything downstream.

Every job runs its steps in one process (the in-process executor): a step does not pay a
process start and a project reload.

- `nightly_schedule` (off by default): at 02:00 London time, runs `nightly_job` for the newest
  complete month once every extract of that month has arrived, once per month; until then each
  tick is skipped with the extracts still awaited.
- `redelivery_sensor` (off by default): a month already loaded whose extract was re-delivered
  (a higher `_rN` revision) is reloaded, once per new file, and everything downstream refreshed.
- `refresh_after_ingest` (on by default): after ingest runs launched from the UI or a sensor (a
  backfill, say) have all finished, runs `refresh_job` once, so the marts and the snapshot catch
  up. Command-line runs refresh by themselves and are not counted.
- `run_failure_notifier` (off by default): logs every failed run, appends it to
  `<data>/logs/run_failures.jsonl` and, when PROBATION_FAILURE_WEBHOOK is set, posts it there.
- `freshness_checks_sensor` (off by default): evaluates the freshness checks: the newest
  complete month of every ingest asset must be loaded by 09:00 London time on the expected
  delivery day (PROBATION_DELIVERY_DAY, default the 10th).
"""

import json
import urllib.request
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import dagster as dg
from dagster._core.execution.backfill import BulkActionStatus

from orchestration.defs.ingest import EXTRACT_KEYS, LEDGER_KEY, PROFILES_KEY, ingest_month
from orchestration.ingest.extract_month import needs_load, previous_load
from orchestration.ingest.landing import delivered_months, latest_delivery
from orchestration.partitions import monthly_partitions
from orchestration.resources import NotifierResource, PipelineResource
from orchestration.running.instance import LAUNCHED_BY
from orchestration.settings import TIMEZONE, Settings
from schemas.contracts import MONTHLY_EXTRACTS

SNAPSHOT = dg.AssetKey("analyst_snapshot")
FRESHNESS_CHECK = "freshness_check"  # the name build_time_partition_freshness_checks gives
# The ingest assets with their rule checks; the freshness checks are evaluated by their own
# sensor, never as part of a load.
INGEST = dg.AssetSelection.groups("ingest") - dg.AssetSelection.checks(
    *(
        dg.AssetCheckKey(key, FRESHNESS_CHECK)
        for key in [*EXTRACT_KEYS.values(), LEDGER_KEY, PROFILES_KEY]
    )
)

ingest_job = dg.define_asset_job(
    "ingest_job",
    selection=INGEST,
    partitions_def=monthly_partitions,
    executor_def=dg.in_process_executor,
    description="Load chosen months of every extract into raw Parquet (one run per month).",
)
refresh_job = dg.define_asset_job(
    "refresh_job",
    selection=dg.AssetSelection.all() - dg.AssetSelection.groups("ingest"),
    executor_def=dg.in_process_executor,
    description="Rebuild the warehouse, the quality flags, the publication candidates and "
    "staged edition, and the analyst snapshot.",
)
nightly_job = dg.define_asset_job(
    "nightly_job",
    selection=dg.AssetSelection.all() - dg.AssetSelection.groups("ingest") | INGEST,
    partitions_def=monthly_partitions,
    executor_def=dg.in_process_executor,
    description="Load one month of every extract, then rebuild everything downstream.",
)


def newest_complete_month(when: datetime) -> str:
    """The month before `when` in Europe/London: the newest month whose extracts can exist."""
    local = when.astimezone(ZoneInfo(TIMEZONE))
    return (local.replace(day=1) - timedelta(days=1)).strftime("%Y-%m")


def awaited_extracts(settings: Settings, month: str) -> list[str]:
    """The monthly extracts of `month` not delivered yet."""
    return [e for e in MONTHLY_EXTRACTS if latest_delivery(settings.landing_dir, e, month) is None]


@dg.schedule(
    job=nightly_job,
    cron_schedule="0 2 * * *",
    execution_timezone=TIMEZONE,
    default_status=dg.DefaultScheduleStatus.STOPPED,
)
def nightly_schedule(context: dg.ScheduleEvaluationContext, pipeline: PipelineResource):
    """Every night at 02:00: once every extract of the newest complete month has arrived,
    load it and refresh everything downstream (once per month; re-deliveries are the sensor's).
    Until then, skip with the extracts still awaited."""
    month = newest_complete_month(context.scheduled_execution_time)
    awaited = awaited_extracts(pipeline.settings(), month)
    if awaited:
        return dg.SkipReason(
            f"{month}: waiting for {len(awaited)} of {len(MONTHLY_EXTRACTS)} extracts "
            f"({', '.join(awaited)}); a month not yet delivered is a gap, not a failure"
        )
    return dg.RunRequest(partition_key=month, run_key=f"nightly:{month}")


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
            deliveries = [latest_delivery(settings.landing_dir, e, month) for e in changed]
            files = sorted(d.path.name for d in deliveries if d is not None)
            yield dg.RunRequest(
                partition_key=month,
                run_key=f"redelivery:{month}:{','.join(files)}",  # once per delivered file
                tags={"probation/redelivered": ",".join(files)},
            )


def _last_storage_id(instance: dg.DagsterInstance, keys) -> tuple[int, str | None]:
    """The newest materialisation among `keys`: (storage id, run id), (0, None) if none."""
    newest, run_id = 0, None
    for record in instance.get_asset_records(list(keys)):
        event = record.asset_entry.last_materialization_record
        if event is not None and event.storage_id > newest:
            newest, run_id = event.storage_id, event.event_log_entry.run_id
    return newest, run_id


UNFINISHED = [
    dg.DagsterRunStatus.QUEUED,
    dg.DagsterRunStatus.NOT_STARTED,
    dg.DagsterRunStatus.STARTING,
    dg.DagsterRunStatus.STARTED,
]


@dg.sensor(
    job=refresh_job,
    minimum_interval_seconds=30,
    default_status=dg.DefaultSensorStatus.RUNNING,
)
def refresh_after_ingest(context: dg.SensorEvaluationContext):
    """Once the ingest runs launched from the UI or a sensor have all finished, refresh
    everything downstream once (a run key per newest load, so never twice for one load)."""
    instance = context.instance
    loaded, run_id = _last_storage_id(instance, EXTRACT_KEYS.values())
    refreshed, _ = _last_storage_id(instance, [SNAPSHOT])
    if loaded <= refreshed:
        return dg.SkipReason("the snapshot is newer than the last load: nothing to refresh")
    run = instance.get_run_by_id(run_id) if run_id else None
    if run is not None and run.tags.get(LAUNCHED_BY):
        return dg.SkipReason("the last load was a command-line run, which refreshes by itself")
    busy = instance.get_runs_count(dg.RunsFilter(statuses=UNFINISHED))
    if busy:
        return dg.SkipReason(f"waiting for {busy} unfinished run(s) before refreshing")
    if instance.get_backfills(status=BulkActionStatus.REQUESTED, limit=1):
        return dg.SkipReason("waiting for a backfill to finish requesting its runs")
    return dg.RunRequest(
        run_key=f"after-ingest:{loaded}", tags={"probation/trigger": "after ingest"}
    )


@dg.run_failure_sensor(
    name="run_failure_notifier",
    default_status=dg.DefaultSensorStatus.STOPPED,
    monitor_all_code_locations=False,
)
def run_failure_notifier(
    context: dg.RunFailureSensorContext, notifier: NotifierResource, pipeline: PipelineResource
):
    """Log a failed run, append it to <data>/logs/run_failures.jsonl, and post it to the
    configured webhook if there is one."""
    run = context.dagster_run
    message = context.failure_event.message or "run failed"
    entry = {
        "at": datetime.now(UTC).isoformat(timespec="seconds"),
        "run_id": run.run_id,
        "job": run.job_name,
        "partition": run.tags.get("dagster/partition"),
        "message": message,
    }
    context.log.error(f"run {run.run_id} of {run.job_name} failed: {message}")
    log = pipeline.settings().data_dir / "logs" / "run_failures.jsonl"
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("a") as handle:
        handle.write(json.dumps(entry) + "\n")
    url = notifier.url()
    if url:
        request = urllib.request.Request(
            url,
            data=json.dumps(entry).encode(),
            headers={"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=10):
            pass


def freshness_checks() -> list:
    day = Settings.delivery_day()
    return list(
        dg.build_time_partition_freshness_checks(
            assets=[ingest_month], deadline_cron=f"0 9 {day} * *", timezone=TIMEZONE
        )
    )


@dg.definitions
def automation() -> dg.Definitions:
    checks = freshness_checks()
    return dg.Definitions(
        jobs=[ingest_job, refresh_job, nightly_job],
        schedules=[nightly_schedule],
        sensors=[
            redelivery_sensor,
            refresh_after_ingest,
            run_failure_notifier,
            dg.build_sensor_for_freshness_checks(freshness_checks=checks),
        ],
        asset_checks=checks,
    )

"""Jobs, schedules and sensors: what runs without a person pressing a button.

- `ingest_job`: the ingest assets for chosen monthly partitions (backfills from the UI: one run
  per month, queued with bounded concurrency by dagster.yaml's run queue);
- `refresh_job`: everything downstream of ingestion (warehouse, quality flags, publication,
  analyst snapshot);
- `nightly_job`: one month's ingestion and everything downstream.

Every job runs its steps in one process (the in-process executor): a step does not pay a
process start and a project reload.

- `nightly_schedule` (off by default): at 02:00 London time, runs `nightly_job` for the newest
  complete month once every extract of that month has arrived; until then each tick is skipped
  with the extracts still awaited. A month that succeeded is not run again; a month whose run
  failed is tried again once a file it reads has changed, never in a loop on the same input.
- `redelivery_sensor` (off by default): a month already loaded whose extract was re-delivered
  (a higher `_rN` revision) is reloaded, once per new file, and everything downstream refreshed.
- `refresh_after_ingest` (on by default): after ingest runs launched from the UI or a sensor (a
  backfill, say) have all finished, runs `refresh_job` once, so the marts and the snapshot catch
  up. Command-line runs refresh by themselves and are not counted.
- `run_failure_notifier`, `edition_held_alert`, `late_data_alert` (off by default; on with
  `make automation-on`): alert a failed run (each failed step's reason: a rejected file names the
  file and the rule), an edition the quality gate held in a run that succeeded (with the flags
  that hold it) and a freshness check that newly failed, by the one path of
  orchestration/alerts.py: `<data>/logs/alerts.jsonl`, the webhook, email.
- `freshness_checks_sensor` (off by default): evaluates the freshness checks: the newest
  complete month of every ingest asset must be loaded by 09:00 London time on the expected
  delivery day (PROBATION_DELIVERY_DAY, default the 10th).
"""

import hashlib
import json
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import dagster as dg
from dagster._core.execution.backfill import BulkActionStatus
from dagster._core.storage.asset_check_execution_record import AssetCheckExecutionRecordStatus

from orchestration.alerts import Alert, deliver
from orchestration.defs.ingest import EXTRACT_KEYS, LEDGER_KEY, PROFILES_KEY, ingest_month
from orchestration.ingest.extract_month import needs_load, previous_load
from orchestration.ingest.landing import delivered_months, latest_delivery
from orchestration.partitions import monthly_partitions
from orchestration.resources import NotifierResource, PipelineResource
from orchestration.running.instance import LAUNCHED_BY
from orchestration.running.run_report import failure_lines
from orchestration.settings import TIMEZONE, Settings
from schemas.contracts import MONTHLY_EXTRACTS

SNAPSHOT = dg.AssetKey("analyst_snapshot")
FRESHNESS_CHECK = "freshness_check"  # the name build_time_partition_freshness_checks gives
FRESH_KEYS = [*EXTRACT_KEYS.values(), LEDGER_KEY, PROFILES_KEY]  # what the freshness checks watch
GATE_CHECK = "publication_respects_quality_gate"
# The ingest assets with their rule checks; the freshness checks are evaluated by their own
# sensor, never as part of a load.
INGEST = dg.AssetSelection.groups("ingest") - dg.AssetSelection.checks(
    *(dg.AssetCheckKey(key, FRESHNESS_CHECK) for key in FRESH_KEYS)
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


def deliveries_digest(settings: Settings, month: str) -> str:
    """What the month's run reads from the landing zone: the latest delivery of each extract
    (name, size and modification time). A new or corrected file (a new revision) changes it."""
    digest = hashlib.sha256()
    for extract in MONTHLY_EXTRACTS:
        found = latest_delivery(settings.landing_dir, extract, month)
        if found is not None:
            stat = found.path.stat()
            digest.update(f"{found.path.name}\x1f{stat.st_size}\x1f{stat.st_mtime_ns}\x1e".encode())
    return digest.hexdigest()[:16]


@dg.schedule(
    job=nightly_job,
    cron_schedule="0 2 * * *",
    execution_timezone=TIMEZONE,
    default_status=dg.DefaultScheduleStatus.STOPPED,
)
def nightly_schedule(context: dg.ScheduleEvaluationContext, pipeline: PipelineResource):
    """Every night at 02:00: once every extract of the newest complete month has arrived,
    load it and refresh everything downstream. Until then, skip with the extracts awaited.

    The run key is the month and what it reads from the landing zone: a month that succeeded
    is not run again (re-deliveries are the sensor's), and a month whose run failed is tried
    again on the next tick once a file it reads has changed (a new or corrected delivery),
    never again on the same bad input."""
    month = newest_complete_month(context.scheduled_execution_time)
    settings = pipeline.settings()
    awaited = awaited_extracts(settings, month)
    if awaited:
        return dg.SkipReason(
            f"{month}: waiting for {len(awaited)} of {len(MONTHLY_EXTRACTS)} extracts "
            f"({', '.join(awaited)}); a month not yet delivered is a gap, not a failure"
        )
    last = context.instance.get_runs(
        filters=dg.RunsFilter(job_name=nightly_job.name, tags={"dagster/partition": month}),
        limit=1,
    )
    if last and last[0].status == dg.DagsterRunStatus.SUCCESS:
        return dg.SkipReason(f"{month}: loaded by run {last[0].run_id}")
    digest = deliveries_digest(settings, month)
    return dg.RunRequest(
        partition_key=month,
        run_key=f"nightly:{month}:{digest}",
        tags={"probation/deliveries": digest},
    )


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


def _alert(pipeline: PipelineResource, notifier: NotifierResource, alert: Alert, log) -> None:
    """Deliver an alert on the one path (orchestration/alerts.py); a channel that fails is
    logged as an error, never raised, so one unreachable receiver does not stop the others."""
    log.warning(alert.line)
    for problem in deliver(alert, notifier.channels(), pipeline.settings().alerts_log):
        log.error(problem)


@dg.run_failure_sensor(
    name="run_failure_notifier",
    default_status=dg.DefaultSensorStatus.STOPPED,
    monitor_all_code_locations=False,
)
def run_failure_notifier(
    context: dg.RunFailureSensorContext, notifier: NotifierResource, pipeline: PipelineResource
):
    """Alert a failed run, in one line with each failed step's own reason (a rejected file
    names the file and the rule), to the log, the webhook and email."""
    run = context.dagster_run
    steps = [
        record.dagster_event
        for record in context.instance.all_logs(
            run.run_id, of_type=dg.DagsterEventType.STEP_FAILURE
        )
        if record.dagster_event is not None
    ]
    reasons = failure_lines(steps) or [context.failure_event.message or "run failed"]
    partition = run.tags.get("dagster/partition")
    where = f" for {partition}" if partition else ""
    line = f"{run.job_name} run{where} failed: " + "; ".join(reasons)
    details = {"run_id": run.run_id, "job": run.job_name, "partition": partition,
               "message": "; ".join(reasons), "reasons": reasons}  # fmt: skip
    _alert(pipeline, notifier, Alert("run_failed", line, details), context.log)


@dg.run_status_sensor(
    name="edition_held_alert",
    run_status=dg.DagsterRunStatus.SUCCESS,
    default_status=dg.DefaultSensorStatus.STOPPED,
    monitor_all_code_locations=False,
)
def edition_held_alert(
    context: dg.RunStatusSensorContext, notifier: NotifierResource, pipeline: PipelineResource
):
    """Alert an edition the quality gate held in a run that succeeded: the edition, why, and
    the quality flags a statistician must review before it can be staged."""
    for record in context.instance.all_logs(
        context.dagster_run.run_id, of_type=dg.DagsterEventType.ASSET_CHECK_EVALUATION
    ):
        evaluation = record.dagster_event.event_specific_data if record.dagster_event else None
        if (
            not isinstance(evaluation, dg.AssetCheckEvaluation)
            or evaluation.check_name != GATE_CHECK
            or evaluation.passed
        ):
            continue
        metadata = {k: v.value for k, v in evaluation.metadata.items()}
        flags = list(metadata.get("unreviewed_flags") or [])
        line = evaluation.description or "edition held by the quality gate"
        details = {"run_id": context.dagster_run.run_id, "job": context.dagster_run.job_name,
                   "edition": metadata.get("edition"), "flags": flags}  # fmt: skip
        _alert(pipeline, notifier, Alert("edition_held", line, details), context.log)


@dg.sensor(
    name="late_data_alert",
    default_status=dg.DefaultSensorStatus.STOPPED,
    minimum_interval_seconds=300,
)
def late_data_alert(
    context: dg.SensorEvaluationContext, notifier: NotifierResource, pipeline: PipelineResource
):
    """Alert data that is late: an ingest asset whose freshness check failed (the newest
    complete month not loaded by its deadline). Once when the check turns from passing (or
    never evaluated) to failing, not again while it keeps failing."""
    failing = set(json.loads(context.cursor)) if context.cursor else set()
    keys = [dg.AssetCheckKey(key, FRESHNESS_CHECK) for key in FRESH_KEYS]
    latest = context.instance.event_log_storage.get_latest_asset_check_execution_by_key(keys)
    late = []
    for key, record in sorted(latest.items(), key=lambda item: item[0].asset_key.to_user_string()):
        name = key.asset_key.to_user_string()
        if record.status != AssetCheckExecutionRecordStatus.FAILED:
            failing.discard(name)
            continue
        if name in failing:
            continue
        failing.add(name)
        evaluation = record.event.dagster_event.event_specific_data if record.event else None
        why = getattr(evaluation, "description", None) or "not loaded by its deadline"
        late.append((name, why))
    context.update_cursor(json.dumps(sorted(failing)))
    if not late:
        return dg.SkipReason("no freshness check newly failed")
    line = f"late data: {len(late)} ingest asset(s) not fresh: " + ", ".join(n for n, _ in late)
    details = {"assets": {name: why for name, why in late}}
    _alert(pipeline, notifier, Alert("late_data", line, details), context.log)
    return dg.SkipReason(line)


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
            edition_held_alert,
            late_data_alert,
            dg.build_sensor_for_freshness_checks(freshness_checks=checks),
        ],
        asset_checks=checks,
    )

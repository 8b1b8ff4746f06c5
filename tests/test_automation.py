"""The nightly schedule, the re-delivery and refresh sensors, and the alerts, evaluated as Dagster
would."""

import json
from datetime import datetime
from zoneinfo import ZoneInfo

import dagster as dg
import pytest
from dagster._core.utils import make_new_run_id

from orchestration.defs.automation import nightly_job, nightly_schedule, redelivery_sensor
from orchestration.ingest.extract_month import load_partition
from orchestration.resources import PipelineResource
from orchestration.settings import Settings
from schemas.contracts import EXTRACTS

pytestmark = pytest.mark.operations

# The instances and contexts a schedule was evaluated with, kept until the session ends: Dagster
# keeps a weak reference to the last instance opened (its definitions-state storage), and
# loading the definitions later in the session resolves it.
_KEPT: list[object] = []


def kept_instance(tmp_path) -> dg.DagsterInstance:
    """A persistent Dagster instance in `tmp_path` (a schedule context needs one)."""
    home = tmp_path / "dagster_home"
    home.mkdir()
    instance = dg.DagsterInstance.local_temp(str(home))
    _KEPT.append(instance)
    return instance


def nightly_tick(instance: dg.DagsterInstance, landing, data):
    """The nightly schedule's tick of 2 June 2021, 02:00 London time, as a function to call."""
    resource = PipelineResource(landing_dir=str(landing), data_dir=str(data))

    def tick():
        context = dg.build_schedule_context(
            instance=instance,
            scheduled_execution_time=datetime(2021, 6, 2, 2, 0, tzinfo=ZoneInfo("Europe/London")),
            resources={"pipeline": resource},
        )
        _KEPT.append(context)  # it opens an instance of its own, which must outlive it too
        return nightly_schedule(context)

    return tick


def test_nightly_schedule_waits_for_every_extract_of_the_newest_month(landing_copy, tmp_path):
    instance = kept_instance(tmp_path)
    tick = nightly_tick(instance, landing_copy, tmp_path / "data")

    held_back = landing_copy / "recalls" / "recalls_2021-05.csv"
    saved = held_back.read_text()
    held_back.unlink()
    waiting = tick()
    assert isinstance(waiting, dg.SkipReason)
    assert waiting.skip_message.startswith("2021-05: waiting for 1 of 12 extracts (recalls)")

    held_back.write_text(saved)  # the last extract arrives: the month runs
    request = tick()
    assert isinstance(request, dg.RunRequest) and request.partition_key == "2021-05"
    assert request.run_key.startswith("nightly:2021-05:")


def test_a_failed_night_is_tried_again_only_once_a_file_it_reads_changed(landing_copy, tmp_path):
    instance = kept_instance(tmp_path)
    tick = nightly_tick(instance, landing_copy, tmp_path / "data")

    def ran(request: dg.RunRequest, status: dg.DagsterRunStatus) -> None:
        """The run the request started, recorded with its outcome as the daemon would."""
        tags = {**request.tags, "dagster/partition": "2021-05"}
        instance.add_run(
            dg.DagsterRun(
                job_name=nightly_job.name, run_id=make_new_run_id(), status=status, tags=tags
            )
        )

    first = tick()
    ran(first, dg.DagsterRunStatus.FAILURE)  # a truncated file, say
    again = tick()
    assert again.run_key == first.run_key  # the same input: Dagster runs a key once, no loop
    corrected = landing_copy / "contacts" / "contacts_2021-05_r2.csv"
    corrected.write_text((landing_copy / "contacts" / "contacts_2021-05.csv").read_text())
    retry = tick()
    assert isinstance(retry, dg.RunRequest) and retry.run_key != first.run_key
    ran(retry, dg.DagsterRunStatus.SUCCESS)
    done = tick()
    assert isinstance(done, dg.SkipReason) and done.skip_message.startswith("2021-05: loaded by")


def test_sensor_requests_one_run_per_redelivered_file(landing_copy, tmp_path):
    settings = Settings.from_env(landing_copy, tmp_path / "data")
    for extract in EXTRACTS:
        for month in ("2021-03", "2021-04", "2021-05"):
            load_partition(settings, extract, month)
    resource = PipelineResource(landing_dir=str(landing_copy), data_dir=str(settings.data_dir))

    def evaluate():
        context = dg.build_sensor_context(resources={"pipeline": resource})
        return list(redelivery_sensor(context))

    assert evaluate() == []  # everything loaded is current

    original = landing_copy / "contacts" / "contacts_2021-04.csv"
    (landing_copy / "contacts" / "contacts_2021-04_r2.csv").write_text(original.read_text())
    requests = evaluate()
    assert [(r.partition_key, r.run_key) for r in requests] == [
        ("2021-04", "redelivery:2021-04:contacts_2021-04_r2.csv")
    ]

    # A third revision is a new file: a new run key, so the sensor asks again.
    (landing_copy / "contacts" / "contacts_2021-04_r3.csv").write_text(original.read_text())
    assert [r.run_key for r in evaluate()] == ["redelivery:2021-04:contacts_2021-04_r3.csv"]


def test_newest_complete_month_follows_london_time():
    from orchestration.defs.automation import newest_complete_month

    # 00:30 on 1 May in London is still 30 April in UTC: London decides.
    assert newest_complete_month(datetime(2025, 4, 30, 23, 30, tzinfo=ZoneInfo("UTC"))) == "2025-04"
    assert newest_complete_month(datetime(2025, 1, 1, 2, 0, tzinfo=ZoneInfo("Europe/London"))) == (
        "2024-12"
    )


def test_refresh_follows_a_ui_load_once_and_leaves_command_line_loads_alone(
    landing_copy, tmp_path, monkeypatch
):
    from orchestration.defs.automation import refresh_after_ingest
    from orchestration.running.instance import command_line_tags
    from orchestration.running.runner import load_definitions

    monkeypatch.setenv("PROBATION_LANDING_DIR", str(landing_copy))
    monkeypatch.setenv("PROBATION_DATA_DIR", str(tmp_path / "data"))
    job = load_definitions().resolve_job_def("ingest_job")
    instance = dg.DagsterInstance.ephemeral()

    def load(month, tags=None):
        result = job.execute_in_process(
            partition_key=month,
            asset_selection=[dg.AssetKey(["raw", "persons"])],
            instance=instance,
            tags=tags,
        )
        assert result.success

    def evaluate():
        return refresh_after_ingest(dg.build_sensor_context(instance=instance))

    load("2021-03", tags=command_line_tags())  # the command line refreshes by itself
    assert "command-line run" in evaluate().skip_message

    load("2021-04")  # as a UI backfill's run would
    request = evaluate()
    assert isinstance(request, dg.RunRequest) and request.run_key.startswith("after-ingest:")
    assert evaluate().run_key == request.run_key  # the same load: the same key, one run


def test_a_failed_run_is_one_alert_naming_the_file_and_rule(landing_copy, tmp_path, monkeypatch):
    from orchestration.defs.automation import run_failure_notifier
    from orchestration.defs.ingest import ingest_selection
    from orchestration.resources import NotifierResource
    from orchestration.running.runner import load_definitions
    from tests.receivers import webhook_receiver

    bad = landing_copy / "persons" / "persons_2021-03.csv"
    bad.write_text(bad.read_text().replace("\n", "\nnot,a,person\n", 1))
    data = tmp_path / "data"
    monkeypatch.setenv("PROBATION_LANDING_DIR", str(landing_copy))
    monkeypatch.setenv("PROBATION_DATA_DIR", str(data))
    instance = dg.DagsterInstance.ephemeral()
    job = (
        load_definitions().resolve_job_def("ingest_job").get_subset(**ingest_selection(["persons"]))
    )
    result = job.execute_in_process(
        partition_key="2021-03", instance=instance, raise_on_error=False
    )
    assert not result.success
    (failure,) = instance.all_logs(result.run_id, of_type=dg.DagsterEventType.RUN_FAILURE)
    with webhook_receiver() as (url, posted):
        context = dg.build_run_status_sensor_context(
            sensor_name="run_failure_notifier",
            dagster_event=failure.dagster_event,
            dagster_instance=instance,
            dagster_run=instance.get_run_by_id(result.run_id),
            resources={
                "notifier": NotifierResource(webhook_url=url),
                "pipeline": PipelineResource(),
            },
        ).for_run_failure()
        run_failure_notifier(context)

    (logged,) = [json.loads(line) for line in (data / "logs" / "alerts.jsonl").open()]
    assert logged == posted[0] and logged["kind"] == "run_failed"
    assert (logged["run_id"], logged["job"], logged["partition"]) == (
        result.run_id, "ingest_job", "2021-03",
    )  # fmt: skip
    # one line, naming the file and the rule it broke, without class names
    assert "\n" not in logged["line"] and logged["line"].startswith("ingest_job run for 2021-03")
    assert "persons_2021-03.csv" in logged["line"] and "Error" not in logged["line"]


def test_late_data_is_alerted_once_each_time_a_freshness_check_turns_failed(tmp_path, monkeypatch):
    from orchestration.defs.automation import FRESHNESS_CHECK, late_data_alert
    from orchestration.defs.ingest import EXTRACT_KEYS
    from orchestration.resources import NotifierResource
    from tests.receivers import webhook_receiver

    monkeypatch.setenv("PROBATION_DATA_DIR", str(tmp_path / "data"))
    instance = dg.DagsterInstance.ephemeral()
    persons = EXTRACT_KEYS["persons"]

    def freshness(passed: bool) -> None:
        instance.report_runless_asset_event(
            dg.AssetCheckEvaluation(
                asset_key=persons,
                check_name=FRESHNESS_CHECK,
                passed=passed,
                description=None if passed else "2024-02 not loaded by 09:00 on 2024-03-10",
            )
        )

    with webhook_receiver() as (url, posted):
        resources = {"notifier": NotifierResource(webhook_url=url), "pipeline": PipelineResource()}
        context = dg.build_sensor_context(instance=instance, resources=resources)

        def tick() -> str:  # the context keeps the cursor between ticks, as the daemon does
            return late_data_alert(context).skip_message

        assert tick() == "no freshness check newly failed"
        freshness(passed=False)
        assert tick().startswith("late data: 1 ingest asset(s) not fresh: raw/persons")
        assert tick() == "no freshness check newly failed"  # the same failure: no second alert
        freshness(passed=False)  # evaluated again, still late: still one alert
        assert tick() == "no freshness check newly failed"
        freshness(passed=True)  # the month is loaded
        assert tick() == "no freshness check newly failed"
        freshness(passed=False)  # late again (the next month): alerted again
        assert tick().startswith("late data: 1 ingest asset(s)")
    assert [alert["kind"] for alert in posted] == ["late_data", "late_data"]
    assert posted[0]["assets"] == {"raw/persons": "2024-02 not loaded by 09:00 on 2024-03-10"}

"""The nightly schedule and the re-delivery sensor, evaluated as Dagster would."""

from datetime import datetime
from zoneinfo import ZoneInfo

import dagster as dg
import pytest

from orchestration.defs.automation import nightly_schedule, redelivery_sensor
from orchestration.ingest.extract_month import load_partition
from orchestration.resources import PipelineResource
from orchestration.settings import Settings
from schemas.contracts import EXTRACTS

pytestmark = pytest.mark.operations


def test_nightly_schedule_waits_for_every_extract_of_the_newest_month(landing_copy, tmp_path):
    resource = PipelineResource(landing_dir=str(landing_copy), data_dir=str(tmp_path / "data"))

    def tick():
        context = dg.build_schedule_context(
            scheduled_execution_time=datetime(2021, 6, 2, 2, 0, tzinfo=ZoneInfo("Europe/London")),
            resources={"pipeline": resource},
        )
        return nightly_schedule(context)

    held_back = landing_copy / "recalls" / "recalls_2021-05.csv"
    saved = held_back.read_text()
    held_back.unlink()
    waiting = tick()
    assert isinstance(waiting, dg.SkipReason)
    assert waiting.skip_message.startswith("2021-05: waiting for 1 of 12 extracts (recalls)")

    held_back.write_text(saved)  # the last extract arrives: the month runs, once
    request = tick()
    assert isinstance(request, dg.RunRequest)
    assert (request.partition_key, request.run_key) == ("2021-05", "nightly:2021-05")


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


def test_a_failed_run_is_logged_and_posted_to_the_webhook(landing_copy, tmp_path, monkeypatch):
    import json
    import threading
    from http.server import BaseHTTPRequestHandler, HTTPServer

    from orchestration.defs.automation import run_failure_notifier
    from orchestration.defs.ingest import ingest_selection
    from orchestration.resources import NotifierResource
    from orchestration.running.runner import load_definitions

    posted = []

    class Hook(BaseHTTPRequestHandler):
        def do_POST(self):
            posted.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = HTTPServer(("127.0.0.1", 0), Hook)
    threading.Thread(target=server.serve_forever, daemon=True).start()

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
    context = dg.build_run_status_sensor_context(
        sensor_name="run_failure_notifier",
        dagster_event=failure.dagster_event,
        dagster_instance=instance,
        dagster_run=instance.get_run_by_id(result.run_id),
        resources={
            "notifier": NotifierResource(webhook_url=f"http://127.0.0.1:{server.server_port}/"),
            "pipeline": PipelineResource(),
        },
    ).for_run_failure()
    try:
        run_failure_notifier(context)
    finally:
        server.shutdown()

    (logged,) = [json.loads(line) for line in (data / "logs" / "run_failures.jsonl").open()]
    assert logged == posted[0]
    assert (logged["run_id"], logged["job"], logged["partition"]) == (
        result.run_id, "ingest_job", "2021-03",
    )  # fmt: skip
    assert "ingest_month" in logged["message"]

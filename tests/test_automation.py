"""The nightly schedule and the re-delivery sensor, evaluated as Dagster would."""

from datetime import datetime
from zoneinfo import ZoneInfo

import dagster as dg

from orchestration.defs.automation import nightly_schedule, redelivery_sensor
from orchestration.ingest import load_partition
from orchestration.resources import PipelineResource
from orchestration.settings import Settings
from schemas.contracts import EXTRACTS


def test_nightly_schedule_runs_the_newest_complete_month():
    context = dg.build_schedule_context(
        scheduled_execution_time=datetime(2025, 4, 2, 2, 0, tzinfo=ZoneInfo("Europe/London"))
    )
    request = nightly_schedule(context)
    assert request.partition_key == "2025-03"


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

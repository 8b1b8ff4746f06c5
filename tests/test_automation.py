"""The nightly schedule and the re-delivery sensor, evaluated as Dagster would."""

import contextlib
from datetime import datetime
from zoneinfo import ZoneInfo

import dagster as dg
import pytest
from dagster._core.utils import make_new_run_id

from orchestration.defs.automation import nightly_job, nightly_schedule
from orchestration.resources import PipelineResource

pytestmark = pytest.mark.operations


@pytest.fixture
def stack():
    """Context managers entered by a test and exited after it (a test Dagster instance)."""
    with contextlib.ExitStack() as exits:
        yield exits


def test_nightly_schedule_waits_for_every_extract_of_the_newest_month(
    landing_copy, tmp_path, stack
):
    resource = PipelineResource(landing_dir=str(landing_copy), data_dir=str(tmp_path / "data"))
    instance = stack.enter_context(dg.instance_for_test())

    def tick():
        context = dg.build_schedule_context(
            instance=instance,
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

    held_back.write_text(saved)  # the last extract arrives: the month runs
    request = tick()
    assert isinstance(request, dg.RunRequest) and request.partition_key == "2021-05"
    assert request.run_key.startswith("nightly:2021-05:")


def test_a_failed_night_is_tried_again_only_once_a_file_it_reads_changed(
    landing_copy, tmp_path, stack
):
    resource = PipelineResource(landing_dir=str(landing_copy), data_dir=str(tmp_path / "data"))
    instance = stack.enter_context(dg.instance_for_test())

    def tick():
        context = dg.build_schedule_context(
            instance=instance,
            scheduled_execution_time=datetime(2021, 6, 2, 2, 0, tzinfo=ZoneInfo("Europe/London")),
            resources={"pipeline": resource},
        )
        return nightly_schedule(context)

    def ran(request: dg.RunRequest, status: dg.DagsterRunStatus) -> None:
        """The run the request started, recorded with its outcome as the daemon would."""
        tags = {**request.tags, "dagster/partition": "2021-05"}
        instance.add_run(
            dg.DagsterRun(
                job_name=nightly_job.name, run_id=make_new_run_id(), status=status, tags=tags
            )  # fmt: skip
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

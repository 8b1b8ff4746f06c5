"""The deployment as an operator uses it: `dagster dev` (webserver and daemon) on 127.0.0.1, a
backfill of three months launched through the GraphQL API, as the UI launches it.

Asserted: every backfill run succeeds and is named after its job; the refresh_after_ingest
sensor (on by default) then refreshes the marts and the snapshot once, by itself; a second run
launched while that refresh's dbt build writes the warehouse, and reading it, runs concurrently
with it and neither fails on DuckDB's single-writer lock (the warehouse pool serialises their
warehouse steps).
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import duckdb
import pytest

from orchestration.settings import PROJECT_ROOT
from tests.conftest import FIXTURE_LANDING

pytestmark = pytest.mark.operations

MONTHS = ["2021-03", "2021-04", "2021-05"]
FINISHED = {"SUCCESS", "FAILURE", "CANCELED"}


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Dagster:
    """A `dagster dev` process and a GraphQL client for it."""

    def __init__(self, url: str):
        self.url = url

    def query(self, text: str, **variables) -> dict:
        body = json.dumps({"query": text, "variables": variables}).encode()
        request = urllib.request.Request(
            f"{self.url}/graphql", data=body, headers={"Content-Type": "application/json"}
        )
        with urllib.request.urlopen(request, timeout=60) as response:
            answer = json.loads(response.read())
        assert "errors" not in answer, answer["errors"]
        return answer["data"]

    def runs(self, **run_filter) -> list[dict]:
        data = self.query(
            """query($filter: RunsFilter) { runsOrError(filter: $filter) {
                 ... on Runs { results { runId jobName status tags { key value } } } } }""",
            filter=run_filter,
        )
        return data["runsOrError"]["results"]

    def wait(self, what, condition, timeout: float, log: Path):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = condition()
            if found:
                return found
            time.sleep(2)
        raise AssertionError(f"timed out waiting for {what}; dagster dev log:\n{_tail(log)}")


def _tail(path: Path, lines: int = 60) -> str:
    return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])


@pytest.fixture
def dagster_dev(tmp_path):
    """`dagster dev` on 127.0.0.1 over a copy of the fixture landing zone, with the project's
    dagster.yaml; stopped (its whole process group) afterwards."""
    home, data, landing = tmp_path / "dagster_home", tmp_path / "data", tmp_path / "landing"
    home.mkdir()
    shutil.copyfile(PROJECT_ROOT / "dagster.yaml", home / "dagster.yaml")
    shutil.copytree(FIXTURE_LANDING, landing)
    port = _free_port()
    env = {
        **os.environ,
        "DAGSTER_HOME": str(home),
        "PROBATION_DATA_DIR": str(data),
        "PROBATION_LANDING_DIR": str(landing),
    }
    log = tmp_path / "dagster_dev.log"
    dagster = Path(sys.executable).with_name("dagster")
    with log.open("w") as out:
        process = subprocess.Popen(
            [str(dagster), "dev", "--host", "127.0.0.1", "--port", str(port)],
            cwd=PROJECT_ROOT, env=env, stdout=out, stderr=subprocess.STDOUT,
            start_new_session=True,
        )  # fmt: skip
    client = Dagster(f"http://127.0.0.1:{port}")

    def ready():
        try:
            data = client.query(
                "{ repositoriesOrError { ... on RepositoryConnection { nodes { name "
                "location { name } } } } }"
            )
        except OSError:
            return None
        nodes = data["repositoriesOrError"].get("nodes") or []
        return nodes[0] if nodes else None

    try:
        repository = client.wait("the webserver to load the code", ready, 180, log)
        yield client, repository, data, log
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)


def test_a_ui_backfill_loads_the_months_and_the_marts_refresh_by_themselves(dagster_dev):
    client, repository, data, log = dagster_dev
    selector = {
        "repositoryName": repository["name"],
        "repositoryLocationName": repository["location"]["name"],
    }
    launched = client.query(
        """mutation($params: LaunchBackfillParams!) { launchPartitionBackfill(backfillParams:
             $params) { __typename ... on LaunchBackfillSuccess { backfillId }
             ... on PythonError { message } } }""",
        params={
            "selector": {
                "partitionSetName": "ingest_job_partition_set",
                "repositorySelector": selector,
            },
            "partitionNames": MONTHS,
        },
    )["launchPartitionBackfill"]
    assert launched["__typename"] == "LaunchBackfillSuccess", launched
    backfill = launched["backfillId"]

    def backfill_runs_finished():
        runs = client.runs(tags=[{"key": "dagster/backfill", "value": backfill}])
        return (
            runs if len(runs) == len(MONTHS) and {r["status"] for r in runs} <= FINISHED else None
        )

    runs = client.wait("the backfill's runs", backfill_runs_finished, 420, log)
    assert {r["status"] for r in runs} == {"SUCCESS"}, runs
    assert {r["jobName"] for r in runs} == {"ingest_job"}
    partitions = {t["value"] for r in runs for t in r["tags"] if t["key"] == "dagster/partition"}
    assert partitions == set(MONTHS)

    # The sensor refreshes once the backfill is done. A second run launched by hand while that
    # refresh's dbt build is writing the warehouse reads it (analyst_snapshot copies the
    # marts): it must wait for the warehouse pool, not fail on DuckDB's lock.
    sensor_refresh = client.wait(
        "the refresh the sensor launches",
        lambda: client.runs(pipelineName="refresh_job"),
        240,
        log,
    )
    assert len(sensor_refresh) == 1
    assert {"key": "probation/trigger", "value": "after ingest"} in sensor_refresh[0]["tags"]
    client.wait(
        "the dbt build to open the warehouse",
        lambda: (data / "warehouse.duckdb").exists(),
        240,
        log,
    )
    second = client.query(
        """mutation($params: ExecutionParams!) { launchRun(executionParams: $params) {
             __typename ... on LaunchRunSuccess { run { runId } } ... on PythonError { message }
           } }""",
        params={
            "selector": {
                **selector,
                "jobName": "refresh_job",
                "assetSelection": [{"path": ["analyst_snapshot"]}],
            },
            "runConfigData": {},
        },
    )["launchRun"]
    assert second["__typename"] == "LaunchRunSuccess", second

    def refreshes_finished():
        runs = client.runs(pipelineName="refresh_job")
        return runs if len(runs) == 2 and {r["status"] for r in runs} <= FINISHED else None

    refreshes = client.wait("both runs", refreshes_finished, 600, log)
    assert [r["status"] for r in refreshes] == ["SUCCESS", "SUCCESS"], _tail(log)
    assert "Could not set lock" not in log.read_text(errors="replace")

    with duckdb.connect(str(data / "analytics.duckdb"), read_only=True) as con:
        months = con.execute(
            "select distinct strftime(month, '%Y-%m') from measure_monthly order by 1"
        ).fetchall()
        loads = con.execute("select count(*) from stg_loads").fetchone()[0]
    assert [m for (m,) in months if m in MONTHS] == MONTHS
    assert loads == 12 * len(MONTHS)  # every monthly extract of every month, in the ledger

    # Once current, the sensor's next tick declines: the refresh ran once.
    def declined():
        data = client.query(
            """query($selector: SensorSelector!) { sensorOrError(sensorSelector: $selector) {
                 ... on Sensor { sensorState { ticks(limit: 1) { status skipReason } } } } }""",
            selector={**selector, "sensorName": "refresh_after_ingest"},
        )
        (tick,) = data["sensorOrError"]["sensorState"]["ticks"]
        return tick["status"] == "SKIPPED" and "nothing to refresh" in (tick["skipReason"] or "")

    client.wait("the sensor to find nothing more to refresh", declined, 120, log)
    assert len(client.runs(pipelineName="refresh_job")) == 2

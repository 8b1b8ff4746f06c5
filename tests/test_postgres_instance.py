"""The PostgreSQL deployment (deploy/dagster-postgres.yaml) against a real local PostgreSQL
server: started for the test from the system's PostgreSQL (installed by `make setup` when
missing and this is root; otherwise skipped, saying why), listening on 127.0.0.1 only, stopped
after. A real load of a fixture month runs on that instance and is read back from PostgreSQL
itself."""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path

import dagster as dg
import psycopg2
import pytest
import yaml

from orchestration.defs.ingest import ingest_selection
from orchestration.running.runner import load_definitions
from orchestration.settings import PROJECT_ROOT
from tests.conftest import FIXTURE_LANDING

pytestmark = pytest.mark.operations

VARIANT = PROJECT_ROOT / "deploy" / "dagster-postgres.yaml"
USER, PASSWORD, DATABASE = "dagster", "dagster-test-password", "dagster_test"


def _postgres_bin() -> Path | None:
    found = shutil.which("initdb")
    if found:
        return Path(found).parent
    versions = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    return Path(versions[-1]).parent if versions else None


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def postgres():
    """A PostgreSQL server of our own on 127.0.0.1 (connection settings as a dict)."""
    bin_dir = _postgres_bin()
    if bin_dir is None:
        pytest.skip(
            "PostgreSQL is not installed: `make setup` installs it when run as root with "
            "apt-get (else apt-get install postgresql)"
        )
    as_server: list[str] = []
    root = Path(tempfile.mkdtemp(prefix="pipeline-pg-"))  # outside root's private tmp
    if os.geteuid() == 0:  # PostgreSQL refuses to run as root: its own account runs it
        if (
            not shutil.which("runuser")
            or subprocess.run(["id", "postgres"], capture_output=True).returncode
        ):
            shutil.rmtree(root)
            pytest.skip("running as root without a `postgres` account to run PostgreSQL as")
        shutil.chown(root, "postgres", "postgres")
        as_server = ["runuser", "-u", "postgres", "--"]
    data, password_file = root / "data", root / "password"
    password_file.write_text(PASSWORD + "\n")
    if as_server:
        shutil.chown(password_file, "postgres", "postgres")
    port = _free_port()

    def run(*command: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [*as_server, *command], capture_output=True, text=True, timeout=120, check=False
        )

    created = run(
        str(bin_dir / "initdb"), "-D", str(data), "-U", USER, f"--pwfile={password_file}",
        "--auth-local=trust", "--auth-host=scram-sha-256", "--no-sync",
    )  # fmt: skip
    assert created.returncode == 0, created.stderr
    options = f"-p {port} -k {root} -c listen_addresses=127.0.0.1 -c fsync=off"
    started = run(
        str(bin_dir / "pg_ctl"), "-D", str(data), "-o", options, "-l", str(root / "log"), "-w",
        "start",
    )  # fmt: skip
    assert started.returncode == 0, started.stderr + (root / "log").read_text()
    try:
        con = psycopg2.connect(
            host="127.0.0.1", port=port, user=USER, password=PASSWORD, dbname="postgres"
        )
        con.autocommit = True  # CREATE DATABASE cannot run in a transaction
        con.cursor().execute(f"create database {DATABASE}")
        con.close()
        yield {"host": "127.0.0.1", "port": port}
    finally:
        run(str(bin_dir / "pg_ctl"), "-D", str(data), "-m", "fast", "-w", "stop")
        shutil.rmtree(root, ignore_errors=True)


def test_the_postgres_variant_keeps_the_sqlite_settings():
    sqlite, postgres = (
        yaml.safe_load(p.read_text()) for p in (PROJECT_ROOT / "dagster.yaml", VARIANT)
    )
    assert set(sqlite.pop("storage")) == {"sqlite"} and set(postgres.pop("storage")) == {"postgres"}
    assert postgres == sqlite


def test_a_load_is_recorded_in_postgres(postgres, tmp_path, monkeypatch):
    home = tmp_path / "dagster_home"
    home.mkdir()
    shutil.copyfile(VARIANT, home / "dagster.yaml")
    for name, value in {
        "DAGSTER_PG_HOST": postgres["host"], "DAGSTER_PG_PORT": str(postgres["port"]),
        "DAGSTER_PG_USER": USER, "DAGSTER_PG_PASSWORD": PASSWORD, "DAGSTER_PG_DB": DATABASE,
        "DAGSTER_HOME": str(home),
        "PROBATION_LANDING_DIR": str(shutil.copytree(FIXTURE_LANDING, tmp_path / "landing")),
        "PROBATION_DATA_DIR": str(tmp_path / "data"),
    }.items():  # fmt: skip
        monkeypatch.setenv(name, value)

    with dg.DagsterInstance.from_config(str(home)) as instance:
        job = load_definitions().resolve_job_def("ingest_job")
        result = job.get_subset(**ingest_selection(["persons"])).execute_in_process(
            partition_key="2021-03", instance=instance, raise_on_error=False
        )
        assert result.success
        assert [r.run_id for r in instance.get_runs()] == [result.run_id]
        event = instance.get_latest_materialization_event(dg.AssetKey(["raw", "persons"]))
        assert event.run_id == result.run_id
        assert event.asset_materialization.partition == "2021-03"

    with psycopg2.connect(
        host=postgres["host"], port=postgres["port"], user=USER, password=PASSWORD,
        dbname=DATABASE,
    ) as con:  # fmt: skip
        cursor = con.cursor()
        cursor.execute("select pipeline_name from runs where run_id = %s", [result.run_id])
        assert cursor.fetchall() == [("ingest_job",)]
        cursor.execute("select count(*) from event_logs where run_id = %s", [result.run_id])
        assert cursor.fetchone()[0] > 10
    assert not list(home.rglob("*.db"))  # nothing went to SQLite

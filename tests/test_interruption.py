"""A run killed with `kill -9` part-way, then run again, gives exactly the outputs of a run that
was never interrupted; an analyst querying the snapshot all the while never sees an error.

The killed run is `probation-pipeline run --force` on a copy of the fixture run's data folder,
recorded in its Dagster instance, killed (the whole process group, dbt included) three seconds
into the dbt build, when the warehouse is half rebuilt. The rerun must reclaim the killed run's
warehouse pool slot by itself and rebuild everything.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import dagster as dg
import duckdb

from orchestration.cli import main

READER = """
import sys, time, duckdb
path, stop, out = sys.argv[1:4]
attempted = succeeded = 0
failures = []
import os
import pytest

pytestmark = pytest.mark.operations
while not os.path.exists(stop):
    attempted += 1
    try:
        with duckdb.connect(path, read_only=True) as con:
            con.execute("select count(*) from measure_monthly").fetchone()
        succeeded += 1
    except Exception as error:
        failures.append(str(error).splitlines()[0])
    time.sleep(0.05)
open(out, "w").write(f"{attempted} {succeeded} {len(failures)}\\n" + "\\n".join(failures[:5]))
"""


def _differences(expected: Path, found: Path) -> dict[str, int]:
    """Rows of each table of one snapshot missing from the other (both ways, duplicates
    counted), the load time left out (a --force reload changes it)."""
    differences = {}
    with duckdb.connect() as con:
        for alias, path in (("expected", expected), ("found", found)):
            escaped = str(path).replace("'", "''")
            con.execute(f"attach '{escaped}' as {alias} (read_only)")
        names = {
            alias: sorted(
                n
                for (n,) in con.execute(
                    "select table_name from information_schema.tables where table_catalog = ?",
                    [alias],
                ).fetchall()
            )
            for alias in ("expected", "found")
        }
        assert names["expected"] == names["found"]
        for name in names["expected"]:
            columns = [
                c
                for (c,) in con.execute(
                    "select column_name from information_schema.columns "
                    "where table_catalog = 'expected' and table_name = ? order by ordinal_position",
                    [name],
                ).fetchall()
                if c != "loaded_at"
            ]
            listed = ", ".join(f'"{c}"' for c in columns)
            differences[name] = con.execute(
                f'select (select count(*) from (select {listed} from expected."{name}" except all '
                f'select {listed} from found."{name}")) + (select count(*) from (select {listed} '
                f'from found."{name}" except all select {listed} from expected."{name}"))'
            ).fetchone()[0]
    return differences


def _edition_files(data: Path, edition: str) -> dict[str, bytes]:
    folder = data / "staging" / edition / "csv"
    return {p.name: p.read_bytes() for p in sorted(folder.glob("*.csv"))}


def test_a_run_killed_part_way_reruns_to_the_same_outputs_and_readers_never_fail(
    fixture_run, tmp_path, monkeypatch
):
    settings, summary = fixture_run
    data = tmp_path / "data"
    shutil.copytree(settings.data_dir, data, symlinks=True)
    reader_stop, reader_out = tmp_path / "stop", tmp_path / "reads.txt"
    reader = subprocess.Popen(
        [sys.executable, "-c", READER, str(data / "analytics.duckdb"), str(reader_stop),
         str(reader_out)]
    )  # fmt: skip
    env = {**os.environ, "DAGSTER_HOME": str(data / "dagster_home")}
    command = [
        str(Path(sys.executable).with_name("probation-pipeline")), "run", "--force",
        "--landing", str(settings.landing_dir), "--data-dir", str(data),
    ]  # fmt: skip
    killed = subprocess.Popen(
        command, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        start_new_session=True,
    )  # fmt: skip
    seen = []
    for line in killed.stdout:
        seen.append(line)
        if "dbt: warehouse_models" in line:
            time.sleep(3)
            break
    os.killpg(killed.pid, signal.SIGKILL)
    killed.wait()
    assert any("dbt: warehouse_models" in line for line in seen), "".join(seen)

    monkeypatch.setenv("DAGSTER_HOME", env["DAGSTER_HOME"])  # the killed run's instance
    try:
        code = main(["run", "--landing", str(settings.landing_dir), "--data-dir", str(data)])
    finally:
        reader_stop.touch()
        reader.wait(timeout=60)
    assert code == 0

    attempted, succeeded, failed = map(int, reader_out.read_text().splitlines()[0].split())
    assert attempted > 50 and succeeded == attempted and failed == 0, reader_out.read_text()

    differences = _differences(settings.analytics_path, data / "analytics.duckdb")
    assert len(differences) > 20 and set(differences.values()) == {0}, differences
    assert _edition_files(data, summary.edition) == _edition_files(
        settings.data_dir, summary.edition
    )
    assert "data_quality_flags" in differences  # the quality flags are a mart like the rest

    # Both runs are in the history `make ui` shows: the killed one marked failed by the rerun
    # (its warehouse pool slot freed), with its loads; the rerun's refresh with its metadata.
    with dg.DagsterInstance.from_config(env["DAGSTER_HOME"]) as instance:
        runs = {(r.job_name, r.status.value) for r in instance.get_runs()}
        assert ("ingest_job", "SUCCESS") in runs and ("refresh_job", "SUCCESS") in runs
        assert ("refresh_job", "FAILURE") in runs  # the killed one, reclaimed
        assert not instance.event_log_storage.get_concurrency_info("warehouse").claimed_slots
        persons = instance.get_latest_materialization_event(dg.AssetKey(["raw", "persons"]))
        assert persons.asset_materialization.metadata["dagster/row_count"].value > 0
        marts = instance.get_latest_materialization_event(dg.AssetKey("measure_monthly"))
        metadata = marts.asset_materialization.metadata
        assert metadata["dagster/row_count"].value == summary_rows(data, "measure_monthly")
        assert "measure_code" in [c.name for c in metadata["dagster/column_schema"].schema.columns]
        checks = instance.event_log_storage.get_asset_check_execution_history(
            dg.AssetCheckKey(dg.AssetKey(["raw", "persons"]), "quality_rules"), limit=10
        )
        assert checks


def summary_rows(data: Path, table: str) -> int:
    with duckdb.connect(str(data / "analytics.duckdb"), read_only=True) as con:
        return con.execute(f"select count(*) from {table}").fetchone()[0]

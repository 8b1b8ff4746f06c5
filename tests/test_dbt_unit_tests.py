"""dbt's unit tests (hand-worked golden rows for the measures, ratings and history) run here.

Production builds leave them out (`--exclude-resource-type unit_test` in
orchestration/defs/warehouse.py): they test the SQL, not the month's data. This test runs every
one of them against a copy of the fixture run's warehouse (dbt reads the column types of a
model's inputs from it) and checks that none is skipped.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess

import pytest

from orchestration.settings import DBT_PROJECT_DIR
from orchestration.warehouse.dbt_project import dbt_executable, ensure_manifest

pytestmark = pytest.mark.pipeline


def test_every_dbt_unit_test_passes(fixture_run, tmp_path):
    settings, _ = fixture_run
    shutil.copy(settings.warehouse_path, tmp_path / "warehouse.duckdb")
    manifest = json.loads(ensure_manifest().read_text())
    expected = {uid for uid in manifest["unit_tests"]}
    assert len(expected) >= 30  # the measures', ratings' and history golden tables

    result = subprocess.run(
        [dbt_executable(), "test", "--select", "test_type:unit",
         "--target-path", str(tmp_path / "target"), "--vars", json.dumps(settings.dbt_vars())],
        cwd=DBT_PROJECT_DIR,
        env={**os.environ, **settings.dbt_env(), "PROBATION_DATA_DIR": str(tmp_path),
             "DBT_PROFILES_DIR": str(DBT_PROJECT_DIR)},
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    results = json.loads((tmp_path / "target" / "run_results.json").read_text())["results"]
    # the project's on-run-start hook (attaching the last refresh's warehouse) is reported too
    results = [r for r in results if r["unique_id"].startswith("unit_test.")]
    failed = [(r["unique_id"], r["message"]) for r in results if r["status"] != "pass"]
    assert failed == [], result.stdout[-3000:]
    assert {r["unique_id"] for r in results} == expected
    assert result.returncode == 0

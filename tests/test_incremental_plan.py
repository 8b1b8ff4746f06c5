"""Which build a refresh runs (orchestration/warehouse/incremental.py): incremental only when the
last
successful refresh's marker, recorded in the warehouse, matches what every model depends on
besides the deliveries; and the building copy's variables never outlive the dbt run."""

from __future__ import annotations

import os

import duckdb
import pyarrow as pa
import pytest

from orchestration.atomic import write_parquet
from orchestration.ingest.extract_month import manifest_path
from orchestration.settings import Settings
from orchestration.warehouse.incremental import (
    MARKER_TABLE,
    build_digest,
    environment,
    finish_building,
    plan_build,
    prepare_building,
)

pytestmark = pytest.mark.unit


def ledger_row(settings: Settings, extract: str, month: str) -> None:
    row = {"extract": extract, "month": month, "source_file": f"{extract}_{month}.csv"}
    write_parquet(pa.Table.from_pylist([row]), manifest_path(settings, extract, month))


@pytest.fixture
def settings(tmp_path) -> Settings:
    found = Settings.from_env(tmp_path / "landing", tmp_path / "data")
    ledger_row(found, "events", "2024-02")
    return found


def record_marker(settings: Settings, digest: str) -> None:
    with duckdb.connect(str(settings.warehouse_path)) as con:
        con.execute(f"create or replace table {MARKER_TABLE} as select ? as digest", [digest])


def test_a_first_refresh_is_a_full_build(settings):
    plan = plan_build(settings)
    assert not plan.incremental and plan.reason == "no earlier refresh to build on"


def test_a_refresh_after_a_matching_one_is_incremental_unless_a_full_one_is_asked_for(settings):
    record_marker(settings, build_digest(settings))
    assert plan_build(settings).incremental
    assert not plan_build(settings, full_refresh=True).incremental


def test_a_month_before_the_first_one_or_a_changed_marker_means_a_full_build(settings):
    record_marker(settings, build_digest(settings))
    ledger_row(settings, "events", "2024-03")  # a later month: still incremental
    assert plan_build(settings).incremental
    ledger_row(settings, "events", "2024-01")  # before the first: every series starts earlier
    assert not plan_build(settings).incremental
    record_marker(settings, "a digest of other code")
    assert not plan_build(settings).incremental


def test_the_copy_replaces_the_warehouse_only_when_finished(settings):
    record_marker(settings, "before")
    plan = plan_build(settings)
    env = prepare_building(settings, plan)
    assert set(env) == {"PROBATION_WAREHOUSE", "PROBATION_PREVIOUS_WAREHOUSE"}
    with duckdb.connect(env["PROBATION_WAREHOUSE"]) as con:
        con.execute("create table built as select 1 as x")
    with duckdb.connect(str(settings.warehouse_path), read_only=True) as con:
        assert con.execute("select count(*) from duckdb_tables()").fetchone()[0] == 1
    finish_building(settings, plan)
    with duckdb.connect(str(settings.warehouse_path), read_only=True) as con:
        assert con.execute(f"select digest from {MARKER_TABLE}").fetchone()[0] == plan.digest
        assert con.execute("select x from built").fetchone()[0] == 1
    assert not (settings.data_dir / "building").exists()


def test_the_building_variables_are_put_back_after_dbt(monkeypatch):
    monkeypatch.setenv("PROBATION_WAREHOUSE", "/somewhere/else.duckdb")
    monkeypatch.delenv("PROBATION_PREVIOUS_WAREHOUSE", raising=False)
    values = {"PROBATION_WAREHOUSE": "/a/b.duckdb", "PROBATION_PREVIOUS_WAREHOUSE": "/a/c.duckdb"}
    with environment(values):
        assert os.environ["PROBATION_WAREHOUSE"] == "/a/b.duckdb"
    assert os.environ["PROBATION_WAREHOUSE"] == "/somewhere/else.duckdb"
    assert "PROBATION_PREVIOUS_WAREHOUSE" not in os.environ

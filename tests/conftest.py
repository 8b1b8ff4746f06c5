"""Shared fixtures: the hand-written fixture landing zone run once through the real pipeline."""

from __future__ import annotations

import shutil
from pathlib import Path

import duckdb
import pytest

from orchestration.runner import run_pipeline
from orchestration.settings import Settings

FIXTURES = Path(__file__).parent / "fixtures"
FIXTURE_LANDING = FIXTURES / "landing"


@pytest.fixture(scope="session")
def fixture_run(tmp_path_factory):
    """Settings and summary of one in-process run over the three fixture months."""
    data = tmp_path_factory.mktemp("data")
    landing = tmp_path_factory.mktemp("landing")
    shutil.copytree(FIXTURE_LANDING, landing, dirs_exist_ok=True)
    settings = Settings.from_env(landing, data)
    summary = run_pipeline(settings, quiet=True, log_level="CRITICAL")
    assert summary.failures == [], summary.failures
    return settings, summary


@pytest.fixture
def warehouse(fixture_run):
    """A read-only connection to the fixture warehouse, closed after each test (DuckDB lets no
    process write while another holds the file open)."""
    settings, _ = fixture_run
    with duckdb.connect(str(settings.warehouse_path), read_only=True) as con:
        yield con


@pytest.fixture
def landing_copy(tmp_path):
    """A private, writable copy of the fixture landing zone."""
    landing = tmp_path / "landing"
    shutil.copytree(FIXTURE_LANDING, landing)
    return landing

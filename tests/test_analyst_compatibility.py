"""analytics.duckdb opens in the DuckDB clients analysts have: written in DuckDB 1.0's storage
format (orchestration.publication.snapshot.ANALYST_STORAGE_VERSION), proved by its file header and
by
opening it with a real DuckDB 1.0 client (downloaded from PyPI; skipped, saying why, where it
cannot be)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from orchestration.publication.snapshot import ANALYST_STORAGE_VERSION, build_snapshot
from orchestration.settings import Settings

pytestmark = pytest.mark.operations

OLDEST_CLIENT = "1.0.0"  # the DuckDB release whose format ANALYST_STORAGE_VERSION names
STORAGE_NUMBERS = {"v1.0.0": 64}  # the header's version number DuckDB 0.10 to 1.1 write


def _storage_number(path: Path) -> int:
    """The storage version number in a DuckDB file's header (after the magic bytes DUCK)."""
    header = path.read_bytes()[:20]
    assert header[8:12] == b"DUCK", header
    return int.from_bytes(header[12:20], "little")


@pytest.fixture(scope="module")
def snapshot(tmp_path_factory) -> Path:
    """A snapshot built by the pipeline's own code from a small warehouse."""
    root = tmp_path_factory.mktemp("analyst")
    settings = Settings(landing_dir=root / "landing", data_dir=root / "data")
    settings.data_dir.mkdir()
    with duckdb.connect(str(settings.warehouse_path)) as con:
        con.execute(
            "create table measure_monthly as select 'SL004' as measure_code, "
            "date '2024-03-01' as month, 12::bigint as numerator, 16::bigint as denominator, "
            "75.0::double as value, 0.75::decimal(9, 4) as rate, true as provisional, "
            "timestamp '2024-04-05 06:07:08' as extracted_at"
        )
        con.execute("create table stg_loads as select 'events' as extract, 1 as source_revision")
    build_snapshot(settings, ["measure_monthly", "stg_loads"])
    return settings.analytics_path


def test_the_snapshot_is_written_in_duckdb_1_0s_format(snapshot, tmp_path):
    assert _storage_number(snapshot) == STORAGE_NUMBERS[ANALYST_STORAGE_VERSION]
    default = tmp_path / "default.duckdb"  # what DuckDB would write left to itself
    duckdb.connect(str(default)).close()
    if duckdb.__version__.startswith("2."):
        assert _storage_number(default) != STORAGE_NUMBERS[ANALYST_STORAGE_VERSION]


def test_a_duckdb_1_0_client_opens_the_snapshot(snapshot, tmp_path_factory):
    target = tmp_path_factory.mktemp("duckdb_1_0")
    install = subprocess.run(
        [sys.executable, "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
         "--only-binary=:all:", "--target", str(target), f"duckdb=={OLDEST_CLIENT}"],
        capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    if install.returncode != 0:
        pytest.skip(
            f"DuckDB {OLDEST_CLIENT} could not be installed from PyPI to open the snapshot "
            f"with it: {install.stderr.strip().splitlines()[-1:]}"
        )
    reader = (
        "import duckdb, json, sys\n"
        "con = duckdb.connect(sys.argv[1], read_only=True)\n"
        "row = con.execute('select month, rate, numerator from measure_monthly').fetchone()\n"
        "print(json.dumps([duckdb.__version__, str(row[0]), str(row[1]), row[2],\n"
        "    con.execute('select count(*) from stg_loads').fetchone()[0]]))\n"
    )
    opened = subprocess.run(
        [sys.executable, "-c", reader, str(snapshot)],
        capture_output=True, text=True, timeout=120, check=False,
        env={"PYTHONPATH": str(target), "PATH": "/usr/bin:/bin"},
    )  # fmt: skip
    assert opened.returncode == 0, opened.stderr[-2000:]
    version, month, rate, numerator, loads = json.loads(opened.stdout)
    assert version == OLDEST_CLIENT
    assert (month, rate, numerator, loads) == ("2024-03-01", "0.7500", 12, 1)

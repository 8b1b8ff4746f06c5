"""The analyst snapshot: a read-only copy of the marts, swapped in atomically after a good run.

Analysts query `analytics.duckdb` (or the Parquet files beside it) while the pipeline writes
`warehouse.duckdb`, so no analyst ever holds a lock on the file the pipeline writes. The new
snapshot is built under a temporary name and renamed over the old one: a reader sees either the
old snapshot or the new one, never a half-written file.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import duckdb

from orchestration.settings import Settings


def build_snapshot(settings: Settings, tables: list[str]) -> dict[str, int]:
    """Copy `tables` from the warehouse into a fresh analytics.duckdb and Parquet files."""
    target: Path = settings.analytics_path
    building = target.with_name(f".{target.name}.building")
    building.unlink(missing_ok=True)
    parquet_dir = settings.analytics_parquet_dir
    parquet_building = parquet_dir.with_name(f".{parquet_dir.name}.building")
    shutil.rmtree(parquet_building, ignore_errors=True)
    parquet_building.mkdir(parents=True)

    counts: dict[str, int] = {}
    with duckdb.connect(str(building)) as con:
        con.execute(f"attach '{settings.warehouse_path}' as warehouse (read_only)")
        for table in tables:
            con.execute(f"create table main.{table} as select * from warehouse.main.{table}")
            con.execute(
                f"copy main.{table} to '{parquet_building / (table + '.parquet')}' (format parquet)"
            )
            counts[table] = con.execute(f"select count(*) from main.{table}").fetchone()[0]
        con.execute("detach warehouse")
        con.execute("checkpoint")

    os.replace(building, target)
    old = parquet_dir.with_name(f".{parquet_dir.name}.old")
    shutil.rmtree(old, ignore_errors=True)
    if parquet_dir.exists():
        os.replace(parquet_dir, old)
    os.replace(parquet_building, parquet_dir)
    shutil.rmtree(old, ignore_errors=True)
    return counts

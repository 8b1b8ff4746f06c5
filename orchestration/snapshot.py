"""The analyst snapshot: a read-only copy of the marts, swapped in atomically after a good run.

Analysts query `analytics.duckdb` (or the Parquet files beside it) while the pipeline writes
`warehouse.duckdb`, so no analyst ever holds a lock on the file the pipeline writes. The new
snapshot is built under a temporary name and renamed over the old one: a reader sees either the
old snapshot or the new one, never a half-written file. It is written in DuckDB 1.0's storage
format, so analysts on any DuckDB from 1.0 on can open it.
"""

from __future__ import annotations

import duckdb

from orchestration.atomic import building
from orchestration.settings import Settings

# The storage format analytics.duckdb is written in: DuckDB 1.0's, which every DuckDB from 1.0
# on opens (R's duckdb package, DBeaver's driver, older Python clients). DuckDB 2.x writes its
# own newer format by default, which 1.x clients refuse.
ANALYST_STORAGE_VERSION = "v1.0.0"


def _literal(path) -> str:
    """A path as an SQL string literal (a quote in a folder name must not end it)."""
    return "'" + str(path).replace("'", "''") + "'"


def build_snapshot(settings: Settings, tables: list[str]) -> dict[str, int]:
    """Copy `tables` from the warehouse into a fresh analytics.duckdb and Parquet files."""
    counts: dict[str, int] = {}
    with (
        building(settings.analytics_path) as database,
        building(settings.analytics_parquet_dir) as parquet_dir,
    ):
        parquet_dir.mkdir()
        with duckdb.connect() as con:
            con.execute(
                f"attach {_literal(database)} as analytics "
                f"(storage_version '{ANALYST_STORAGE_VERSION}')"
            )
            con.execute(f"attach {_literal(settings.warehouse_path)} as warehouse (read_only)")
            for table in tables:
                con.execute(
                    f"create table analytics.main.{table} as select * from warehouse.main.{table}"
                )
                con.execute(
                    f"copy analytics.main.{table} to "
                    f"{_literal(parquet_dir / (table + '.parquet'))} (format parquet)"
                )
                counts[table] = con.execute(
                    f"select count(*) from analytics.main.{table}"
                ).fetchone()[0]
            con.execute("detach warehouse")
            con.execute("checkpoint analytics")
            con.execute("detach analytics")
    return counts

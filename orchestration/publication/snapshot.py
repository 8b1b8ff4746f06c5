"""The analyst snapshot: a read-only copy of the marts, swapped in atomically after a good run.

Analysts query `analytics.duckdb` (or the Parquet files beside it) while the pipeline writes
`warehouse.duckdb`, so no analyst ever holds a lock on the file the pipeline writes. The new
snapshot is built under a temporary name and renamed over the old one: a reader sees either the
old snapshot or the new one, never a half-written file. It is written in DuckDB 1.0's storage
format, so analysts on any DuckDB from 1.0 on can open it.

The documentation goes with the data (`docs`, from the dbt yml through the manifest): every
table and column carries a DuckDB COMMENT, the `dictionary` table lists every column with its
type, unit and description, and each Parquet file carries its columns' descriptions as field
metadata (`description`) and its table's as file metadata.
"""

from __future__ import annotations

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq

from orchestration.atomic import building
from orchestration.settings import Settings

DICTIONARY = "dictionary"
DICTIONARY_DOCS = {
    "description": "Every column of every table of this snapshot: its type, unit and description "
    "(from the dbt documentation of the marts).",
    "columns": {
        "table_name": {"description": "The table.", "unit": None},
        "column_name": {"description": "The column.", "unit": None},
        "data_type": {"description": "Its DuckDB type.", "unit": None},
        "unit": {"description": "Its unit, where the documentation gives one.", "unit": None},
        "description": {"description": "What it holds.", "unit": None},
    },
}

# The storage format analytics.duckdb is written in: DuckDB 1.0's, which every DuckDB from 1.0
# on opens (R's duckdb package, DBeaver's driver, older Python clients). DuckDB 2.x writes its
# own newer format by default, which 1.x clients refuse.
ANALYST_STORAGE_VERSION = "v1.0.0"


def _literal(path) -> str:
    """A path as an SQL string literal (a quote in a folder name must not end it)."""
    return "'" + str(path).replace("'", "''") + "'"


def _comment(con, target: str, text: str) -> None:
    if text:
        con.execute(f"comment on {target} is {_literal(text)}")


def build_snapshot(
    settings: Settings, tables: list[str], docs: dict[str, dict] | None = None
) -> dict[str, int]:
    """Copy `tables` from the warehouse into a fresh analytics.duckdb and Parquet files, with
    the documentation of each table and column (`docs`, dictionary.model_docs) and a
    `dictionary` table."""
    docs = {**(docs or {}), DICTIONARY: DICTIONARY_DOCS}
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
            con.execute("detach warehouse")
            con.execute(
                f"create table analytics.main.{DICTIONARY} (table_name varchar, column_name "
                "varchar, data_type varchar, unit varchar, description varchar)"
            )
            listed = con.execute(
                "select table_name, column_name, data_type from duckdb_columns() "
                "where database_name = 'analytics' order by table_name, column_index"
            ).fetchall()
            rows = []
            for table, column, data_type in listed:
                column_docs = docs.get(table, {}).get("columns", {}).get(column, {})
                rows.append(
                    (table, column, data_type, column_docs.get("unit"),
                     column_docs.get("description") or None)
                )  # fmt: skip
                _comment(con, f"column analytics.main.{table}.{column}",
                         column_docs.get("description", ""))  # fmt: skip
            con.executemany(f"insert into analytics.main.{DICTIONARY} values (?, ?, ?, ?, ?)", rows)
            for table in [*tables, DICTIONARY]:
                described = docs.get(table, {})
                _comment(con, f"table analytics.main.{table}", described.get("description", ""))
                path = parquet_dir / f"{table}.parquet"
                con.execute(f"copy analytics.main.{table} to {_literal(path)} (format parquet)")
                _describe_parquet(path, described)
                counts[table] = con.execute(
                    f"select count(*) from analytics.main.{table}"
                ).fetchall()[0][0]
            con.execute("checkpoint analytics")
            con.execute("detach analytics")
    return counts


def _describe_parquet(path, docs: dict) -> None:
    """Rewrite a Parquet file DuckDB wrote (its types kept) with each field's description as
    field metadata and the table's as file metadata."""
    table = pq.read_table(path)
    columns = docs.get("columns", {})
    fields = [
        field.with_metadata({"description": columns[field.name]["description"]})
        if columns.get(field.name, {}).get("description")
        else field
        for field in table.schema
    ]
    metadata = {"description": docs["description"]} if docs.get("description") else None
    pq.write_table(table.cast(pa.schema(fields, metadata=metadata)), path)

"""Standard Dagster metadata every asset reports: `dagster/row_count`, `dagster/column_schema`,
and the owners shown in the UI. Built from what was written (Arrow schemas, DuckDB tables),
never re-decided here."""

from __future__ import annotations

from collections.abc import Iterable

import dagster as dg
import pyarrow as pa

# Who answers for an asset (Dagster shows owners on every asset page): the data engineers own
# loading and the warehouse, the statisticians what is published from it.
DATA_ENGINEERING = ["team:probation-data-engineering"]
STATISTICS = ["team:probation-statistics"]


def column_schema(columns: Iterable[tuple[str, str]]) -> dg.TableSchema:
    """A table schema from (name, type) pairs."""
    return dg.TableSchema(columns=[dg.TableColumn(name, str(kind)) for name, kind in columns])


def arrow_schema(schema: pa.Schema) -> dg.TableSchema:
    return column_schema((field.name, field.type) for field in schema)


def table_metadata(rows: int, schema: dg.TableSchema | None = None) -> dict:
    """`dagster/row_count` and, when known, `dagster/column_schema`."""
    metadata: dict = {"dagster/row_count": dg.MetadataValue.int(int(rows))}
    if schema is not None:
        metadata["dagster/column_schema"] = schema
    return metadata


def duckdb_tables(con, names: Iterable[str]) -> dict[str, dict]:
    """Row count and column schema of each table or view in `names` that exists, read from one
    DuckDB connection (information_schema, then one count per table)."""
    wanted = sorted(set(names))
    if not wanted:
        return {}
    columns = con.execute(
        "select table_name, column_name, data_type from information_schema.columns "
        "where table_schema = 'main' and table_name in (select unnest(?)) "
        "order by table_name, ordinal_position",
        [wanted],
    ).fetchall()
    by_table: dict[str, list[tuple[str, str]]] = {}
    for table, column, kind in columns:
        by_table.setdefault(table, []).append((column, kind))
    found = {}
    for table, cols in by_table.items():
        rows = con.execute(f'select count(*) from main."{table}"').fetchone()[0]
        found[table] = table_metadata(rows, column_schema(cols))
    return found

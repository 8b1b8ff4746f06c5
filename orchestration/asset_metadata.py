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
    """Column schema of each table or view in `names` that exists, and the row count of each
    table, read from one DuckDB connection. Views are not counted: counting one runs its query
    again (staging over every month of contacts, say)."""
    wanted = sorted(set(names))
    if not wanted:
        return {}
    columns = con.execute(
        "select c.table_name, c.column_name, c.data_type, t.table_type "
        "from information_schema.columns c join information_schema.tables t "
        "using (table_catalog, table_schema, table_name) "
        "where c.table_schema = 'main' and c.table_name in (select unnest(?::varchar[])) "
        "order by c.table_name, c.ordinal_position",
        [wanted],
    ).fetchall()
    by_table: dict[str, list[tuple[str, str]]] = {}
    kinds: dict[str, str] = {}
    for table, column, kind, table_type in columns:
        by_table.setdefault(table, []).append((column, kind))
        kinds[table] = table_type
    found = {}
    for table, cols in by_table.items():
        schema = column_schema(cols)
        if kinds[table] == "VIEW":
            found[table] = {"dagster/column_schema": schema}
        else:
            rows = con.execute(f'select count(*) from main."{table}"').fetchone()[0]
            found[table] = table_metadata(rows, schema)
    return found


def tables_metadata(tables: dict) -> dict:
    """For an asset made of several tables (pandas frames): the rows of all of them, and one
    column schema whose columns are named `<table>.<column>`."""
    columns = [
        (f"{name}.{column}", str(dtype))
        for name, frame in tables.items()
        for column, dtype in frame.dtypes.items()
    ]
    return table_metadata(sum(len(frame) for frame in tables.values()), column_schema(columns))

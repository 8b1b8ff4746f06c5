"""Analysts read the documentation where they query: every table and column of the analyst
snapshot carries a DuckDB comment from the dbt docs, the snapshot holds a `dictionary` table,
and every Parquet file carries its columns' descriptions as field metadata.

A mart column without a description in its yml fails here, naming it."""

from __future__ import annotations

import duckdb
import pyarrow.parquet as pq
import pytest

from orchestration.publication.dictionary import model_docs
from orchestration.warehouse.dbt_project import MANIFEST_PATH

pytestmark = pytest.mark.pipeline


def test_every_table_and_column_of_the_snapshot_has_a_comment(fixture_run):
    settings, _ = fixture_run
    with duckdb.connect(str(settings.analytics_path), read_only=True) as con:
        columns = con.execute(
            "select table_name || '.' || column_name from duckdb_columns() "
            "where database_name = 'analytics' and comment is null order by 1"
        ).fetchall()
        tables = con.execute(
            "select table_name from duckdb_tables() "
            "where database_name = 'analytics' and comment is null order by 1"
        ).fetchall()
        assert columns == [], "no description in the dbt yml: " + ", ".join(c for (c,) in columns)
        assert tables == [], "no description in the dbt yml: " + ", ".join(t for (t,) in tables)
        # the dictionary lists every column once, with its type and the same description
        listed = con.execute(
            "select count(*), count(description), count(distinct table_name || column_name) "
            "from dictionary"
        ).fetchone()
        all_columns = con.execute(
            "select count(*) from duckdb_columns() where database_name = 'analytics'"
        ).fetchone()[0]
        assert listed == (all_columns, all_columns, all_columns)
        same = con.execute(
            "select count(*) from dictionary d join duckdb_columns() c "
            "on c.table_name = d.table_name and c.column_name = d.column_name "
            "and c.database_name = 'analytics' "
            "where c.comment = d.description and c.data_type = d.data_type"
        ).fetchone()[0]
        assert same == all_columns
        comment = con.execute(
            "select comment from duckdb_columns() where table_name = 'measure_monthly' "
            "and column_name = 'provisional_reason'"
        ).fetchone()[0]
    docs = model_docs(MANIFEST_PATH)
    assert comment == docs["measure_monthly"]["columns"]["provisional_reason"]["description"]


def test_every_parquet_file_carries_its_descriptions(fixture_run):
    settings, _ = fixture_run
    files = sorted(settings.analytics_parquet_dir.glob("*.parquet"))
    assert {f.stem for f in files} >= {"measure_monthly", "dictionary", "stg_loads"}
    for path in files:
        schema = pq.read_schema(path)
        assert schema.metadata and schema.metadata.get(b"description"), path.name
        undescribed = [f.name for f in schema if not (f.metadata or {}).get(b"description")]
        assert undescribed == [], f"{path.name}: {undescribed}"

"""The seam between the Python and SQL homes of the period labels: schemas/periods.py and the
dbt macros of dbt_project/macros/periods.sql give the same performance year and quarter label
for every month of 2019 to 2031 (the SQL run by `dbt show` with the project's own macros)."""

from __future__ import annotations

import pytest

from orchestration.partitions import month_range
from schemas.periods import performance_year, quarter_label
from tests.conftest import dbt_show

pytestmark = pytest.mark.unit

MONTHS = month_range("2019-01", "2031-12")


def test_python_and_sql_label_every_month_alike(tmp_path):
    sql = (
        "select strftime(month, '%Y-%m') as month, {{ performance_year('month') }} as year, "
        "{{ quarter_label('month') }} as quarter from (select unnest(generate_series("
        "date '2019-01-01', date '2031-12-01', interval 1 month))::date as month) order by 1"
    )
    rows = dbt_show(sql, tmp_path, limit=len(MONTHS))
    assert [r["month"] for r in rows] == MONTHS
    for row in rows:
        assert (row["year"], row["quarter"]) == (
            performance_year(row["month"]),
            quarter_label(row["month"]),
        ), row
    assert performance_year("2025-03") == "2024-25" and quarter_label("2025-03") == "2025 Q1"

"""The contract's two forms agree: pandera's schema and the DuckDB checks ingestion runs.

Both are generated from `schemas/contracts.py` (`column_rules`); this test feeds each column of
every extract the same awkward values and asserts the two accept and reject the same ones.
"""

from __future__ import annotations

import duckdb
import pandas as pd
import pytest

from schemas.contracts import EXTRACTS, REFERENCE_EXTRACTS, pandera_schema, sql_checks

VALUES = {
    "date": ["2024-01-31", "2024-02-29", "2023-02-29", "2024-13-01", "2024-1-05", "31/01/2024",
             " 2024-01-31", "2024-01-31 ", "1500-01-01", "1677-09-22", "2262-04-11",
             "2262-04-12", "banana", ""],
    "int": ["0", "7", "007", "12.5", "-3", "1e3", " 4", "x", "99999"],
    "month": ["2024-01", "2024-12", "2024-13", "2024-00", "2024-1", "2024-01-01"],
    "str": ["A1", "a1", "", " ", "N07", "n07", "OFFICE", "office", "C01", "Z99", "TOOLKIT"],
}  # fmt: skip


def _pandera_accepts(extract, column: str, values: list[str | None]) -> list[bool]:
    """What the pandera schema says of each value (nulls pass: they are a row rule)."""
    series = pd.Series(values, dtype="string")
    accepted = pd.Series(True, index=series.index)
    for check in pandera_schema(extract).columns[column].checks:
        output = check(series).check_output  # nulls are left out (ignore_na)
        accepted &= output.reindex(series.index, fill_value=True).fillna(False).astype(bool)
    return accepted.tolist()


def _sql_accepts(extract, column: str, values: list[str | None]) -> list[bool]:
    checks = [c for c in sql_checks(extract) if c.column == column]
    passes = " and ".join(c.passes for c in checks) or "true"
    with duckdb.connect() as con:
        con.execute(f'create table delivered (i integer, "{column}" varchar)')
        con.executemany("insert into delivered values (?, ?)", list(enumerate(values)))
        return [r[0] for r in con.execute(f"select {passes} from delivered order by i").fetchall()]


@pytest.mark.parametrize(
    "extract", [*EXTRACTS.values(), *REFERENCE_EXTRACTS.values()], ids=lambda e: e.name
)
def test_pandera_and_sql_checks_accept_the_same_values(extract):
    disagreements = []
    for column in extract.columns:
        values = [v or None for v in [*VALUES[column.kind], *(column.codes or ())[:2], None]]
        pandera_says = _pandera_accepts(extract, column.name, values)
        sql_says = _sql_accepts(extract, column.name, values)
        assert len(set(pandera_says)) == 2 or column.kind == "str", "values must test both ways"
        disagreements += [
            (column.name, value, p, s)
            for value, p, s in zip(values, pandera_says, sql_says, strict=True)
            if p != s
        ]
    assert disagreements == []


def test_every_rule_of_the_contract_is_checked_in_sql():
    for extract in [*EXTRACTS.values(), *REFERENCE_EXTRACTS.values()]:
        schema = pandera_schema(extract)
        pandera_rules = sorted(
            (name, check.error) for name, col in schema.columns.items() for check in col.checks
        )
        assert sorted((c.column, c.error) for c in sql_checks(extract)) == pandera_rules

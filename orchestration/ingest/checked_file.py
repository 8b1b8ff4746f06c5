"""A delivered file read as text and checked in DuckDB: contract, row rules, typed tables.

`read_delivery` reads a landing file into an Arrow table of text columns (null for an empty
field) with `_line`, the row's line in the file (the header is line 1). CSV is parsed by Arrow's
multithreaded reader; a file Arrow refuses, or whose header repeats a name, is read again by
pandas, whose message names the problem (or which reads what Arrow would not, such as a row
with fewer fields, as before). Parquet is read by pandas and its dates written as ISO text.

`CheckedFile` holds that table in an in-memory DuckDB connection and answers everything a load
needs from it in SQL: the first contract breach (rules from `schemas/contracts.sql_checks`), the
reason each row is set aside (`schemas/row_rules.reason_sql`), the typed raw table, the rows set
aside and the figures of the quality profile. Nothing here decides a rule: the rules are in
`schemas/`.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv

from orchestration.ingest.landing import LandingFile
from schemas.contracts import Extract, sql_checks
from schemas.row_rules import reason_sql, repeated_key_sql

LINEAGE_COLUMNS = ("_month", "_source_file", "_source_revision", "_source_line")
SQL_TYPES = {"str": "varchar", "date": "date", "int": "bigint", "month": "varchar"}
UTF8_BOM = b"\xef\xbb\xbf"


class ContractBreach(Exception):
    """A delivered file breaks the landing-zone contract: the whole partition is rejected."""

    def __init__(self, file: Path, rule: str, line: int | None = None, detail: str = ""):
        self.file, self.rule, self.line, self.detail = file, rule, line, detail
        where = f"line {line}" if line else "file"
        super().__init__(f"{file}: {where}: {rule}{': ' + detail if detail else ''}")


def shorten(text: str, limit: int = 80) -> str:
    """A delivered value echoed in a message: one line, at most `limit` characters."""
    text = " ".join(str(text).split())
    return text if len(text) <= limit else f"{text[: limit - 25]}... ({len(text):,} characters)"


def _with_lines(table: pa.Table) -> pa.Table:
    lines = pa.array(np.arange(2, table.num_rows + 2, dtype=np.int64))
    return table.append_column("_line", lines)


def _text_table(frame: pd.DataFrame) -> pa.Table:
    frame = frame.astype("string")
    arrays = [
        pa.array(frame[c].astype(object).where(frame[c].notna(), None), pa.string())
        for c in frame.columns
    ]
    return pa.Table.from_arrays(arrays, names=[str(c) for c in frame.columns])


def _read_parquet(path: Path) -> pa.Table:
    """A delivered Parquet file as text columns, dates as ISO text."""
    try:
        frame = pd.read_parquet(path)
    except (pa.ArrowException, OSError, ValueError):
        raise ContractBreach(
            path,
            "must be a readable Parquet file",
            detail=f"{path.stat().st_size:,} bytes that are not complete Parquet "
            "(empty or truncated?)",
        ) from None
    for name in frame.columns:
        column = frame[name]
        if pd.api.types.is_datetime64_any_dtype(column):
            frame[name] = column.dt.strftime("%Y-%m-%d")
        elif column.dtype == object and column.map(lambda v: hasattr(v, "isoformat")).any():
            frame[name] = column.map(lambda v: v.isoformat() if hasattr(v, "isoformat") else v)
    return _text_table(frame)


def _read_csv_with_pandas(path: Path, text: str) -> pa.Table:
    """What Arrow refused, read by pandas: its parser names the problem, or reads the file."""
    try:
        frame = pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False, na_values=[""])
    except pd.errors.ParserError as error:
        raise ContractBreach(
            path, "comma separated with one field per column", detail=shorten(str(error).strip())
        ) from None
    return _text_table(frame)


def read_text(delivery: LandingFile) -> tuple[bytes, str]:
    """The file's bytes and text, rejecting NUL bytes (never stripped: a delivered value is
    never altered), text that is not UTF-8 and an empty file, with the line."""
    raw = delivery.path.read_bytes()
    if b"\x00" in raw:
        line = raw[: raw.index(b"\x00")].count(b"\n") + 1
        raise ContractBreach(delivery.path, "text must not contain NUL bytes", line, "byte 0x00")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = raw[: error.start].count(b"\n") + 1
        raise ContractBreach(
            delivery.path, "encoding must be UTF-8", line, f"byte 0x{raw[error.start]:02x}"
        ) from None
    if not text.strip():
        raise ContractBreach(delivery.path, "a header row is required", 1, "the file is empty")
    return raw, text


def read_delivery(delivery: LandingFile) -> pa.Table:
    """The delivered file as text columns in delivered order, plus `_line`."""
    if delivery.path.suffix == ".parquet":
        return _with_lines(_read_parquet(delivery.path))
    raw, text = read_text(delivery)
    header = next(csv.reader(io.StringIO(text.split("\n", 1)[0])), [])
    if len(set(header)) == len(header):
        body = raw[len(UTF8_BOM) :] if raw.startswith(UTF8_BOM) else raw
        try:
            table = pacsv.read_csv(
                pa.py_buffer(body),
                parse_options=pacsv.ParseOptions(delimiter=",", quote_char='"'),
                convert_options=pacsv.ConvertOptions(
                    column_types={name: pa.string() for name in header},
                    null_values=[""],
                    strings_can_be_null=True,
                    quoted_strings_can_be_null=True,
                ),
            )
            if table.column_names == header and all(t == pa.string() for t in table.schema.types):
                return _with_lines(table)
        except pa.ArrowInvalid:
            pass
    return _with_lines(_read_csv_with_pandas(delivery.path, text))


def check_columns(table: pa.Table, extract: Extract, path: Path) -> None:
    """A missing or unexpected column rejects the file (line 1, the header)."""
    names = table.column_names[:-1]  # the last column is `_line`, added by read_delivery
    missing = [c for c in extract.column_names if c not in names]
    if missing:
        raise ContractBreach(path, "missing column", 1, ", ".join(missing))
    unexpected = [c for c in names if c not in extract.column_names]
    if unexpected:
        raise ContractBreach(path, "unexpected column", 1, shorten(", ".join(unexpected)))


class CheckedFile:
    """One delivered file in DuckDB, checked against its contract and judged by the row rules.

    Construction raises ContractBreach for the first value (by line, then contract column
    order) that breaks the contract, naming its line, column, value and rule and how many more
    values fail.
    """

    def __init__(self, table: pa.Table, extract: Extract, delivery: LandingFile, month: str | None):
        self.extract, self.delivery, self.month = extract, delivery, month
        check_columns(table, extract, delivery.path)
        self.rows = table.num_rows
        self.con = duckdb.connect()
        columns = [*extract.column_names, "_line"]
        self._table = table.select(columns)
        self.con.register("delivered", self._table)  # read in place, not copied
        self._check_contract()
        self.keys_repeat = self.con.execute(repeated_key_sql(extract, "delivered")).fetchall()[0][0]
        judged = reason_sql(extract, month, "delivered", self.keys_repeat)
        # without a repeated key each row's reason depends on the row alone: a view, worked
        # out as each output is read; ranking repeated keys is done once, into a table
        self.con.execute(f"create {'table' if self.keys_repeat else 'view'} judged as {judged}")

    def close(self) -> None:
        self.con.close()

    def __enter__(self) -> CheckedFile:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def _check_contract(self) -> None:
        """One pass over the file counts each check's failures and finds its first line."""
        checks = sql_checks(self.extract)
        if not checks:
            return
        figures = ", ".join(
            f"count(*) filter (where not {c.passes}), min(_line) filter (where not {c.passes})"
            for c in checks
        )
        found = self.con.execute(f"select {figures} from delivered").fetchall()[0]
        failing = [
            (found[2 * i + 1], i) for i in range(len(checks)) if found[2 * i]
        ]  # (first line, rule) of each check that fails
        if not failing:
            return
        count = sum(found[0::2])
        line, rule = min(failing)
        check = checks[rule]
        value = self.con.execute(
            f'select "{check.column}" from delivered where _line = ?', [line]
        ).fetchall()[0][0]
        detail = (
            f"column {check.column} = {shorten(repr(value))} is not {shorten(check.error, 200)}"
        )
        if count > 1:
            detail += f" ({count - 1} more failing value{'s' if count > 2 else ''})"
        raise ContractBreach(self.delivery.path, "bad value", line, detail)

    def set_aside_by_reason(self) -> dict[str, int]:
        rows = self.con.execute(
            "select _reason, count(*) from judged where _reason <> '' group by 1 order by 1"
        ).fetchall()
        return {reason: int(n) for reason, n in rows}

    def raw_table(self, lineage: tuple[str, ...] = LINEAGE_COLUMNS) -> pa.Table:
        """The kept rows typed (contract order), with the lineage columns asked for."""
        typed = [
            f'cast("{c.name}" as {SQL_TYPES[c.kind]}) as "{c.name}"' for c in self.extract.columns
        ]
        values = {
            "_month": f"{_literal(self.month or '')}::varchar",
            "_source_file": f"{_literal(self.delivery.path.name)}::varchar",
            "_source_revision": f"{int(self.delivery.revision)}::integer",
            "_source_line": "_line::bigint",
        }
        select = typed + [f"{values[name]} as {name}" for name in lineage]
        return self.con.sql(
            f"select {', '.join(select)} from judged where _reason = '' order by _line"
        ).to_arrow_table()

    def set_aside_table(self, with_month: bool = True) -> pa.Table:
        """The rows set aside: reason, line, file (and month), then the delivered text."""
        columns = ", ".join(f'"{c}"' for c in self.extract.column_names)
        month = f"{_literal(self.month or '')}::varchar as _month, " if with_month else ""
        return self.con.sql(
            f"select _reason, _line::bigint as _source_line, "
            f"{_literal(self.delivery.path.name)}::varchar as _source_file, {month}{columns} "
            "from judged where _reason <> '' order by _line"
        ).to_arrow_table()


def _literal(text: str) -> str:
    return "'" + str(text).replace("'", "''") + "'"

"""Compare two pipeline outputs table by table: the proof that a change moved no figure.

    python benchmarks/compare_outputs.py DATA_A DATA_B [--edition-only] [--warehouse]
                                         [--ignore COLUMN ...]

DATA_A and DATA_B are data folders (`PROBATION_DATA_DIR`). Every table of their analyst
snapshots (`analytics.duckdb`: every mart, the ledger, the quality flags) is compared with
`except all` both ways, and so is every CSV and Parquet file of their staged editions
(`<data>/staging/<edition>/`). With `--warehouse`, so is every table of their warehouses
(staging, intermediate and marts), except what only says how the last refresh went: the
changes an incremental refresh worked from and its marker. Columns that record when
something happened, not what a figure is (`loaded_at` by default), are left out; `--ignore`
names others (the landing paths and extraction times, when the two runs read different copies
of the files). Prints one line per table that differs
(rows only in A, rows only in B) and exits 1 when any does, else prints how many tables and
rows were found identical.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import duckdb

VOLATILE = ("loaded_at",)
# warehouse tables that record the last refresh, not a figure
# (docs/methodology.md#incremental-refresh)
REFRESH_RECORDS = ("refresh_marker",)
REFRESH_SUFFIXES = ("_changes",)
REFRESH_PREFIXES = ("int_affected_",)


def _is_refresh_record(name: str) -> bool:
    return (
        name in REFRESH_RECORDS
        or name.endswith(REFRESH_SUFFIXES)
        or name.startswith(REFRESH_PREFIXES)
    )


def _literal(path: Path) -> str:
    return "'" + str(path).replace("'", "''") + "'"


def _columns(con: duckdb.DuckDBPyConnection, relation: str, ignore: tuple[str, ...]) -> list[str]:
    names = [r[0] for r in con.execute(f"describe select * from {relation}").fetchall()]
    return [f'"{n}"' for n in names if n not in ignore]


def _difference(con, a: str, b: str, ignore: tuple[str, ...]) -> tuple[int, int, int]:
    """Rows only in a, rows only in b (`except all` both ways), and rows in a."""
    columns_a, columns_b = _columns(con, a, ignore), _columns(con, b, ignore)
    if sorted(columns_a) != sorted(columns_b):
        return -1, -1, 0
    select = ", ".join(sorted(columns_a))
    only_a = con.execute(
        f"select count(*) from (select {select} from {a} except all select {select} from {b})"
    ).fetchone()[0]
    only_b = con.execute(
        f"select count(*) from (select {select} from {b} except all select {select} from {a})"
    ).fetchone()[0]
    rows = con.execute(f"select count(*) from {a}").fetchone()[0]
    return only_a, only_b, rows


def _edition_files(data: Path) -> dict[str, Path]:
    """The CSV and Parquet files of every staged edition, by edition and path."""
    staging = data / "staging"
    if not staging.is_dir():
        return {}
    editions = [e for e in sorted(staging.iterdir()) if not e.name.startswith(".")]
    return {
        f"{edition.name}/{path.relative_to(edition.resolve())}": path
        for edition in editions
        for path in sorted(edition.resolve().rglob("*"))
        if path.suffix in (".csv", ".parquet") and path.is_file()
    }


def compare(
    a: Path,
    b: Path,
    ignore: tuple[str, ...],
    edition_only: bool = False,
    warehouse: bool = False,
    quiet: bool = False,
) -> list[str]:
    """One line per table or file that differs between data folders a and b."""
    problems, tables, rows = [], 0, 0
    databases = [] if edition_only else ["analytics.duckdb"]
    databases += ["warehouse.duckdb"] if warehouse else []
    with duckdb.connect() as con:
        for database in databases:
            con.execute(f"attach {_literal(a / database)} as a (read_only)")
            con.execute(f"attach {_literal(b / database)} as b (read_only)")
            tables_of = "select table_name from duckdb_tables() where database_name = $db"
            names_a = {r[0] for r in con.execute(tables_of, {"db": "a"}).fetchall()}
            names_b = {r[0] for r in con.execute(tables_of, {"db": "b"}).fetchall()}
            names_a = {n for n in names_a if not _is_refresh_record(n)}
            names_b = {n for n in names_b if not _is_refresh_record(n)}
            problems += [f"{database} {n}: only in {a}" for n in sorted(names_a - names_b)]
            problems += [f"{database} {n}: only in {b}" for n in sorted(names_b - names_a)]
            for name in sorted(names_a & names_b):
                only_a, only_b, count = _difference(con, f'a."{name}"', f'b."{name}"', ignore)
                tables, rows = tables + 1, rows + count
                if only_a or only_b:
                    problems.append(_line(f"{database} {name}", only_a, only_b))
            con.execute("detach a")
            con.execute("detach b")
        files_a, files_b = _edition_files(a), _edition_files(b)
        problems += [f"file {n}: only in {a}" for n in sorted(set(files_a) - set(files_b))]
        problems += [f"file {n}: only in {b}" for n in sorted(set(files_b) - set(files_a))]
        for name in sorted(set(files_a) & set(files_b)):
            reader = "read_parquet" if name.endswith(".parquet") else "read_csv"
            options = "" if reader == "read_parquet" else ", all_varchar = true"
            relation_a = f"{reader}({_literal(files_a[name])}{options})"
            relation_b = f"{reader}({_literal(files_b[name])}{options})"
            only_a, only_b, count = _difference(con, relation_a, relation_b, ignore)
            tables, rows = tables + 1, rows + count
            if only_a or only_b:
                problems.append(_line(f"file {name}", only_a, only_b))
    if not problems and not quiet:
        print(f"identical: {tables} tables and files, {rows:,} rows (except all both ways)")
    return problems


def _line(what: str, only_a: int, only_b: int) -> str:
    if only_a < 0:
        return f"{what}: the columns differ"
    return f"{what}: {only_a} rows only in the first, {only_b} only in the second"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("first", type=Path)
    parser.add_argument("second", type=Path)
    parser.add_argument("--edition-only", action="store_true")
    parser.add_argument("--warehouse", action="store_true")
    parser.add_argument("--ignore", nargs="*", default=list(VOLATILE))
    args = parser.parse_args()
    problems = compare(
        args.first, args.second, tuple(args.ignore), args.edition_only, args.warehouse
    )
    print(*problems, sep="\n")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())

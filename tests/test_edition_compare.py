"""Comparing a published edition with its rebuild (orchestration/release/edition_compare.py): bytes
for every file, cells for workbooks whose zip containers differ, and a verdict for every file
under either folder."""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

import pytest
import xlsxwriter

from orchestration.release.edition_compare import (
    ADDED,
    DIFFERS,
    IDENTICAL,
    IDENTICAL_CELLS,
    MISSING,
    SKIPPED,
    FileVerdict,
    cell_address,
    column_letters,
    compare_editions,
    format_verdicts,
    method_counts,
)

pytestmark = pytest.mark.unit

ROWS = [["Measure", "Period", "Value"], ["SL004", "2025-04", 71.5], ["SL005", "2025-04", 80]]


def write_xlsx(path: Path, created: dt.datetime, rows=ROWS, sheets=("Cover", "Data")) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    workbook = xlsxwriter.Workbook(str(path))
    workbook.set_properties({"title": "Test", "created": created})
    for name in sheets:
        sheet = workbook.add_worksheet(name)
        if name == "Cover":
            sheet.write("A1", "A test workbook")
            sheet.write("A3", "Contact: nobody")  # a blank row between
            continue
        for r, row in enumerate(rows):
            for c, value in enumerate(row):
                sheet.write(r, c, value)
    workbook.close()
    return path


def write_ods(path: Path, created: dt.datetime, rows=ROWS) -> Path:
    from odf import dc, meta
    from odf.opendocument import OpenDocumentSpreadsheet
    from odf.table import Table, TableCell, TableRow
    from odf.text import P

    path.parent.mkdir(parents=True, exist_ok=True)
    document = OpenDocumentSpreadsheet()
    stamp = created.strftime("%Y-%m-%dT%H:%M:%S")
    document.meta.addElement(meta.CreationDate(text=stamp))
    document.meta.addElement(dc.Date(text=stamp))
    table = Table(name="Data")
    for row in rows:
        line = TableRow()
        for value in row:
            if isinstance(value, str):
                cell = TableCell(valuetype="string")
            else:
                cell = TableCell(valuetype="float", value=value)
            cell.addElement(P(text=str(value)))
            line.addElement(cell)
        table.addElement(line)
    document.spreadsheet.addElement(table)
    document.save(str(path))
    return path


def by_path(verdicts: list[FileVerdict]) -> dict[str, FileVerdict]:
    return {v.path: v for v in verdicts}


@pytest.fixture
def editions(tmp_path) -> tuple[Path, Path]:
    published, rebuilt = tmp_path / "published", tmp_path / "rebuilt"
    for folder in (published, rebuilt):
        (folder / "csv").mkdir(parents=True)
        (folder / "csv" / "national_monthly.csv").write_text("a,b\n1,2\n3,4\n")
        (folder / "bulletin.html").write_text("<p>same</p>\n")
    return published, rebuilt


def test_workbooks_written_at_different_times_are_identical_cell_by_cell(editions):
    published, rebuilt = editions
    one = write_xlsx(published / "book.xlsx", dt.datetime(2025, 5, 8, 9, 30))
    two = write_xlsx(rebuilt / "book.xlsx", dt.datetime(2026, 1, 2, 14, 5))
    assert one.read_bytes() != two.read_bytes()  # the document properties differ
    verdicts = by_path(compare_editions(published, rebuilt))
    assert verdicts["book.xlsx"] == FileVerdict(
        "book.xlsx", IDENTICAL_CELLS, "bytes differ, every cell is equal", "cells"
    )
    assert verdicts["book.xlsx"].ok
    assert verdicts["csv/national_monthly.csv"].verdict == IDENTICAL
    assert verdicts["bulletin.html"].method == "bytes"


def test_a_changed_cell_is_named_by_its_address(editions):
    published, rebuilt = editions
    changed = [row[:] for row in ROWS]
    changed[2][2] = 80.5
    write_xlsx(published / "book.xlsx", dt.datetime(2025, 5, 8))
    write_xlsx(rebuilt / "book.xlsx", dt.datetime(2025, 5, 9), rows=changed)
    verdict = by_path(compare_editions(published, rebuilt))["book.xlsx"]
    assert verdict.verdict == DIFFERS and not verdict.ok
    assert verdict.method == "cells"
    assert verdict.detail == "Data!C3: 80 != 80.5"


def test_a_cell_only_one_workbook_has_and_the_order_of_sheets(editions):
    published, rebuilt = editions
    write_xlsx(published / "longer.xlsx", dt.datetime(2025, 5, 8))
    write_xlsx(rebuilt / "longer.xlsx", dt.datetime(2025, 5, 9), rows=ROWS[:2])
    write_xlsx(published / "order.xlsx", dt.datetime(2025, 5, 8))
    write_xlsx(rebuilt / "order.xlsx", dt.datetime(2025, 5, 9), sheets=("Data", "Cover"))
    verdicts = by_path(compare_editions(published, rebuilt))
    assert verdicts["longer.xlsx"].detail == "Data!A3: 'SL005' != empty"
    assert verdicts["order.xlsx"].detail == "sheets differ: ['Cover', 'Data'] != ['Data', 'Cover']"


def test_workbooks_with_the_same_bytes_are_identical_without_reading_cells(editions):
    published, rebuilt = editions
    write_xlsx(published / "book.xlsx", dt.datetime(2025, 5, 8))
    write_xlsx(rebuilt / "book.xlsx", dt.datetime(2025, 5, 8))
    verdict = by_path(compare_editions(published, rebuilt))["book.xlsx"]
    assert (verdict.verdict, verdict.method) == (IDENTICAL, "bytes")


def test_ods_written_at_different_times_are_identical_cell_by_cell(editions):
    published, rebuilt = editions
    one = write_ods(published / "book.ods", dt.datetime(2025, 5, 8, 9, 30))
    two = write_ods(rebuilt / "book.ods", dt.datetime(2026, 1, 2, 14, 5))
    assert one.read_bytes() != two.read_bytes()
    verdict = by_path(compare_editions(published, rebuilt))["book.ods"]
    assert (verdict.verdict, verdict.method) == (IDENTICAL_CELLS, "cells")


def test_a_changed_ods_cell_is_named_by_its_address(editions):
    published, rebuilt = editions
    changed = [row[:] for row in ROWS]
    changed[1][1] = "2025-03"
    write_ods(published / "book.ods", dt.datetime(2025, 5, 8))
    write_ods(rebuilt / "book.ods", dt.datetime(2025, 5, 8), rows=changed)
    verdict = by_path(compare_editions(published, rebuilt))["book.ods"]
    assert verdict.detail == "Data!B2: '2025-04' != '2025-03'"


def test_an_unreadable_workbook_differs_with_why(editions):
    published, rebuilt = editions
    write_xlsx(published / "book.xlsx", dt.datetime(2025, 5, 8))
    (rebuilt / "book.xlsx").write_bytes(b"not a zip")
    verdict = by_path(compare_editions(published, rebuilt))["book.xlsx"]
    assert verdict.verdict == DIFFERS
    assert verdict.detail.startswith("cannot be read as a workbook (")


def test_a_csv_difference_names_the_first_differing_line(editions):
    published, rebuilt = editions
    (rebuilt / "csv" / "national_monthly.csv").write_text("a,b\n1,2\n3,5\n")
    (published / "loads.csv").write_text("x\n1\n")
    (rebuilt / "loads.csv").write_text("x\n1\n2\n")
    verdicts = by_path(compare_editions(published, rebuilt))
    assert verdicts["csv/national_monthly.csv"].detail == "line 3: '3,4' != '3,5'"
    assert verdicts["loads.csv"].detail == "line 3: '' != '2'"
    (rebuilt / "loads.csv").write_text("x\n1")  # no final newline
    assert by_path(compare_editions(published, rebuilt))["loads.csv"].detail == (
        "line 3: '' != end of file"
    )


def test_another_file_difference_gives_sizes_and_digests(editions):
    published, rebuilt = editions
    (rebuilt / "bulletin.html").write_text("<p>other</p>\n")
    verdict = by_path(compare_editions(published, rebuilt))["bulletin.html"]
    assert verdict.verdict == DIFFERS
    assert verdict.detail.startswith("12 bytes != 13 bytes; sha256 ")


def test_missing_and_added_files(editions):
    published, rebuilt = editions
    (published / "validation").mkdir()
    (published / "validation" / "result.json").write_text("{}")
    (rebuilt / "csv" / "extra.csv").write_text("a\n")
    verdicts = compare_editions(published, rebuilt)
    assert [v.path for v in verdicts] == [
        "bulletin.html",
        "csv/extra.csv",
        "csv/national_monthly.csv",
        "validation/result.json",
    ]
    found = by_path(verdicts)
    assert found["validation/result.json"].verdict == MISSING
    assert found["csv/extra.csv"].verdict == ADDED
    assert not found["validation/result.json"].ok and not found["csv/extra.csv"].ok


def test_nothing_is_left_out_silently(editions):
    published, rebuilt = editions
    (published / "gone").symlink_to(published / "nowhere")
    (rebuilt / "gone").symlink_to(rebuilt / "nowhere")
    os.symlink(published / "csv", published / "linked")
    os.symlink(rebuilt / "csv", rebuilt / "linked")
    found = by_path(compare_editions(published, rebuilt))
    assert found["gone"] == FileVerdict("gone", SKIPPED, "published: a broken symbolic link")
    assert found["linked"].verdict == SKIPPED
    assert "not followed" in found["linked"].detail
    assert not found["gone"].ok


def test_a_folder_that_is_not_there_is_an_error(tmp_path):
    with pytest.raises(NotADirectoryError):
        compare_editions(tmp_path / "nowhere", tmp_path)


def test_the_printed_lines_and_the_counts(editions):
    published, rebuilt = editions
    write_xlsx(published / "book.xlsx", dt.datetime(2025, 5, 8))
    write_xlsx(rebuilt / "book.xlsx", dt.datetime(2025, 5, 9))
    (published / "old.csv").write_text("a\n")
    verdicts = compare_editions(published, rebuilt)
    assert method_counts(verdicts) == {"bytes": 2, "cells": 1}
    lines = format_verdicts(verdicts)
    assert lines[0] == "identical cell by cell  book.xlsx - bytes differ, every cell is equal"
    assert lines[1] == "identical               bulletin.html"
    assert lines[-1] == (
        "4 files: 2 identical, 1 identical cell by cell, 1 missing "
        "(2 compared byte by byte, 1 cell by cell)"
    )
    assert format_verdicts(verdicts, only_problems=True)[:-1] == [
        "missing                 old.csv - in the published edition only"
    ]


def test_cell_addresses():
    assert [column_letters(i) for i in (0, 25, 26, 701, 702)] == ["A", "Z", "AA", "ZZ", "AAA"]
    assert cell_address("National_monthly", 6, 1) == "National_monthly!B7"
    assert cell_address("My sheet", 0, 0) == "'My sheet'!A1"

"""An ODS workbook's sheets as pandas reads them (`read_excel(engine="odf", header=None,
keep_default_na=False, na_values=[])`), from the spreadsheet's XML with ElementTree.

pandas' own ODS reader builds odfpy's document tree, which takes minutes for an edition's
workbook; this reads the same cells in seconds. Cells are decoded exactly as pandas decodes
them (`pandas.io.excel._odfreader`: repeated rows and columns, `text:s` spaces, annotations
skipped, whole floats as int) and each sheet goes through the same `TextParser` call, so the
frames are equal (tests/test_ods_reader.py compares them with pandas' on real workbooks).
"""

from __future__ import annotations

import zipfile
from pathlib import Path
from xml.etree import ElementTree

import numpy as np
import pandas as pd
from pandas.io.parsers import TextParser

OFFICE = "urn:oasis:names:tc:opendocument:xmlns:office:1.0"
TABLE = "urn:oasis:names:tc:opendocument:xmlns:table:1.0"
TEXT = "urn:oasis:names:tc:opendocument:xmlns:text:1.0"
CELL, COVERED = f"{{{TABLE}}}table-cell", f"{{{TABLE}}}covered-table-cell"
EMPTY = ""


def read_ods(path: Path) -> dict[str, pd.DataFrame]:
    """{sheet name: frame} in the workbook's order, as pandas' ODS reader gives them."""
    with zipfile.ZipFile(path) as book:
        root = ElementTree.fromstring(book.read("content.xml"))
    sheets = {}
    for sheet in root.iter(f"{{{TABLE}}}table"):
        data = _sheet_data(sheet)
        parser = TextParser(
            data, header=None, na_values=[], keep_default_na=False, skip_blank_lines=False
        )
        sheets[sheet.get(f"{{{TABLE}}}name", "")] = parser.read()
    return sheets


def _sheet_data(sheet: ElementTree.Element) -> list[list]:
    """The cells of a sheet row by row, trailing empty cells and rows dropped, made square."""
    table: list[list] = []
    empty_rows = 0
    width = 0
    for row in sheet.iter(f"{{{TABLE}}}table-row"):
        values: list = []
        empty_cells = 0
        for cell in row:
            if cell.tag not in (CELL, COVERED):
                continue
            value = _cell_value(cell) if cell.tag == CELL else EMPTY
            repeat = int(cell.get(f"{{{TABLE}}}number-columns-repeated", 1))
            if value == EMPTY:
                empty_cells += repeat
            else:
                values.extend([EMPTY] * empty_cells)
                empty_cells = 0
                values.extend([value] * repeat)
        width = max(width, len(values))
        repeat = int(row.get(f"{{{TABLE}}}number-rows-repeated", 1))
        if not values:
            empty_rows += repeat
        else:
            table.extend([[EMPTY]] * empty_rows)
            empty_rows = 0
            table.extend(list(values) for _ in range(repeat))
    for values in table:
        values.extend([EMPTY] * (width - len(values)))
    return table


def _cell_value(cell: ElementTree.Element):
    kind = cell.get(f"{{{OFFICE}}}value-type")
    if "".join(cell.itertext()) == "#N/A":
        return np.nan
    if kind is None:
        return EMPTY
    if kind == "boolean":
        return "".join(cell.itertext()) == "TRUE"
    if kind == "float":
        number = float(cell.get(f"{{{OFFICE}}}value", "nan"))
        return int(number) if int(number) == number else number
    if kind in ("percentage", "currency"):
        return float(cell.get(f"{{{OFFICE}}}value", "nan"))
    if kind == "string":
        return _text(cell)
    if kind == "date":
        return pd.Timestamp(cell.get(f"{{{OFFICE}}}date-value"))
    if kind == "time":
        return pd.Timestamp("".join(cell.itertext())).time()
    raise ValueError(f"unrecognised cell type {kind}")


def _text(element: ElementTree.Element) -> str:
    """A cell's text as pandas decodes it: paragraphs run together, `text:s` as spaces,
    annotations left out, newlines at the ends of text nodes stripped."""
    parts = [(element.text or "").strip("\n")] if element.text else []
    for child in element:
        if child.tag == f"{{{TEXT}}}s":
            parts.append(" " * int(child.get(f"{{{TEXT}}}c", 1)))
        elif child.tag != f"{{{OFFICE}}}annotation":
            parts.append(_text(child))
        if child.tail:
            parts.append(child.tail.strip("\n"))
    return "".join(parts)

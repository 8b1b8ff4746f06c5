"""Compare two edition folders file by file: a published edition and its rebuild.

What belongs here is the comparison alone - which files match and how each was judged - for
`probation-pipeline rebuild` to report; building the edition again, and deciding what a
difference means for a release, belong to its callers. Every file under either folder gets a
verdict (relative paths, sorted); nothing is left out silently:
- "identical": the same bytes;
- "identical cell by cell": an XLSX or ODS workbook whose bytes differ (its zip container and
  document properties carry the time it was written) but whose sheets - names and order - and
  every cell value are equal (read with pandas: openpyxl for XLSX, odfpy for ODS);
- "differs", with one line saying where: the first differing line of a CSV or JSON file, the
  first differing cell of a workbook (`Sheet!B7: 'x' != 'y'`), else the sizes and SHA-256
  prefixes;
- "missing" (published only), "added" (rebuilt only);
- "skipped", with why, for an entry that cannot be compared as a file (a symbolic link to a
  folder, which is not followed; a file that cannot be read).
"""

from __future__ import annotations

import hashlib
import math
import os
import re
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

IDENTICAL = "identical"
IDENTICAL_CELLS = "identical cell by cell"
DIFFERS = "differs"
MISSING = "missing"
ADDED = "added"
SKIPPED = "skipped"
VERDICTS = (IDENTICAL, IDENTICAL_CELLS, DIFFERS, MISSING, ADDED, SKIPPED)

BYTES = "bytes"
CELLS = "cells"
WORKBOOK_ENGINES = {".xlsx": "openpyxl", ".ods": "odf"}
LINE_SUFFIXES = {".csv", ".json"}  # text the pipeline writes line by line
SHOWN = 60  # characters of a line or cell value shown in a detail


@dataclass(frozen=True)
class FileVerdict:
    """One file's verdict. `path` is relative to the edition folder (with "/"); `method` says
    how it was compared: "cells" for a workbook whose bytes differ, "bytes" otherwise."""

    path: str
    verdict: str
    detail: str = ""
    method: str = BYTES

    @property
    def ok(self) -> bool:
        return self.verdict in (IDENTICAL, IDENTICAL_CELLS)


def compare_editions(published: Path, rebuilt: Path) -> list[FileVerdict]:
    """Every file under either folder with its verdict, sorted by relative path."""
    for folder in (published, rebuilt):
        if not folder.is_dir():
            raise NotADirectoryError(f"not an edition folder: {folder}")
    left, right = _entries(published), _entries(rebuilt)
    verdicts = []
    for path in sorted(left.keys() | right.keys()):
        method = CELLS if Path(path).suffix.lower() in WORKBOOK_ENGINES else BYTES
        if path not in right:
            verdicts.append(FileVerdict(path, MISSING, "in the published edition only", BYTES))
        elif path not in left:
            verdicts.append(FileVerdict(path, ADDED, "in the rebuilt edition only", BYTES))
        elif left[path] or right[path]:
            why = left[path] or right[path]
            side = "published" if left[path] else "rebuilt"
            verdicts.append(FileVerdict(path, SKIPPED, f"{side}: {why}", BYTES))
        else:
            verdicts.append(_compare_file(path, published / path, rebuilt / path, method))
    return verdicts


def _entries(root: Path) -> dict[str, str | None]:
    """Relative path of every entry that is not a folder -> None, or why it cannot be
    compared as a file."""
    entries: dict[str, str | None] = {}
    for folder, dirnames, filenames in os.walk(root, followlinks=False):
        base = Path(folder)
        for name in dirnames:
            if (base / name).is_symlink():  # os.walk lists it but does not descend
                entries[(base / name).relative_to(root).as_posix()] = (
                    "a symbolic link to a folder, not followed"
                )
        for name in filenames:
            path = base / name
            relative = path.relative_to(root).as_posix()
            if not path.is_file():
                entries[relative] = (
                    "a broken symbolic link" if path.is_symlink() else "not a regular file"
                )
            else:
                entries[relative] = None
    return entries


def _compare_file(path: str, left: Path, right: Path, method: str) -> FileVerdict:
    try:
        same = _same_bytes(left, right)
    except OSError as error:
        return FileVerdict(path, SKIPPED, f"cannot be read: {error}", BYTES)
    if same:
        return FileVerdict(path, IDENTICAL, "", BYTES)
    suffix = left.suffix.lower()
    if method == CELLS:
        try:
            difference = _first_cell_difference(
                _read_cells(left, WORKBOOK_ENGINES[suffix]),
                _read_cells(right, WORKBOOK_ENGINES[suffix]),
            )
        except Exception as error:  # noqa: BLE001 - any reader failure is a verdict
            reason = f"{type(error).__name__}: {error}".splitlines()[0]
            return FileVerdict(path, DIFFERS, f"cannot be read as a workbook ({reason})", CELLS)
        if difference is None:
            return FileVerdict(path, IDENTICAL_CELLS, "bytes differ, every cell is equal", CELLS)
        return FileVerdict(path, DIFFERS, difference, CELLS)
    if suffix in LINE_SUFFIXES:
        return FileVerdict(path, DIFFERS, _first_line_difference(left, right), BYTES)
    return FileVerdict(path, DIFFERS, _size_and_digest(left, right), BYTES)


def _same_bytes(left: Path, right: Path) -> bool:
    if left.stat().st_size != right.stat().st_size:
        return False
    return _sha256(left) == _sha256(right)


def _sha256(path: Path) -> str:
    with path.open("rb") as handle:
        return hashlib.file_digest(handle, "sha256").hexdigest()


def _size_and_digest(left: Path, right: Path) -> str:
    return (
        f"{left.stat().st_size:,} bytes != {right.stat().st_size:,} bytes; "
        f"sha256 {_sha256(left)[:12]} != {_sha256(right)[:12]}"
    )


def _shown(value) -> str:
    text = repr(value)
    return text if len(text) <= SHOWN else text[: SHOWN - 3] + "..."


def _first_line_difference(left: Path, right: Path) -> str:
    """`line N: '...' != '...'` (1-based), or the line one file has and the other does not."""
    a = left.read_bytes().split(b"\n")
    b = right.read_bytes().split(b"\n")
    for number in range(1, max(len(a), len(b)) + 1):
        x = a[number - 1] if number <= len(a) else None
        y = b[number - 1] if number <= len(b) else None
        if x != y:
            shown = [
                "end of file" if line is None else _shown(line.decode("utf-8", "replace"))
                for line in (x, y)
            ]
            return f"line {number}: {shown[0]} != {shown[1]}"
    return _size_and_digest(left, right)  # not reached: the bytes differ


def _read_cells(path: Path, engine: str) -> dict:
    """Every sheet's cells: the ODS read from its XML (orchestration/publication/ods_reader.py, the
    same
    cells as pandas' odfpy reader, far faster), the XLSX with openpyxl through pandas."""
    import pandas as pd

    if engine == "odf":
        from orchestration.publication.ods_reader import read_ods

        return read_ods(path)
    return pd.read_excel(path, sheet_name=None, header=None, dtype=object, engine=engine)


def _empty(value) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value)) or _is_nat(value)


def _is_nat(value) -> bool:
    import pandas as pd

    return value is pd.NaT


def _same_value(a, b) -> bool:
    if _empty(a) or _empty(b):
        return _empty(a) and _empty(b)
    if isinstance(a, bool) != isinstance(b, bool):
        return False
    try:
        return bool(a == b)
    except (TypeError, ValueError):
        return False


def column_letters(index: int) -> str:
    """0 -> A, 25 -> Z, 26 -> AA."""
    letters = ""
    index += 1
    while index:
        index, remainder = divmod(index - 1, 26)
        letters = chr(ord("A") + remainder) + letters
    return letters


def cell_address(sheet: str, row: int, column: int) -> str:
    """`Sheet!B7` for row 6, column 1 (0-based); a sheet name with other than letters, digits
    and underscores is quoted as in Excel ('My sheet'!B7)."""
    name = sheet if re.fullmatch(r"\w+", sheet) else "'" + sheet.replace("'", "''") + "'"
    return f"{name}!{column_letters(column)}{row + 1}"


def _first_cell_difference(left: dict, right: dict) -> str | None:
    """None when the workbooks have the same sheets (names and order) and cells, else the
    first difference: the sheet lists, or `Sheet!B7: 'x' != 'y'` (an empty cell is `empty`)."""
    if list(left) != list(right):
        return f"sheets differ: {_shown(list(left))} != {_shown(list(right))}"
    for sheet in left:
        a, b = left[sheet].to_numpy(dtype=object), right[sheet].to_numpy(dtype=object)
        rows, columns = max(a.shape[0], b.shape[0]), max(a.shape[1], b.shape[1])
        for row in range(rows):
            for column in range(columns):
                x = a[row, column] if row < a.shape[0] and column < a.shape[1] else None
                y = b[row, column] if row < b.shape[0] and column < b.shape[1] else None
                if not _same_value(x, y):
                    shown = ["empty" if _empty(v) else _shown(v) for v in (x, y)]
                    return f"{cell_address(sheet, row, column)}: {shown[0]} != {shown[1]}"
    return None


def method_counts(verdicts: list[FileVerdict]) -> dict[str, int]:
    """How many files present in both editions were compared byte by byte and cell by cell."""
    compared = [v for v in verdicts if v.verdict in (IDENTICAL, IDENTICAL_CELLS, DIFFERS)]
    return {
        BYTES: sum(v.method == BYTES for v in compared),
        CELLS: sum(v.method == CELLS for v in compared),
    }


def format_verdicts(verdicts: list[FileVerdict], only_problems: bool = False) -> list[str]:
    """One line per file (`verdict  path - detail`; with only_problems, the files that are not
    ok), then a summary line with the counts of each verdict and of each method."""
    width = max(len(v) for v in VERDICTS)
    lines = [
        f"{v.verdict:<{width}}  {v.path}" + (f" - {v.detail}" if v.detail else "")
        for v in verdicts
        if not (only_problems and v.ok)
    ]
    counts = Counter(v.verdict for v in verdicts)
    methods = method_counts(verdicts)
    summary = ", ".join(f"{counts[name]} {name}" for name in VERDICTS if counts[name])
    lines.append(
        f"{len(verdicts)} files: {summary or 'none'} "
        f"({methods[BYTES]} compared byte by byte, {methods[CELLS]} cell by cell)"
    )
    return lines

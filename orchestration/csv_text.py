"""The one reader of the statistician's configuration CSVs (reviews, targets, moderations):
UTF-8, a header row, every value text with surrounding spaces trimmed, an empty field null. A
file that cannot be read so raises the caller's error type naming the file, in one line.
"""

from __future__ import annotations

import io
from pathlib import Path

import pandas as pd

from schemas.configuration import ConfigurationError


def read_csv_text(path: Path, error: type[ValueError] = ConfigurationError) -> pd.DataFrame:
    """A configuration CSV as text columns; raises `error` naming the file when it cannot be
    read as UTF-8 CSV with a header row."""
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except FileNotFoundError:
        raise error(f"{path}: file not found") from None
    except IsADirectoryError:
        raise error(f"{path}: is a folder, not a CSV file") from None
    except UnicodeDecodeError as error_:
        raise error(f"{path}: encoding must be UTF-8 ({error_.reason})") from None
    if not text.strip():
        raise error(f"{path}: line 1: a header row is required")
    try:
        frame = pd.read_csv(
            io.StringIO(text),
            dtype=str,
            keep_default_na=False,
            na_values=[""],
            skip_blank_lines=False,
        )
    except pd.errors.ParserError as error_:
        raise error(f"{path}: not a CSV file: {str(error_).strip()}") from None
    return frame.map(lambda v: v.strip() if isinstance(v, str) else v).replace("", pd.NA)

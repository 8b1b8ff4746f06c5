"""The labels of the publication's periods, in one place for Python; their SQL twins are the
dbt macros `performance_year` and `quarter_label` (dbt_project/macros/periods.sql), and
tests/test_periods_seam.py checks the two agree over every month of 2019 to 2031.

- a performance year runs April to March and is labelled like 2021-22;
- a calendar quarter is labelled like "2024 Q2".
"""

from __future__ import annotations

import pandas as pd


def performance_year(month: str) -> str:
    """The performance year (April to March) of a month YYYY-MM, labelled like 2021-22."""
    year, number = int(month[:4]), int(month[5:7])
    first = year - 1 if number < 4 else year
    return f"{first}-{(first + 1) % 100:02d}"


def quarter_label(month: str) -> str:
    """The calendar quarter of a month YYYY-MM (or a date YYYY-MM-DD), labelled like 2024 Q2."""
    return f"{month[:4]} Q{(int(month[5:7]) - 1) // 3 + 1}"


def quarter_labels(dates: pd.Series) -> pd.Series:
    """quarter_label of each date of a datetime series."""
    return dates.dt.year.astype(str) + " Q" + dates.dt.quarter.astype(str)

"""Monthly partitions of the ingest assets: one per calendar month from April 2019.

Keys are `YYYY-MM` (the landing zone's month format). A month's partition exists once the
month has ended in Europe/London, which is when its extracts can be delivered.
"""

from __future__ import annotations

import dagster as dg

from orchestration.settings import FIRST_MONTH, TIMEZONE

monthly_partitions = dg.MonthlyPartitionsDefinition(
    start_date=FIRST_MONTH, fmt="%Y-%m", timezone=TIMEZONE
)


def month_range(start: str, end: str) -> list[str]:
    """Months from start to end inclusive (`--start 2022-05 --end 2023-01` is nine months)."""
    first_year, first_month = map(int, start.split("-"))
    last_year, last_month = map(int, end.split("-"))
    months, year, month = [], first_year, first_month
    while (year, month) <= (last_year, last_month):
        months.append(f"{year:04d}-{month:02d}")
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return months

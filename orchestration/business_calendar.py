"""The England and Wales business-day calendar, generated from the `holidays` package.

A business day is Monday to Friday and not an England and Wales bank holiday. The calendar is
shipped to dbt as the seed `business_calendar.csv`; `write_seed` regenerates it (a developer's
task: `make calendar-seed`, which runs `python -m orchestration.business_calendar [PATH]`) and a
test checks the shipped seed matches the package.
"""

from __future__ import annotations

import csv
import sys
from datetime import date, timedelta
from pathlib import Path

import holidays

from orchestration.settings import DBT_PROJECT_DIR

FIRST_YEAR, LAST_YEAR = 2005, 2035
SEED_PATH = DBT_PROJECT_DIR / "seeds" / "business_calendar.csv"
COLUMNS = ("calendar_date", "is_business_day", "business_day_seq", "bank_holiday")


def bank_holidays(first_year: int = FIRST_YEAR, last_year: int = LAST_YEAR) -> dict[date, str]:
    """England and Wales bank holidays (the package's ENG and WLS subdivisions agree)."""
    years = range(first_year, last_year + 1)
    england = holidays.country_holidays("GB", subdiv="ENG", years=years)
    wales = holidays.country_holidays("GB", subdiv="WLS", years=years)
    if set(england) != set(wales):
        raise ValueError("England and Wales bank holidays differ in the holidays package")
    return {day: name for day, name in sorted(england.items())}


def calendar_rows(
    first_year: int = FIRST_YEAR, last_year: int = LAST_YEAR
) -> list[dict[str, int | str]]:
    """One row per day; business_day_seq counts business days up to and including the day."""
    holiday_names = bank_holidays(first_year, last_year)
    rows, seq = [], 0
    day, last = date(first_year, 1, 1), date(last_year, 12, 31)
    while day <= last:
        business = day.weekday() < 5 and day not in holiday_names
        seq += business
        rows.append(
            {
                "calendar_date": day.isoformat(),
                "is_business_day": "true" if business else "false",
                "business_day_seq": seq,
                "bank_holiday": holiday_names.get(day, ""),
            }
        )
        day += timedelta(days=1)
    return rows


def write_seed(path: Path = SEED_PATH) -> Path:
    """Regenerate the dbt seed from the holidays package."""
    with path.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=COLUMNS, lineterminator="\n")
        writer.writeheader()
        writer.writerows(calendar_rows())
    return path


def main(argv: list[str] | None = None) -> int:
    """`python -m orchestration.business_calendar [PATH]`: write the seed (to PATH, else the
    dbt project's seed) and say where."""
    args = sys.argv[1:] if argv is None else argv
    if len(args) > 1 or any(a.startswith("-") for a in args):
        print(
            "usage: python -m orchestration.business_calendar [PATH] (default: the dbt seed "
            f"{SEED_PATH})",
            file=sys.stderr,
        )
        return 2
    print(f"Wrote {write_seed(Path(args[0]) if args else SEED_PATH)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

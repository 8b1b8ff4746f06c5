"""Business days: the shipped calendar seed and the dbt macro add_business_days
(docs/methodology.md#measures)."""

import csv
from datetime import date

import pytest

from orchestration.business_calendar import SEED_PATH, calendar_rows
from tests.conftest import FIXTURES, dbt_show, dbt_show_process

IRREGULAR = [
    "2011-04-29", "2012-06-04", "2012-06-05", "2020-05-08",
    "2022-06-02", "2022-06-03", "2022-09-19", "2023-05-08",
]  # fmt: skip

# (anchor, n, expected): the n-th business day strictly after the anchor.
CASES = [
    ("2011-04-28", 1, "2011-05-03"),  # royal wedding Fri 29, weekend, early May Mon 2
    ("2012-06-01", 1, "2012-06-06"),  # spring bank holiday moved to 4 June, jubilee 5 June
    ("2020-05-07", 1, "2020-05-11"),  # early May holiday moved to Friday 8 May (VE day)
    ("2022-06-01", 1, "2022-06-06"),  # spring bank holiday Thu 2, platinum jubilee Fri 3
    ("2022-09-16", 1, "2022-09-20"),  # state funeral Mon 19 September
    ("2023-05-05", 1, "2023-05-09"),  # coronation Mon 8 May
    ("2021-03-31", 5, "2021-04-09"),  # Easter 2021 inside the window
    ("2021-03-05", 1, "2021-03-08"),  # Friday -> Monday
    ("2021-03-06", 5, "2021-03-12"),  # Saturday anchor: counting starts Monday
    ("2021-04-04", 1, "2021-04-06"),  # Easter Sunday anchor, Easter Monday is a holiday
    ("2021-04-05", 1, "2021-04-06"),  # bank holiday anchor: next business day is the 1st
    ("2021-12-24", 1, "2021-12-29"),  # Christmas and Boxing Day substitutes 27 and 28
    ("2021-05-28", 5, "2021-06-07"),  # spring bank holiday 31 May
    ("2033-12-23", 1, "2033-12-28"),  # Christmas on a Sunday: observed Tuesday 27 (past 2030)
]


def seed_rows():
    with SEED_PATH.open() as handle:
        return list(csv.DictReader(handle))


def test_shipped_seed_matches_the_holidays_package():
    regenerated = [{k: str(v) for k, v in r.items()} for r in calendar_rows()]
    assert seed_rows() == regenerated


def test_every_reference_bank_holiday_is_not_a_business_day():
    business = {r["calendar_date"]: r["is_business_day"] == "true" for r in seed_rows()}
    with (FIXTURES / "bank_holidays_england_wales_2005_2028.csv").open() as handle:
        holidays = [r["date"] for r in csv.DictReader(handle)]
    assert len(holidays) > 180
    assert [d for d in holidays if business[d]] == []


@pytest.mark.parametrize("day", IRREGULAR)
def test_irregular_bank_holidays_are_not_business_days(day):
    row = next(r for r in seed_rows() if r["calendar_date"] == day)
    assert row["is_business_day"] == "false" and row["bank_holiday"]


def test_weekdays_that_are_not_holidays_are_business_days_and_weekends_are_not():
    for row in seed_rows():
        weekday = date.fromisoformat(row["calendar_date"]).weekday()
        if weekday >= 5:
            assert row["is_business_day"] == "false", row
        elif not row["bank_holiday"]:
            assert row["is_business_day"] == "true", row


def test_add_business_days_macro_in_the_warehouse(fixture_run):
    """Runs the real dbt macro against the fixture warehouse's calendar with `dbt show`."""
    settings, _ = fixture_run
    values = ", ".join(f"(date '{a}', {n}, date '{e}')" for a, n, e in CASES)
    sql = (
        "select anchor::varchar as anchor, n, expected::varchar as expected, "
        "{{ add_business_days('anchor', 'n') }}::varchar as actual "
        f"from (values {values}) as cases(anchor, n, expected)"
    )
    preview = dbt_show(sql, settings.data_dir)
    wrong = [row for row in preview if row["actual"] != row["expected"]]
    assert len(preview) == len(CASES)
    assert wrong == []


def test_seed_runs_from_2005_to_2035():
    rows = seed_rows()
    assert (rows[0]["calendar_date"], rows[-1]["calendar_date"]) == ("2005-01-01", "2035-12-31")


def test_a_window_past_the_calendar_stops_with_one_line_naming_the_date(fixture_run):
    """A date whose window falls outside the calendar must never count as a miss (a null)."""
    settings, _ = fixture_run
    sql = "select {{ add_business_days(\"date '2035-12-27'\", 5) }} as due"
    result = dbt_show_process(sql, settings.data_dir)
    assert result.returncode != 0
    assert "cannot count 5 business days after 2035-12-27" in result.stdout

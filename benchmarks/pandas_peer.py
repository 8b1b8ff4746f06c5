"""The pandas peer: SL004, SL005, SL007 and SL014 by region and month, in plain pandas.

    python benchmarks/pandas_peer.py --landing DIR --start YYYY-MM --end YYYY-MM
                                     [--calendar CSV] [--warehouse DUCKDB]

A yardstick for the pipeline's speed (benchmarks/bench.py): what a competent analyst would
write to compute four measures straight from the landing CSV files, with no DuckDB, no dbt and
no Dagster. It follows docs/methodology.md#landing-contract (landing-zone contract) and
docs/methodology.md#measures (methodology), with the exact
semantics of the dbt models where the methodology (docs/methodology.md) leaves room:

- Files: `<landing>/<extract>/<extract>_<YYYY-MM>[_rN].csv`, months in [start, end] only (the
  months the pipeline ingests for that range); the highest revision of each month wins;
  control files (`.ctl`) are not read.
- Row rules (schemas/row_rules.py): a row with a null in a required column, or (fact extracts)
  whose date is outside the file's month, is set aside; of the remaining rows, the first of a
  key in a file is kept. Every required column is read so that the null rule can be applied.
- Latest state (macro latest_per_key): a key's row from the newest month holding it wins.
- Vanished events (stg_events): an event with no termination date whose newest file is older
  than the newest events file holding any rows is supervised no later than that file's month.
- Business days (macro add_business_days): the n-th business day strictly after d, counted
  from the calendar seed's business_day_seq; a date outside the seed stops the run.
- SL004 / SL005 (int_initial_appointment_cases): CO/SSO (5 business days) or LICENCE events (1,
  3 when released REMAND_FROM_COURT) by month of start_date; in the numerator when an in-person
  (OFFICE, HOME_VISIT) contact for the event is dated start_date .. window end.
- SL007 (int_sl007_cases): a person with an event that started before the month and is not
  terminated before the month's last day; region of the latest-starting such event (ties: the
  highest event_id); in the numerator with an in-person contact for the crn dated in the month.
- SL014 (int_sl014_cases): LICENCE events by month of start_date; the RELEASE_NIGHT check dated
  on the release date or the day after (the latest by check_date, then check_id) is SETTLED or
  TEMPORARY; no such check counts as not housed.
- Months reported: [start, end]. The catalogue's valid_from is not applied: measure_monthly does
  not apply it either (only publication and target attainment do).

The pipeline's contract checks (codes, types, control-file row counts and hashes) are not
repeated: a delivery the pipeline would reject is read here as delivered.
"""

from __future__ import annotations

import argparse
import re
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

MEASURES = ("SL004", "SL005", "SL007", "SL014")
CALENDAR = Path(__file__).resolve().parents[1] / "dbt_project" / "seeds" / "business_calendar.csv"
IN_PERSON = ("OFFICE", "HOME_VISIT")

# What the peer reads of each extract: its key, its required columns (all read, for the null
# rule), the optional columns it uses, and the date that places a fact row in its month.
EXTRACTS = {
    "events": {
        "key": "event_id",
        "required": [
            "event_id",
            "crn",
            "region_code",
            "event_type",
            "start_date",
            "main_offence_category",
            "expected_end_date",
        ],
        "optional": ["release_type", "termination_date"],
        "partition": None,
        "keep": [
            "event_id",
            "crn",
            "region_code",
            "event_type",
            "start_date",
            "release_type",
            "termination_date",
        ],
    },
    "contacts": {
        "key": "contact_id",
        "required": [
            "contact_id",
            "crn",
            "event_id",
            "region_code",
            "contact_date",
            "mode",
            "outcome",
        ],
        "optional": [],
        "partition": "contact_date",
        "keep": ["contact_id", "crn", "event_id", "contact_date", "mode"],
    },
    "accommodation_checks": {
        "key": "check_id",
        "required": [
            "check_id",
            "event_id",
            "crn",
            "region_code",
            "checkpoint",
            "check_date",
            "status",
        ],
        "optional": [],
        "partition": "check_date",
        "keep": ["check_id", "event_id", "checkpoint", "check_date", "status"],
    },
}
DATE_COLUMNS = ("start_date", "termination_date", "contact_date", "check_date")


# ---------------------------------------------------------------------------------------------
# reading the landing zone


def month_index(months: pd.Series | str) -> pd.Series | int:
    """Months as whole numbers (year * 12 + month - 1), from dates or from 'YYYY-MM'."""
    if isinstance(months, str):
        year, month = map(int, months.split("-"))
        return year * 12 + month - 1
    return months.dt.year * 12 + months.dt.month - 1


def month_label(index: pd.Series) -> pd.Series:
    """'YYYY-MM' of a month index."""
    return (index // 12).astype(str) + "-" + (index % 12 + 1).astype(str).str.zfill(2)


def deliveries(landing: Path, extract: str, start: str, end: str) -> list[tuple[str, Path]]:
    """(month, file) of every month in [start, end] delivered, the highest revision of each."""
    pattern = re.compile(rf"^{extract}_(\d{{4}}-\d{{2}})(?:_r(\d+))?\.(csv|parquet)$")
    newest: dict[str, tuple[int, Path]] = {}
    for path in (landing / extract).iterdir():
        match = pattern.match(path.name)
        if not match or not start <= match[1] <= end:
            continue  # control files and anything that is not a delivery
        if match[3] == "parquet":
            raise NotImplementedError(f"{path}: the pandas peer reads CSV deliveries only")
        revision = int(match[2] or 1)
        if match[1] not in newest or revision > newest[match[1]][0]:
            newest[match[1]] = (revision, path)
    return [(month, newest[month][1]) for month in sorted(newest)]


def read_delivery(path: Path, month: str, spec: dict) -> pd.DataFrame:
    """One delivered file after the row rules: the columns the peer keeps, as text."""
    frame = pd.read_csv(
        path,
        usecols=spec["required"] + spec["optional"],
        dtype=str,
        keep_default_na=False,
        na_values=[""],
    )
    kept = frame[spec["required"]].notna().all(axis=1)  # null_required
    if spec["partition"]:
        kept &= frame[spec["partition"]].str[:7] == month  # outside_partition
    frame = frame.loc[kept, spec["keep"]]
    return frame.drop_duplicates(spec["key"], keep="first")  # duplicate_key: first kept


def latest_state(landing: Path, extract: str, start: str, end: str) -> pd.DataFrame:
    """Every key's row from the newest month holding it, with that month (`_month`, an index),
    dates parsed."""
    spec = EXTRACTS[extract]
    files = deliveries(landing, extract, start, end)
    frames = [
        read_delivery(path, month, spec).assign(_month=month_index(month))
        for month, path in reversed(files)  # newest month first, so it wins below
    ]
    if not frames:
        frame = pd.DataFrame(columns=[*spec["keep"], "_month"], dtype=str)
        frame["_month"] = frame["_month"].astype("int64")
    else:
        frame = pd.concat(frames, ignore_index=True)
        frame = frame.drop_duplicates(spec["key"], keep="first")
    for column in DATE_COLUMNS:
        if column in frame:
            frame[column] = pd.to_datetime(frame[column], format="%Y-%m-%d")
    return frame.reset_index(drop=True)


class BusinessCalendar:
    """The calendar seed (one row per date, business_day_seq counting business days up to and
    including the date)."""

    def __init__(self, path: Path):
        seed = pd.read_csv(
            path,
            usecols=["calendar_date", "is_business_day", "business_day_seq"],
            dtype={"is_business_day": str, "business_day_seq": "int64"},
            parse_dates=["calendar_date"],
        )
        business = seed[seed["is_business_day"].str.lower() == "true"]
        self.seq_of_date = pd.Series(seed["business_day_seq"].values, index=seed["calendar_date"])
        self.date_of_seq = pd.Series(
            business["calendar_date"].values, index=business["business_day_seq"]
        )

    def add_business_days(self, dates: pd.Series, days: pd.Series) -> pd.Series:
        """The days-th business day strictly after each date (docs/methodology.md#measures)."""
        due = (dates.map(self.seq_of_date) + days).map(self.date_of_seq)
        outside = due.isna() & dates.notna()
        if outside.any():
            first = dates[outside].iloc[0].date()
            raise ValueError(f"business calendar cannot count business days after {first}")
        return due


# ---------------------------------------------------------------------------------------------
# the measures: one row per case (measure_code, region_code, month, in_numerator)


def initial_appointment_cases(
    events: pd.DataFrame, in_person: pd.DataFrame, calendar: BusinessCalendar, first: int, last: int
) -> pd.DataFrame:
    """SL004 (CO/SSO, 5 business days) and SL005 (LICENCE, 1 or 3 from remand)."""
    months = month_index(events["start_date"])
    cases = events.loc[
        events["event_type"].isin(["CO", "SSO", "LICENCE"]) & months.between(first, last),
        ["event_id", "region_code", "event_type", "release_type", "start_date"],
    ]
    licence = cases["event_type"] == "LICENCE"
    allowed = np.where(licence, np.where(cases["release_type"] == "REMAND_FROM_COURT", 3, 1), 5)
    cases = cases.assign(
        measure_code=np.where(licence, "SL005", "SL004"),
        month=month_index(cases["start_date"]),
        window_end=calendar.add_business_days(cases["start_date"], pd.Series(allowed, cases.index)),
    )
    # the event's first in-person contact on or after its start date: in the window or not at all
    first_contact = pd.merge_asof(
        cases[["event_id", "start_date"]].sort_values("start_date"),
        in_person[["event_id", "contact_date"]].sort_values("contact_date"),
        left_on="start_date",
        right_on="contact_date",
        by="event_id",
        direction="forward",
    )
    seen = first_contact.loc[first_contact["contact_date"].notna(), ["event_id", "contact_date"]]
    cases = cases.merge(seen, on="event_id", how="left")
    cases["in_numerator"] = cases["contact_date"] <= cases["window_end"]
    return cases[["measure_code", "region_code", "month", "in_numerator"]]


def sl007_cases(
    events: pd.DataFrame, in_person: pd.DataFrame, first: int, last: int
) -> pd.DataFrame:
    """SL007: people supervised over the whole month, with an in-person contact in it."""
    newest = events["_month"].max()
    vanished = events["termination_date"].isna() & (events["_month"] < newest)
    terminated = events["termination_date"]
    # not terminated before the month's last day: up to the termination month when it falls on
    # a month's last day, else up to the month before it
    until = month_index(terminated) - (~terminated.dt.is_month_end).astype("int64")
    until = until.where(terminated.notna(), last).where(~vanished, events["_month"]).astype("int64")
    supervised = events.assign(
        first=np.maximum(month_index(events["start_date"]) + 1, first),  # started before it
        last=np.minimum(until, last),
    )
    supervised = supervised[supervised["last"] >= supervised["first"]]
    # the latest-starting event first (ties: the highest event_id), so the first row of a
    # person and month below is the one whose region counts
    supervised = supervised.sort_values(["start_date", "event_id"], ascending=False)
    spans = (supervised["last"] - supervised["first"] + 1).to_numpy()
    people = pd.DataFrame(
        {
            "crn": np.repeat(supervised["crn"].to_numpy(), spans),
            "region_code": np.repeat(supervised["region_code"].to_numpy(), spans),
            "month": np.repeat(supervised["first"].to_numpy(), spans)
            + np.arange(spans.sum())
            - np.repeat(np.cumsum(spans) - spans, spans),
        }
    ).drop_duplicates(["crn", "month"], keep="first")
    seen = pd.DataFrame(
        {"crn": in_person["crn"], "month": month_index(in_person["contact_date"])}
    ).drop_duplicates()
    people = people.merge(seen, on=["crn", "month"], how="left", indicator=True)
    return pd.DataFrame(
        {
            "measure_code": "SL007",
            "region_code": people["region_code"],
            "month": people["month"],
            "in_numerator": people["_merge"] == "both",
        }
    )


def sl014_cases(events: pd.DataFrame, checks: pd.DataFrame, first: int, last: int) -> pd.DataFrame:
    """SL014: releases on licence housed (SETTLED or TEMPORARY) on the night of release."""
    in_range = month_index(events["start_date"]).between(first, last)
    releases = events.loc[
        (events["event_type"] == "LICENCE") & in_range, ["event_id", "region_code", "start_date"]
    ]
    release_night = checks.loc[
        checks["checkpoint"] == "RELEASE_NIGHT", ["event_id", "check_id", "check_date", "status"]
    ]
    night = releases[["event_id", "start_date"]].merge(release_night, on="event_id")
    night = night[
        (night["check_date"] >= night["start_date"])
        & (night["check_date"] <= night["start_date"] + pd.Timedelta(days=1))
    ]
    latest = night.sort_values(["check_date", "check_id"], ascending=False).drop_duplicates(
        "event_id"
    )
    housed = latest.loc[latest["status"].isin(["SETTLED", "TEMPORARY"]), "event_id"]
    return pd.DataFrame(
        {
            "measure_code": "SL014",
            "region_code": releases["region_code"],
            "month": month_index(releases["start_date"]),
            "in_numerator": releases["event_id"].isin(housed),
        }
    )


def run_peer(
    landing: Path, start: str, end: str, calendar_csv: Path = CALENDAR
) -> tuple[pd.DataFrame, float]:
    """(cells, seconds): numerator and denominator of SL004, SL005, SL007 and SL014 by region
    and month in [start, end], one row per region and month where the measure has cases."""
    for month in (start, end):
        if not re.fullmatch(r"\d{4}-(0[1-9]|1[0-2])", month):
            raise ValueError(f"{month!r}: months are YYYY-MM")
    began = time.perf_counter()
    landing = Path(landing)
    first, last = month_index(start), month_index(end)
    calendar = BusinessCalendar(Path(calendar_csv))

    events = latest_state(landing, "events", start, end)
    contacts = latest_state(landing, "contacts", start, end)
    in_person = contacts.loc[contacts["mode"].isin(IN_PERSON), ["crn", "event_id", "contact_date"]]
    del contacts
    checks = latest_state(landing, "accommodation_checks", start, end)

    cases = pd.concat(
        [
            initial_appointment_cases(events, in_person, calendar, first, last),
            sl007_cases(events, in_person, first, last),
            sl014_cases(events, checks, first, last),
        ],
        ignore_index=True,
    )
    cells = (
        cases.groupby(["measure_code", "region_code", "month"], as_index=False)
        .agg(numerator=("in_numerator", "sum"), denominator=("in_numerator", "size"))
        .astype({"numerator": "int64", "denominator": "int64"})
    )
    cells["month"] = month_label(cells["month"])
    return cells, time.perf_counter() - began


# ---------------------------------------------------------------------------------------------
# checking against the pipeline


def compare_with_warehouse(cells: pd.DataFrame, warehouse: Path) -> tuple[int, int, pd.DataFrame]:
    """(cells compared, cells mismatched, the mismatches) against the pipeline's regional
    monthly figures for the four measures (measure_monthly, cells with cases). A cell only one
    side has is a mismatch; the mismatches carry both sides' numerator and denominator."""
    import duckdb  # only to read the pipeline's answer, never to compute the peer's

    with duckdb.connect(str(warehouse), read_only=True) as connection:
        pipeline = connection.execute(
            """
            select measure_code, geography_code as region_code, strftime(month, '%Y-%m') as month,
                numerator, denominator
            from measure_monthly
            where geography_level = 'REGION' and denominator > 0
              and measure_code in (select unnest($codes))
            """,
            {"codes": list(MEASURES)},
        ).df()
    keys = ["measure_code", "region_code", "month"]
    both = cells[[*keys, "numerator", "denominator"]].merge(
        pipeline, on=keys, how="outer", suffixes=("_peer", "_pipeline"), indicator=True
    )
    differs = (
        (both["_merge"] != "both")
        | (both["numerator_peer"] != both["numerator_pipeline"])
        | (both["denominator_peer"] != both["denominator_pipeline"])
    )
    mismatches = both[differs].rename(columns={"_merge": "found_in"})
    mismatches["found_in"] = mismatches["found_in"].map(
        {"left_only": "peer only", "right_only": "pipeline only", "both": "both"}
    )
    return len(both), int(differs.sum()), mismatches.sort_values(keys).reset_index(drop=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--landing", type=Path, required=True)
    parser.add_argument("--start", required=True, help="first month, YYYY-MM")
    parser.add_argument("--end", required=True, help="last month, YYYY-MM")
    parser.add_argument("--calendar", type=Path, default=CALENDAR, help="business_calendar seed")
    parser.add_argument("--warehouse", type=Path, help="compare with this pipeline warehouse")
    args = parser.parse_args()
    try:
        cells, seconds = run_peer(args.landing, args.start, args.end, args.calendar)
    except ValueError as error:
        parser.error(str(error))
    print(f"pandas peer: {len(cells):,} cells in {seconds:.2f}s")
    if args.warehouse:
        compared, mismatched, mismatches = compare_with_warehouse(cells, args.warehouse)
        print(f"{compared:,} cells compared with {args.warehouse}, {mismatched} mismatched")
        if mismatched:
            print(mismatches.head(20).to_string(index=False))
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())

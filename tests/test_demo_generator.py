"""The demo landing-zone generator: layout, codes, file semantics, deliveries (re-deliveries,
fields completed later, backdated terminations, control files), determinism and defects."""

from __future__ import annotations

import csv
import hashlib
import json
import re
from datetime import datetime
from functools import cache
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest

from orchestration.demo import DefectSpec, generate_landing, parse_defect
from schemas.contracts import EXTRACTS

SEEDS = Path(__file__).resolve().parents[1] / "dbt_project" / "seeds"
START, END = "2021-03", "2021-07"
MONTHS = ["2021-03", "2021-04", "2021-05", "2021-06", "2021-07"]
SCALE = 0.01

COLUMNS = {
    "events": "event_id crn region_code pdu_code provider_code event_type start_date release_type "
    "main_offence_category custodial_sentence_months expected_end_date termination_date "
    "termination_reason",
    "requirements": "requirement_id event_id crn region_code requirement_type sentence_date "
    "start_date termination_date termination_reason hours_ordered",
    "persons": "crn sex age_band ethnicity religion disability sexual_orientation",
    "contacts": "contact_id crn event_id region_code contact_date mode outcome",
    "sentence_plans": "plan_id event_id crn region_code completed_date",
    "upw_sessions": "session_id requirement_id crn region_code session_date status",
    "accommodation_checks": "check_id event_id crn region_code checkpoint check_date status",
    "employment_checks": "check_id event_id crn region_code checkpoint check_date status",
    "recalls": "recall_id crn region_code return_to_custody_date part_b_due_date "
    "part_b_supplied_date",
    "parole_reports": "report_id crn region_code sentence_kind due_date sent_date",
    "handovers": "handover_id crn region_code com_allocated_date months_to_serve meeting_date",
    "measure_returns": "measure_code region_code period_month numerator denominator",
}
COLUMNS = {name: spec.split() for name, spec in COLUMNS.items()}
INSPECTION_COLUMNS = [
    "inspection_id", "organisation_code", "organisation_name", "organisation_type", "framework",
    "published_date", "standard_code", "standard_name", "rating",
]  # fmt: skip
FACT_DATE = {
    "contacts": "contact_date",
    "sentence_plans": "completed_date",
    "upw_sessions": "session_date",
    "accommodation_checks": "check_date",
    "employment_checks": "check_date",
    "recalls": "return_to_custody_date",
    "parole_reports": "due_date",
    "handovers": "com_allocated_date",
}
KEYS = {
    "contacts": "contact_id",
    "sentence_plans": "plan_id",
    "upw_sessions": "session_id",
    "accommodation_checks": "check_id",
    "employment_checks": "check_id",
    "recalls": "recall_id",
    "parole_reports": "report_id",
    "handovers": "handover_id",
}
PROVIDERS = {f"C{i:02d}" for i in range(1, 22)} | {f"N{i:02d}" for i in range(1, 8)}
CODES = {
    "event_type": {"CO", "SSO", "SDO", "LICENCE", "PSS"},
    "release_type": {"STANDARD", "REMAND_FROM_COURT"},
    "main_offence_category": {
        "VIOLENCE", "SEXUAL", "ROBBERY", "THEFT", "DRUGS", "MOTORING", "FRAUD", "PUBLIC_ORDER",
        "OTHER",
    },
    ("events", "termination_reason"): {
        "COMPLETED", "REVOKED_BREACH", "RECALLED", "TRANSFERRED", "DIED", "OTHER",
    },
    "requirement_type": {
        "UPW", "RAR", "ACCREDITED_PROGRAMME", "STRUCTURED_INTERVENTION", "TOOLKIT", "CURFEW",
        "DRUG_REHAB", "OTHER",
    },
    ("requirements", "termination_reason"): {"COMPLETED", "REVOKED", "BREACH", "OTHER"},
    "sex": {"M", "F", "UNKNOWN"},
    "age_band": {"18-20", "21-24", "25-29", "30-39", "40-49", "50+"},
    "ethnicity": {"WHITE", "BLACK", "ASIAN", "MIXED", "OTHER", "UNKNOWN"},
    "disability": {"Y", "N", "UNKNOWN"},
    "sexual_orientation": {"HETEROSEXUAL", "GAY_OR_LESBIAN", "BISEXUAL", "OTHER"},
    "mode": {"OFFICE", "HOME_VISIT", "VIDEO", "TELEPHONE"},
    "outcome": {"ATTENDED", "FAILED_TO_ATTEND", "ACCEPTABLE_ABSENCE", "NOT_RECORDED"},
    ("upw_sessions", "status"): {
        "ATTENDED", "FAILED_TO_ATTEND", "ACCEPTABLE_ABSENCE", "STOOD_DOWN",
    },
    ("accommodation_checks", "checkpoint"): {
        "RELEASE_NIGHT", "POST_RELEASE_3M", "POST_DISPOSAL_3M",
    },
    ("accommodation_checks", "status"): {"SETTLED", "TEMPORARY", "HOMELESS", "UNKNOWN"},
    ("employment_checks", "checkpoint"): {
        "POST_RELEASE_6W", "POST_RELEASE_6M", "POST_DISPOSAL_6M",
    },
    ("employment_checks", "status"): {"EMPLOYED", "UNEMPLOYED", "UNAVAILABLE", "UNKNOWN"},
    "sentence_kind": {"DETERMINATE", "INDETERMINATE"},
    "organisation_type": {"CRC", "NPS_DIVISION", "REGION", "PDU"},
    "rating": {"OUTSTANDING", "GOOD", "REQUIRES_IMPROVEMENT", "INADEQUATE"},
    "provider_code": PROVIDERS,
}  # fmt: skip
REQUIRED = {  # columns that must never be empty in a file without defects
    "events": "event_id crn region_code event_type start_date main_offence_category "
    "expected_end_date",
    "requirements": "requirement_id event_id crn region_code requirement_type sentence_date",
    "persons": "crn sex age_band ethnicity disability",
    "contacts": "contact_id crn event_id region_code contact_date mode outcome",
    "upw_sessions": "session_id requirement_id crn region_code session_date status",
    "handovers": "handover_id crn region_code com_allocated_date months_to_serve",
    "measure_returns": "measure_code region_code period_month numerator denominator",
}
INT_COLUMNS = {"custodial_sentence_months", "hours_ordered", "months_to_serve"}
INT_COLUMNS |= {"numerator", "denominator"}
DATE_COLUMNS = {c for cols in COLUMNS.values() for c in cols if c.endswith("_date")}
LATE_FIELDS = {  # fields completed later: the extracts re-delivered
    "contacts": "outcome",
    "recalls": "part_b_supplied_date",
    "parole_reports": "sent_date",
    "handovers": "meeting_date",
}
LONDON = ZoneInfo("Europe/London")
NAME = re.compile(r"^(?P<extract>[a-z_]+)_(?P<month>\d{4}-\d{2})(?:_r(?P<revision>\d+))?\.csv$")
INJECTED = (
    DefectSpec("drop_rows", "contacts", "N07", "2021-04", 0.4),
    DefectSpec("duplicate_rows", "upw_sessions", "N52", "2021-05", 0.2),
    DefectSpec("shift_dates", "employment_checks", "N51", "2021-06", 0.5),
    DefectSpec("drop_region", "events", "N55", "2021-04"),
    DefectSpec("null_spike", "accommodation_checks", "N07", "2021-05", 0.5),
)
FAULTS = (
    DefectSpec("vanished_record", "events", None, "2021-05", 0.05),
    DefectSpec("vanished_record", "requirements", "N07", "2021-04"),  # default share: 1 record
    DefectSpec("truncated_transfer", "contacts", None, "2021-04"),  # newest of r1..r3
    DefectSpec("truncated_transfer", "persons", None, "2021-06"),
    DefectSpec("missing_month", "recalls", None, "2021-05"),  # and its re-delivery
    DefectSpec("missing_month", "sentence_plans", None, "2021-06"),
)


def _regions() -> list[str]:
    with (SEEDS / "regions.csv").open(newline="") as handle:
        return [row["region_code"] for row in csv.DictReader(handle)]


def _pdus() -> dict[str, str]:
    with (SEEDS / "pdus.csv").open(newline="") as handle:
        return {row["pdu_code"]: row["region_code"] for row in csv.DictReader(handle)}


@cache
def _read(path: Path) -> pd.DataFrame:
    return pd.read_csv(path, dtype=str, keep_default_na=False, na_values=[""])


def read(root: Path, extract: str, month: str, revision: int = 1) -> pd.DataFrame:
    suffix = "" if revision == 1 else f"_r{revision}"
    return _read(root / extract / f"{extract}_{month}{suffix}.csv").copy()


def revisions(root: Path, extract: str, month: str) -> list[int]:
    """The revisions delivered for an extract-month, in order."""
    found = [NAME.match(p.name) for p in (root / extract).glob(f"{extract}_{month}*.csv")]
    return sorted(int(m["revision"] or 1) for m in found if m)


def control(path: Path) -> dict:
    return json.loads(path.with_name(path.name + ".ctl").read_text())


def read_all(root: Path, extract: str) -> pd.DataFrame:
    return pd.concat([read(root, extract, m).assign(_month=m) for m in MONTHS], ignore_index=True)


def month_bounds(month: str) -> tuple[pd.Timestamp, pd.Timestamp]:
    first = pd.Timestamp(f"{month}-01")
    return first, first + pd.offsets.MonthEnd(0)


@pytest.fixture(scope="module")
def landing(tmp_path_factory):
    root = tmp_path_factory.mktemp("landing")
    return root, generate_landing(root, START, END, scale=SCALE)


@pytest.fixture(scope="module")
def clean(tmp_path_factory):
    root = tmp_path_factory.mktemp("clean")
    return root, generate_landing(root, START, END, scale=SCALE, unification_defects=False)


@pytest.fixture(scope="module")
def faults(tmp_path_factory):
    """The clean landing zone with the delivery faults injected."""
    root = tmp_path_factory.mktemp("faults")
    summary = generate_landing(
        root, START, END, scale=SCALE, unification_defects=False, inject=FAULTS
    )
    return root, summary


@pytest.fixture(scope="module")
def injected(tmp_path_factory):
    root = tmp_path_factory.mktemp("injected")
    summary = generate_landing(
        root, START, END, scale=SCALE, unification_defects=False, inject=INJECTED
    )
    return root, summary


def test_file_names_one_per_extract_and_month_plus_redeliveries(landing):
    root, summary = landing
    for extract in COLUMNS:
        names = {p.name for p in (root / extract).iterdir()}
        data = {n for n in names if not n.endswith(".ctl")}
        assert {n for n in names if n.endswith(".ctl")} == {f"{n}.ctl" for n in data}
        first = {f"{extract}_{m}.csv" for m in MONTHS}
        assert first <= data
        redelivered = data - first
        if extract not in LATE_FIELDS:
            assert redelivered == set(), extract
            continue
        matches = [NAME.match(n) for n in redelivered]
        assert all(m and m["extract"] == extract and m["month"] in MONTHS for m in matches)
        assert {int(m["revision"]) for m in matches} <= {2, 3}
        # r2 two months after, r3 four months after: none yet for the newest months.
        by_revision = {r: {m["month"] for m in matches if int(m["revision"]) == r} for r in (2, 3)}
        assert {"2021-03", "2021-04", "2021-05"} <= by_revision[2] <= set(MONTHS[:4]), extract
        assert by_revision[3] <= {"2021-03", "2021-04"}, extract
        assert by_revision[3] <= by_revision[2]
    assert [p.name for p in (root / "inspections").iterdir()] == ["inspections.csv"]
    assert summary["months"] == MONTHS
    assert summary["files"] == len(summary["deliveries"]) + 1
    assert {d["path"] for d in summary["deliveries"]} == {
        f"{e}/{n}" for e in COLUMNS for n in (p.name for p in (root / e).glob("*.csv"))
    }


def test_exact_columns_in_order(landing):
    root, _ = landing
    for extract, columns in COLUMNS.items():
        for month in MONTHS:
            header = (root / extract / f"{extract}_{month}.csv").read_text().split("\n")[0]
            assert header.split(",") == columns, (extract, month)
    header = (root / "inspections" / "inspections.csv").read_text().split("\n")[0]
    assert header.split(",") == INSPECTION_COLUMNS


def test_columns_match_the_project_contract():
    for extract, columns in COLUMNS.items():
        assert EXTRACTS[extract].column_names == columns


def test_codes_are_in_the_allowed_sets(landing):
    root, _ = landing
    regions = set(_regions())
    pdus = _pdus()
    for extract in COLUMNS:
        data = read_all(root, extract)
        assert len(data) > 0, extract
        if "region_code" in data:
            assert set(data["region_code"].dropna()) <= regions, extract
        for column in data.columns:
            allowed = CODES.get((extract, column), CODES.get(column))
            if allowed is not None:
                assert set(data[column].dropna()) <= allowed, (extract, column)
    events = read_all(root, "events")
    assert set(events["region_code"]) == regions
    with_pdu = events.dropna(subset=["pdu_code"])
    assert (with_pdu["pdu_code"].map(pdus) == with_pdu["region_code"]).all()
    assert 0.0 < events["pdu_code"].isna().mean() < 0.06
    inspections = _read(root / "inspections" / "inspections.csv")
    for column in ("organisation_type", "rating"):
        assert set(inspections[column]) <= CODES[column]
    assert set(inspections["framework"]) == {"HMIP 2018", "HMIP 2021"}
    assert set(inspections["organisation_type"]) == CODES["organisation_type"]
    per_inspection = inspections.groupby(["framework", "inspection_id"]).size()
    assert (per_inspection["HMIP 2018"] == 10).all()  # 10 standards (two in domain 3)
    assert (per_inspection["HMIP 2021"] == 9).all()  # 9 standards (one in domain 3)


def test_values_are_typed_as_the_contract_says(landing):
    root, _ = landing
    for extract in COLUMNS:
        text = read_all(root, extract)
        for column in text.columns:
            values = text[column].dropna()
            if column in INT_COLUMNS:
                assert values.str.fullmatch(r"\d+").all(), (extract, column)
            if column in DATE_COLUMNS:
                assert values.str.fullmatch(r"\d{4}-\d{2}-\d{2}").all(), (extract, column)
                pd.to_datetime(values, format="%Y-%m-%d")  # real calendar dates
    events = read_all(root, "events")
    assert events["crn"].str.fullmatch(r"[A-Z]\d{6}").all()
    assert events["event_id"].str.fullmatch(r"E\d{9}").all()
    returns = read_all(root, "measure_returns")
    assert (returns["numerator"].astype(int) <= returns["denominator"].astype(int)).all()
    assert (returns["period_month"] == returns["_month"]).all()


def test_required_fields_are_filled_without_defects(clean):
    root, _ = clean
    for extract, spec in REQUIRED.items():
        data = read_all(root, extract)
        for column in spec.split():
            assert data[column].notna().all(), (extract, column)


def test_fact_ids_unique_across_months_and_dates_inside_the_month(clean):
    root, _ = clean
    for extract, column in FACT_DATE.items():
        data = read_all(root, extract)
        assert len(data) > 0, extract
        assert data[KEYS[extract]].is_unique, extract
        dates = pd.to_datetime(data[column])
        for month in MONTHS:
            first, last = month_bounds(month)
            in_file = dates[data["_month"] == month]
            assert in_file.between(first, last).all(), (extract, month)


def test_snapshot_semantics(clean):
    root, _ = clean
    seen_start: dict[str, str] = {}
    seen_events: set[str] = set()
    previous = None
    for month in MONTHS:
        first, last = month_bounds(month)
        events = read(root, "events", month)
        assert events["event_id"].is_unique
        start = pd.to_datetime(events["start_date"])
        term = pd.to_datetime(events["termination_date"])
        assert (start <= last).all()
        assert (term.dropna() <= last).all()  # never a termination not yet known
        # A termination before the month is one recorded late (backdated): the event was open
        # in the previous file.
        backdated = events.loc[term < first, "event_id"]
        if previous is not None:
            open_before = previous.loc[previous["termination_date"].isna(), "event_id"]
            assert backdated.isin(open_before).all()
        assert (term.isna() == events["termination_reason"].isna()).all()
        assert (pd.to_datetime(events["expected_end_date"]) > start).all()
        custody = events["event_type"].isin(["LICENCE", "PSS"])
        assert events.loc[custody, "release_type"].notna().all()
        assert events.loc[~custody, "release_type"].isna().all()
        assert events.loc[custody, "custodial_sentence_months"].notna().all()
        assert events.loc[~custody, "custodial_sentence_months"].isna().all()
        late = start >= pd.Timestamp("2021-06-26")
        assert events.loc[late, "provider_code"].isna().all()
        assert events.loc[~late, "provider_code"].notna().all()
        for event_id, start_date in zip(events["event_id"], events["start_date"], strict=True):
            assert seen_start.setdefault(event_id, start_date) == start_date

        seen_events |= set(events["event_id"])
        previous = events

        requirements = read(root, "requirements", month)
        assert requirements["requirement_id"].is_unique
        # A requirement can outlive its event's last file while its termination is unrecorded
        # (here: events that left before the range began).
        unseen = requirements[~requirements["event_id"].isin(seen_events)]
        assert len(unseen) < 0.01 * len(requirements)
        ended = pd.to_datetime(unseen["termination_date"]).dropna()
        assert (ended < pd.Timestamp(f"{START}-01")).all()
        for column in ("start_date", "termination_date"):
            assert (pd.to_datetime(requirements[column]).dropna() <= last).all()
        merged = requirements.merge(events[["event_id", "start_date"]], on="event_id")
        assert (merged["sentence_date"] == merged["start_date_y"]).all()
        assert len(merged) > 0.97 * len(requirements)
        upw = requirements["requirement_type"] == "UPW"
        hours = requirements.loc[upw, "hours_ordered"].astype(int)
        assert hours.between(40, 300).all()
        assert requirements.loc[~upw, "hours_ordered"].isna().all()

        persons = read(root, "persons", month)
        assert persons["crn"].is_unique
        assert set(persons["crn"]) == set(events["crn"])


def test_requirements_and_sessions_fit_their_events(clean):
    root, _ = clean
    events = read_all(root, "events").drop_duplicates("event_id", keep="last")
    requirements = read_all(root, "requirements").drop_duplicates("requirement_id", keep="last")
    merged = requirements.merge(events, on="event_id", suffixes=("", "_event"))
    # Requirements of events in no file of the range: terminated before it, recorded inside it.
    orphans = requirements[~requirements["event_id"].isin(events["event_id"])]
    assert (pd.to_datetime(orphans["termination_date"]) < pd.Timestamp(START + "-01")).all()
    assert len(orphans) < 0.01 * len(requirements)
    assert (merged["event_type"].isin(["CO", "SSO", "SDO"])).all()
    per_order = merged[merged["event_type"].isin(["CO", "SSO"])].groupby("event_id").size()
    assert per_order.between(1, 3).all()
    start = pd.to_datetime(merged["start_date"])
    end = pd.to_datetime(merged["termination_date"])
    event_end = pd.to_datetime(merged["termination_date_event"])
    sentence = pd.to_datetime(merged["sentence_date"])
    assert (start.dropna() >= sentence[start.notna()]).all()
    assert (end.dropna() >= sentence[end.notna()]).all()
    both = start.notna() & end.notna()
    assert (end[both] >= start[both]).all()
    closed = event_end.notna()
    # An ended event has ended requirements, unless a requirement's termination is not recorded
    # yet (then it is still in the newest file).
    pending = closed & end.isna()
    assert (merged.loc[pending, "_month"] == MONTHS[-1]).all()
    assert pending.sum() < 0.05 * closed.sum()
    ended = closed & end.notna()
    assert (end[ended] <= event_end[ended]).all()

    sessions = read_all(root, "upw_sessions").merge(
        requirements[["requirement_id", "requirement_type", "sentence_date", "termination_date"]],
        on="requirement_id",
    )
    assert (sessions["requirement_type"] == "UPW").all()
    day = pd.to_datetime(sessions["session_date"])
    assert (day > pd.to_datetime(sessions["sentence_date"])).all()
    ended = pd.to_datetime(sessions["termination_date"])
    assert (day[ended.notna()] <= ended[ended.notna()]).all()
    stood_down = (sessions["status"] == "STOOD_DOWN").mean()
    assert 0.02 < stood_down < 0.2


def test_recording_of_characteristics_only_improves(clean):
    root, _ = clean
    march = read(root, "persons", "2021-03").set_index("crn")
    july = read(root, "persons", "2021-07").set_index("crn")
    both = march.index.intersection(july.index)
    assert len(both) > 100
    filled = 0
    for column in ("sex", "ethnicity", "disability", "religion", "sexual_orientation"):
        before, after = march.loc[both, column], july.loc[both, column]
        recorded_before = before.notna() & (before != "UNKNOWN")
        recorded_after = after.notna() & (after != "UNKNOWN")
        assert (after[recorded_before] == before[recorded_before]).all(), column
        filled += int((recorded_after & ~recorded_before).sum())
    assert filled > 0
    assert (march.loc[both, "age_band"] == july.loc[both, "age_band"]).all()


def test_events_carry_over_months(clean):
    root, _ = clean
    march, april = read(root, "events", "2021-03"), read(root, "events", "2021-04")
    still_open = march[march["termination_date"].isna()]["event_id"]
    assert set(still_open) <= set(april["event_id"])
    assert len(set(march["event_id"]) & set(april["event_id"])) > 0.8 * len(march)


def test_volumes_scale_with_national_figures(clean):
    root, summary = clean
    events = read(root, "events", "2021-05")
    contacts = read(root, "contacts", "2021-05")
    assert 0.7 * 240_000 * SCALE < len(events) < 1.3 * 240_000 * SCALE
    assert 0.7 * 600_000 * SCALE < len(contacts) < 1.3 * 600_000 * SCALE
    shares = events["region_code"].value_counts(normalize=True)
    assert shares.idxmax() == "N07"  # London is the largest region
    for extract in COLUMNS:
        total = sum(len(read(root, extract, m)) for m in MONTHS)
        assert summary["rows"][extract] == total


def test_initial_appointments_mostly_in_person_and_in_time(clean):
    root, _ = clean
    events = read(root, "events", "2021-07")
    contacts = read_all(root, "contacts")
    orders = events[events["event_type"].isin(["CO", "SSO"]) & (events["start_date"] >= "2021-07")]
    orders = orders.assign(start=pd.to_datetime(orders["start_date"]))
    holidays = np.array(["2021-08-30"], dtype="datetime64[D]")
    orders["limit"] = np.busday_offset(
        orders["start"].values.astype("datetime64[D]"), 5, roll="backward", holidays=holidays
    )
    in_person = contacts[contacts["mode"].isin(["OFFICE", "HOME_VISIT"])]
    merged = in_person.merge(orders, on="event_id")
    day = pd.to_datetime(merged["contact_date"])
    ok = merged[(day >= merged["start"]) & (day <= merged["limit"])]["event_id"].unique()
    rate = orders["event_id"].isin(ok).mean()
    assert len(orders) > 50
    assert 0.7 < rate < 0.98


def test_same_arguments_give_identical_bytes_and_months_do_not_depend_on_range(landing, tmp_path):
    root, _ = landing
    again = tmp_path / "again"
    generate_landing(again, "2021-04", "2021-05", scale=SCALE)
    for extract in COLUMNS:
        for month in ("2021-04", "2021-05"):
            name = f"{extract}/{extract}_{month}.csv"
            assert (again / name).read_bytes() == (root / name).read_bytes(), name
    inspections = "inspections/inspections.csv"
    assert (again / inspections).read_bytes() == (root / inspections).read_bytes()


def test_other_seed_gives_other_data(landing, tmp_path):
    root, _ = landing
    generate_landing(tmp_path, "2021-04", "2021-04", scale=SCALE, seed=7)
    name = "contacts/contacts_2021-04.csv"
    assert (tmp_path / name).read_bytes() != (root / name).read_bytes()


def test_builtin_unification_defects_are_present(landing, clean):
    root, summary = landing
    clean_root, clean_summary = clean
    assert clean_summary["defects"] == []
    assert {(d["kind"], d["extract"], d["month"]) for d in summary["defects"]} >= {
        ("duplicate_rows", "contacts", "2021-04"),
        ("drop_rows", "contacts", "2021-05"),
        ("drop_region", "accommodation_checks", "2021-05"),
        ("shift_dates", "contacts", "2021-06"),
    }
    assert all(d["rows_affected"] > 0 for d in summary["defects"])

    april = read(root, "contacts", "2021-04")
    duplicated = april[april.duplicated(keep=False)]
    assert len(duplicated) > 0
    assert set(duplicated["region_code"]) == {"N07"}
    assert not read(clean_root, "contacts", "2021-04")["contact_id"].duplicated().any()

    june = pd.to_datetime(read(root, "contacts", "2021-06")["contact_date"])
    july_share = (june >= "2021-07-01").mean()
    assert 0.01 < july_share < 0.06
    assert (june <= "2021-07-31").all()

    may_checks = read(root, "accommodation_checks", "2021-05")
    assert "N54" not in set(may_checks["region_code"])
    assert "N54" in set(read(clean_root, "accommodation_checks", "2021-05")["region_code"])
    assert "N54" in set(read(root, "accommodation_checks", "2021-04")["region_code"])

    def count(base, extract, month, region):
        return (read(base, extract, month)["region_code"] == region).sum()

    assert count(root, "contacts", "2021-05", "N56") < 0.65 * count(
        clean_root, "contacts", "2021-05", "N56"
    )
    assert count(root, "sentence_plans", "2021-05", "N55") < 0.4 * count(
        clean_root, "sentence_plans", "2021-05", "N55"
    )
    # Outside the defects the two runs are identical.
    for month in ("2021-03", "2021-07"):
        name = f"contacts/contacts_{month}.csv"
        assert (root / name).read_bytes() == (clean_root / name).read_bytes()


# --------------------------------------------------------------------------- deliveries
def test_redeliveries_have_the_same_rows_and_fill_in_late_fields(clean):
    root, summary = clean
    filled = dict.fromkeys(LATE_FIELDS, 0)
    for extract, field in LATE_FIELDS.items():
        key = KEYS[extract]
        for month in MONTHS:
            delivered = revisions(root, extract, month)
            assert delivered[0] == 1 and delivered == list(range(1, len(delivered) + 1))
            first = read(root, extract, month)
            later = first
            for revision in delivered[1:]:
                later = read(root, extract, month, revision)
                # Same rows, same order; only the late field differs, and only by filling in.
                assert list(later[key]) == list(first[key]), (extract, month, revision)
                others = [c for c in first.columns if c != field]
                pd.testing.assert_frame_equal(later[others], first[others])
                if field == "outcome":
                    known = first[field] != "NOT_RECORDED"
                else:
                    known = first[field].notna()
                assert (later.loc[known, field] == first.loc[known, field]).all()
            if field == "outcome":
                filled[extract] += int(
                    ((first[field] == "NOT_RECORDED") & (later[field] != "NOT_RECORDED")).sum()
                )
            else:
                filled[extract] += int((first[field].isna() & later[field].notna()).sum())
    assert filled == {e: summary["late"][e] for e in LATE_FIELDS}
    assert filled["contacts"] > 100
    assert filled["handovers"] > 0
    assert filled["recalls"] + filled["parole_reports"] > 0
    # A month's first delivery lacks some outcomes; its newest holds many fewer of them.
    march = read(root, "contacts", "2021-03")
    newest = read(root, "contacts", "2021-03", revisions(root, "contacts", "2021-03")[-1])
    share_first = (march["outcome"] == "NOT_RECORDED").mean()
    share_newest = (newest["outcome"] == "NOT_RECORDED").mean()
    assert 0.06 < share_first < 0.2
    assert share_newest < 0.05 and share_newest < share_first / 2


def test_a_delivery_shows_late_fields_only_when_recorded_before_extraction(clean):
    root, summary = clean
    for delivery in summary["deliveries"]:
        extract = delivery["extract"]
        if extract not in LATE_FIELDS or extract == "contacts":
            continue
        on = datetime.fromisoformat(delivery["extracted_at"]).astimezone(LONDON).date()
        data = _read(root / delivery["path"])
        shown = pd.to_datetime(data[LATE_FIELDS[extract]]).dropna()
        assert (shown.dt.date < on).all(), delivery["path"]


def test_terminations_recorded_late_show_backdated_in_a_later_file(clean):
    root, summary = clean
    for extract, key in (("events", "event_id"), ("requirements", "requirement_id")):
        backdated = 0
        for k, month in enumerate(MONTHS):
            first, _ = month_bounds(month)
            data = read(root, extract, month)
            ended_before = data.loc[pd.to_datetime(data["termination_date"]) < first, key]
            if extract == "events":  # an event ended before the month is here only if backdated
                backdated += len(ended_before)
            if k == 0:
                continue
            before = read(root, extract, MONTHS[k - 1]).set_index(key)
            was_open = before.loc[before.index.intersection(ended_before), "termination_date"]
            was_open = was_open[was_open.isna()].index
            if extract == "events":  # open in the previous file, although it had ended then
                assert set(ended_before) == set(was_open), month
            else:  # requirements also list the ended requirements of events still open
                backdated += len(was_open)
        assert 0 < backdated <= summary["late"][extract], extract
        if extract == "events":
            assert backdated == summary["late"][extract]
    # Roughly 10% of event terminations are recorded late.
    events = read_all(root, "events")
    ended = events.dropna(subset=["termination_date"])
    share = (ended["termination_date"] < ended["_month"] + "-01").mean()
    assert 0.04 < share < 0.2


def test_release_night_checks_on_the_release_date_or_the_day_after(clean):
    root, _ = clean
    checks = read_all(root, "accommodation_checks")
    night = checks[checks["checkpoint"] == "RELEASE_NIGHT"]
    events = read_all(root, "events").drop_duplicates("event_id")
    merged = night.merge(events[["event_id", "event_type", "start_date"]], on="event_id")
    assert len(merged) == len(night) > 100
    assert (merged["event_type"] == "LICENCE").all()
    days = (pd.to_datetime(merged["check_date"]) - pd.to_datetime(merged["start_date"])).dt.days
    assert set(days) == {0, 1}
    assert 0.04 < (days == 1).mean() < 0.2


def test_control_files_describe_each_delivery(clean):
    root, summary = clean
    extracted: dict[tuple[str, str, int], datetime] = {}
    for delivery in summary["deliveries"]:
        path = root / delivery["path"]
        ctl = path.with_name(path.name + ".ctl")
        text = ctl.read_text()
        content = json.loads(text)
        assert text == json.dumps(content, sort_keys=True) + "\n"
        assert list(content) == ["extracted_at", "row_count", "sha256"]
        assert content["row_count"] == len(_read(path)) == delivery["rows"]
        assert content["sha256"] == hashlib.sha256(path.read_bytes()).hexdigest()
        assert content["extracted_at"] == delivery["extracted_at"]
        at = datetime.fromisoformat(content["extracted_at"])
        local = at.astimezone(LONDON)
        assert at.utcoffset() == local.utcoffset()  # written with the London offset
        assert 1 <= local.day <= 4 and 2 <= local.hour <= 5 and local.second == 0
        month, revision = delivery["month"], delivery["revision"]
        months_after = {1: 1, 2: 2, 3: 4}[revision]
        target = pd.Period(month, "M") + months_after
        assert (local.year, local.month) == (target.year, target.month), delivery["path"]
        for file in (path, ctl):
            assert file.stat().st_mtime == at.timestamp()
        extracted[(delivery["extract"], month, revision)] = at
    for (extract, month, revision), at in extracted.items():
        if revision > 1:
            assert at > extracted[(extract, month, revision - 1)]
    # "As of": the newest first delivery of the last month; no re-delivery after it.
    as_of = datetime.fromisoformat(summary["as_of"])
    assert as_of == max(at for (_, m, r), at in extracted.items() if m == END and r == 1)
    assert max(extracted.values()) == as_of


def test_no_control_files_when_asked(clean, tmp_path):
    root, summary = clean
    again = generate_landing(
        tmp_path, START, END, scale=SCALE, unification_defects=False, control_files=False
    )
    assert again["control_files"] is False
    assert not list(tmp_path.rglob("*.ctl"))
    assert again["deliveries"] == summary["deliveries"]
    for delivery in again["deliveries"]:
        path = tmp_path / delivery["path"]
        assert path.read_bytes() == (root / delivery["path"]).read_bytes()
        assert path.stat().st_mtime == datetime.fromisoformat(delivery["extracted_at"]).timestamp()


def test_same_arguments_give_identical_deliveries(clean, tmp_path):
    root, _ = clean
    generate_landing(tmp_path, START, END, scale=SCALE, unification_defects=False)
    names = sorted(p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file())
    assert names == sorted(
        p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*") if p.is_file()
    )
    assert any(name.endswith("_r2.csv.ctl") for name in names)
    for name in names:
        assert (tmp_path / name).read_bytes() == (root / name).read_bytes(), name


# --------------------------------------------------------------------------- delivery faults
def test_vanished_records_leave_without_a_termination(faults, clean):
    root, summary = faults
    clean_root, _ = clean
    applied = {(d["kind"], d["extract"]): d for d in summary["defects"]}
    for spec in (s for s in FAULTS if s.kind == "vanished_record"):
        extract = spec.extract
        key = {"events": "event_id", "requirements": "requirement_id"}[extract]
        month = MONTHS.index(spec.month)
        before = read(clean_root, extract, MONTHS[month - 1])
        assert (root / extract / f"{extract}_{MONTHS[month - 1]}.csv").read_bytes() == (
            clean_root / extract / f"{extract}_{MONTHS[month - 1]}.csv"
        ).read_bytes()
        open_before = before.loc[before["termination_date"].isna()]
        if spec.region is not None:
            open_before = open_before[open_before["region_code"] == spec.region]
        now_clean = read(clean_root, extract, spec.month)
        now = read(root, extract, spec.month)
        vanished = set(now_clean[key]) - set(now[key])
        expected = max(1, round(spec.share * open_before[key].isin(now_clean[key]).sum()))
        assert len(vanished) == expected == applied[(spec.kind, extract)]["rows_affected"]
        assert vanished <= set(open_before[key])
        for later in MONTHS[month:]:
            data = read(root, extract, later)
            assert not vanished & set(data[key]), (extract, later)
            clean_later = read(clean_root, extract, later)
            kept = clean_later[~clean_later[key].isin(vanished)].reset_index(drop=True)
            pd.testing.assert_frame_equal(data, kept)


def test_truncated_transfer_disagrees_with_its_control_file(faults, clean):
    root, summary = faults
    clean_root, _ = clean
    for extract, month in (("contacts", "2021-04"), ("persons", "2021-06")):
        delivered = revisions(root, extract, month)
        assert delivered == revisions(clean_root, extract, month)
        for revision in delivered:
            suffix = "" if revision == 1 else f"_r{revision}"
            path = root / extract / f"{extract}_{month}{suffix}.csv"
            ctl = control(path)
            complete = clean_root / extract / path.name
            assert ctl == control(complete)  # the control file describes the complete file
            data = _read(path)
            if revision < delivered[-1]:
                assert path.read_bytes() == complete.read_bytes()
                continue
            # The newest delivery arrived cut: header and the first half of the rows.
            assert len(data) == ctl["row_count"] // 2 < ctl["row_count"]
            assert hashlib.sha256(path.read_bytes()).hexdigest() != ctl["sha256"]
            assert complete.read_bytes().startswith(path.read_bytes())
    truncated = [d for d in summary["defects"] if d["kind"] == "truncated_transfer"]
    assert len(truncated) == 2 and all(d["rows_affected"] > 0 for d in truncated)


def test_missing_month_has_no_file_at_all(faults, clean):
    root, summary = faults
    clean_root, _ = clean
    for extract, month in (("recalls", "2021-05"), ("sentence_plans", "2021-06")):
        assert list((clean_root / extract).glob(f"{extract}_{month}*"))
        assert not list((root / extract).glob(f"{extract}_{month}*")), extract
        listed = {(d["extract"], d["month"]) for d in summary["deliveries"]}
        assert (extract, month) not in listed
        for other in MONTHS:
            if other != month:
                assert (root / extract / f"{extract}_{other}.csv").exists()
    assert revisions(clean_root, "recalls", "2021-05") == [1, 2]


def _text(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.astype("string").fillna("").astype(object)


def _split(frame: pd.DataFrame, region: str | None):
    if region is None:
        return frame, frame.iloc[0:0]
    mine = frame["region_code"] == region
    return frame[mine].reset_index(drop=True), frame[~mine].reset_index(drop=True)


def test_each_injected_defect_changes_only_its_region_month(injected, clean):
    root, summary = injected
    clean_root, _ = clean
    targets = {(spec.extract, spec.month): spec for spec in INJECTED}
    for extract in COLUMNS:
        for month in MONTHS:
            assert revisions(root, extract, month) == revisions(clean_root, extract, month)
            for path in (clean_root / extract).glob(f"{extract}_{month}*"):
                name = f"{extract}/{path.name}"
                if (extract, month) not in targets:
                    assert (root / name).read_bytes() == path.read_bytes(), name
    assert (root / "inspections/inspections.csv").read_bytes() == (
        clean_root / "inspections/inspections.csv"
    ).read_bytes()
    applied = {(d["kind"], d["extract"], d["region"], d["month"]): d for d in summary["defects"]}
    assert len(applied) == len(INJECTED)
    assert all(d["source"] == "injected" for d in summary["defects"])

    for (extract, month), spec in targets.items():
        before_mine, before_rest = _split(read(clean_root, extract, month), spec.region)
        after_mine, after_rest = _split(read(root, extract, month), spec.region)
        pd.testing.assert_frame_equal(after_rest, before_rest)  # other regions untouched
        for revision in revisions(root, extract, month)[1:]:  # re-deliveries damaged alike
            again_mine, _ = _split(read(root, extract, month, revision), spec.region)
            assert list(again_mine.iloc[:, 0]) == list(after_mine.iloc[:, 0])
        n = len(before_mine)
        assert n > 0, (extract, month, spec.region)
        affected = applied[(spec.kind, extract, spec.region, month)]["rows_affected"]
        if spec.kind == "drop_rows":
            assert affected == round(spec.share * n)
            assert len(after_mine) == n - affected
            kept = after_mine.merge(before_mine, how="left", indicator=True)
            assert (kept["_merge"] == "both").all()
        elif spec.kind == "duplicate_rows":
            assert len(after_mine) == n + affected
            assert after_mine.duplicated().sum() == affected
            deduplicated = after_mine.drop_duplicates().reset_index(drop=True)
            pd.testing.assert_frame_equal(deduplicated, before_mine)
        elif spec.kind == "shift_dates":
            column = FACT_DATE[extract]
            first, last = month_bounds(month)
            dates = pd.to_datetime(after_mine[column])
            assert (~dates.between(first, last)).sum() == affected > 0
            others = [c for c in after_mine.columns if c != column]
            pd.testing.assert_frame_equal(after_mine[others], before_mine[others])
        elif spec.kind == "drop_region":
            assert len(after_mine) == 0 and affected == n
        elif spec.kind == "null_spike":
            assert after_mine["status"].isna().sum() == affected > 0
            assert before_mine["status"].notna().all()
            others = [c for c in after_mine.columns if c != "status"]
            pd.testing.assert_frame_equal(after_mine[others], before_mine[others])


def test_shift_dates_moves_snapshot_and_return_rows_out_of_the_month(clean, tmp_path):
    clean_root, _ = clean
    specs = [
        parse_defect("shift_dates:events:N07:2021-04:0.3"),
        parse_defect("shift_dates:measure_returns:*:2021-04:0.5"),
    ]
    generate_landing(
        tmp_path, "2021-04", "2021-04", scale=SCALE, unification_defects=False, inject=specs
    )
    events = read(tmp_path, "events", "2021-04")
    late = pd.to_datetime(events["start_date"]) > pd.Timestamp("2021-04-30")
    assert late.sum() > 0 and set(events.loc[late, "region_code"]) == {"N07"}
    assert len(events) == len(read(clean_root, "events", "2021-04"))
    returns = read(tmp_path, "measure_returns", "2021-04")
    assert set(returns["period_month"]) == {"2021-04", "2021-05"}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("drop_rows:contacts:N07:2022-03:0.4", ("drop_rows", "contacts", "N07", "2022-03", 0.4)),
        ("drop_rows:contacts:N07:2022-03", ("drop_rows", "contacts", "N07", "2022-03", 0.4)),
        ("drop_region:events:N54:2021-05", ("drop_region", "events", "N54", "2021-05", 1.0)),
        ("shift_dates:contacts:*:2021-06:0.03", ("shift_dates", "contacts", None, "2021-06", 0.03)),
        (" null_spike : upw_sessions : N03 : 2020-01 ", ("null_spike", "upw_sessions", "N03",
                                                        "2020-01", 0.3)),
        ("vanished_record:events:N07:2021-05", ("vanished_record", "events", "N07", "2021-05",
                                                0.01)),
        ("vanished_record:requirements:*:2021-05:0.2", ("vanished_record", "requirements", None,
                                                        "2021-05", 0.2)),
        ("truncated_transfer:contacts:*:2021-04", ("truncated_transfer", "contacts", None,
                                                   "2021-04", 1.0)),
        ("missing_month:recalls:*:2021-05:0.3", ("missing_month", "recalls", None, "2021-05",
                                                 1.0)),
    ],
)  # fmt: skip
def test_parse_defect(text, expected):
    spec = parse_defect(text)
    assert spec == DefectSpec(*expected)
    assert (spec.kind, spec.extract, spec.region, spec.month, spec.share) == expected
    assert parse_defect(spec.label) == spec


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("explode:contacts:N07:2022-03", "unknown defect kind"),
        ("drop_rows:letters:N07:2022-03", "unknown extract"),
        ("drop_rows:contacts:N99:2022-03", "unknown region"),
        ("drop_rows:contacts:N07:2022-13", "bad month"),
        ("drop_rows:contacts:N07:2022-3", "bad month"),
        ("drop_rows:contacts:N07:2022-03:1.5", "bad share"),
        ("drop_rows:contacts:N07:2022-03:0", "bad share"),
        ("drop_rows:contacts:N07:2022-03:lots", "not a number"),
        ("drop_rows:contacts:N07", "expected kind:extract:region:YYYY-MM"),
        ("drop_rows:contacts:N07:2022-03:0.1:x", "expected kind:extract:region:YYYY-MM"),
        ("drop_region:contacts:*:2022-03", "needs a region"),
        ("shift_dates:persons:N07:2022-03", "does not apply to persons"),
        ("vanished_record:contacts:N07:2022-03", "does not apply to contacts"),
        ("vanished_record:persons:*:2022-03", "does not apply to persons"),
        ("truncated_transfer:contacts:N07:2022-03", "needs region '*'"),
        ("missing_month:events:N07:2022-03", "needs region '*'"),
    ],
)
def test_parse_defect_rejects_bad_specs(text, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        parse_defect(text)


def test_generate_landing_rejects_bad_arguments(tmp_path):
    with pytest.raises(ValueError, match="bad month"):
        generate_landing(tmp_path, "2021-4", "2021-05")
    with pytest.raises(ValueError, match="before start"):
        generate_landing(tmp_path, "2021-05", "2021-04")
    with pytest.raises(ValueError, match="unknown format"):
        generate_landing(tmp_path, "2021-05", "2021-05", fmt="xlsx")
    with pytest.raises(ValueError, match="outside the range"):
        generate_landing(
            tmp_path, "2021-05", "2021-05", inject=[parse_defect("drop_rows:events:N07:2021-06")]
        )
    with pytest.raises(ValueError, match="needs control files"):
        generate_landing(
            tmp_path,
            "2021-05",
            "2021-05",
            inject=[parse_defect("truncated_transfer:events:*:2021-05")],
            control_files=False,
        )
    assert not any(tmp_path.iterdir())  # nothing written when the arguments are wrong


def test_header_only_files_when_there_are_no_records(tmp_path):
    summary = generate_landing(tmp_path, "2022-12", "2023-01", scale=0.0)
    for extract, columns in COLUMNS.items():
        for month in ("2022-12", "2023-01"):
            text = (tmp_path / extract / f"{extract}_{month}.csv").read_text()
            assert text == ",".join(columns) + "\n", (extract, month)
    assert all(summary["rows"][e] == 0 for e in COLUMNS)
    assert summary["rows"]["inspections"] > 0


def test_measure_returns_codes_start_when_valid(landing, tmp_path):
    root, _ = landing
    early = set(read_all(root, "measure_returns")["measure_code"])
    assert early == {"EM_SL01", "EM_SL02", "EM_SL03"}  # nothing else before 2021-10
    generate_landing(tmp_path, "2022-12", "2023-01", scale=0.002, unification_defects=False)
    december = read(tmp_path, "measure_returns", "2022-12")
    january = read(tmp_path, "measure_returns", "2023-01")
    assert "CRS_QM1" not in set(december["measure_code"])
    assert {"SL001", "QM104", "CRS_SL001", "SL031"} <= set(december["measure_code"])
    assert {"CRS_QM1", "CRS_QM2"} <= set(january["measure_code"])
    assert len(january) == 13 * 12  # one row per measure and region
    assert not january.duplicated(["measure_code", "region_code"]).any()
    share = january["numerator"].astype(int) / january["denominator"].astype(int)
    assert share.between(0.6, 0.98).all()


def test_parquet_has_the_same_rows_and_typed_columns(tmp_path):
    csv_root, parquet_root = tmp_path / "csv", tmp_path / "parquet"
    generate_landing(csv_root, "2021-05", "2021-05", scale=0.005)
    generate_landing(parquet_root, "2021-05", "2021-05", scale=0.005, fmt="parquet")
    for extract, columns in COLUMNS.items():
        table = pq.read_table(parquet_root / extract / f"{extract}_2021-05.parquet")
        assert table.column_names == columns
        for field in table.schema:
            if field.name in DATE_COLUMNS:
                assert str(field.type) == "date32[day]", (extract, field.name)
            elif field.name in INT_COLUMNS:
                assert str(field.type) == "int64", (extract, field.name)
            else:
                assert str(field.type) == "string", (extract, field.name)
        from_parquet = table.to_pandas()
        for column in DATE_COLUMNS & set(columns):
            from_parquet[column] = pd.to_datetime(from_parquet[column]).dt.strftime("%Y-%m-%d")
        for column in INT_COLUMNS & set(columns):
            from_parquet[column] = from_parquet[column].astype("Int64")
        pd.testing.assert_frame_equal(
            _text(from_parquet), _text(read(csv_root, extract, "2021-05"))
        )
        path = parquet_root / extract / f"{extract}_2021-05.parquet"
        assert control(path)["row_count"] == table.num_rows
        assert control(path)["sha256"] == hashlib.sha256(path.read_bytes()).hexdigest()
    assert (parquet_root / "inspections" / "inspections.parquet").exists()


def test_command_line_options(tmp_path, capsys):
    from orchestration.cli import main

    common = ["demo-data", "--start", "2021-05", "--end", "2021-05", "--scale", "0.002"]
    out = tmp_path / "landing"
    faults = ["--inject", "missing_month:recalls:*:2021-05", "--no-control-files"]
    assert main([*common, "--out", str(out), *faults]) == 0
    printed = capsys.readouterr().out
    assert "re-deliveries" in printed and "backdated terminations" in printed
    assert "'kind': 'missing_month'" in printed
    assert not list(out.rglob("*.ctl"))
    assert not list((out / "recalls").glob("*"))
    truncated = ["--inject", "truncated_transfer:events:*:2021-05", "--no-control-files"]
    assert main([*common, "--out", str(tmp_path / "other"), *truncated]) == 2
    assert "needs control files" in capsys.readouterr().err
    assert not (tmp_path / "other").exists()

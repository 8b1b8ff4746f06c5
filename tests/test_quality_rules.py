"""Quality profiles and rules: a hand-written file profiled at ingest, each rule on small
constructed profiles (a case it flags and a case it must not), thresholds and reviews."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest

from orchestration.demo import generate_landing, parse_defect
from orchestration.ingest.extract_month import load_partition, profile_path
from orchestration.ingest.profiling import PROFILE_COLUMNS
from orchestration.settings import Settings
from orchestration.warehouse.quality import (
    apply_reviews,
    months_checks,
    partition_checks,
    read_reviews,
)
from schemas import quality as rules
from schemas.contracts import REGION_CODES

HEADER = "contact_id,crn,event_id,region_code,contact_date,mode,outcome\n"


# --------------------------------------------------------------------------- profile at ingest
def test_profile_of_a_hand_written_file(landing_copy, tmp_path):
    (landing_copy / "contacts" / "contacts_2021-03.csv").write_text(
        HEADER + "C1,X1,E1,N07,2021-03-02,OFFICE,ATTENDED\n"
        "C1,X1,E1,N07,2021-03-02,OFFICE,ATTENDED\n"  # duplicate key
        "C2,X1,E1,N07,2021-04-02,OFFICE,ATTENDED\n"  # outside the month
        "C3,X1,E1,N07,2021-03-05,,ATTENDED\n"  # empty required field (mode)
        "C4,X1,E1,N07,2021-03-31,TELEPHONE,NOT_RECORDED\n"
        "C5,X2,E2,N03,2021-03-10,HOME_VISIT,ATTENDED\n"
        "C6,X2,E2,N03,2021-03-11,VIDEO,ATTENDED\n"
        "C7,X2,E2,N03,2021-03-12,OFFICE,\n"  # empty required field (outcome)
    )
    settings = Settings.from_env(landing_copy, tmp_path / "data")
    load_partition(settings, "contacts", "2021-03")
    profile = pq.read_table(profile_path(settings, "contacts", "2021-03")).to_pandas()

    assert list(profile.columns) == list(PROFILE_COLUMNS)
    assert list(profile["region_code"]) == list(REGION_CODES)  # every region, even without rows
    by_region = profile.set_index("region_code")
    n07, n03 = by_region.loc["N07"], by_region.loc["N03"]
    assert (n07.rows_delivered, n07.rows_loaded, n07.distinct_keys) == (5, 2, 4)
    assert (n07.duplicate_key_rows, n07.outside_partition_rows, n07.null_required_rows) == (1, 1, 1)
    assert json.loads(n07.null_counts)["mode"] == 1
    assert n07.in_person_share == pytest.approx(0.5)  # C1 OFFICE, C4 TELEPHONE
    assert (n03.rows_delivered, n03.rows_loaded, n03.null_required_rows) == (3, 2, 1)
    assert json.loads(n03.null_counts) == {
        "contact_date": 0, "contact_id": 0, "crn": 0, "event_id": 0, "mode": 0, "outcome": 1,
        "region_code": 0,
    }  # fmt: skip
    assert n03.in_person_share == pytest.approx(0.5)  # HOME_VISIT and VIDEO
    others = profile[~profile["region_code"].isin(["N07", "N03"])]
    assert len(others) == 10 and (others["rows_delivered"] == 0).all()
    assert others["in_person_share"].isna().all() and profile["measure_values"].isna().all()


def test_profile_of_snapshot_and_national_extracts(landing_copy, tmp_path):
    events = landing_copy / "events" / "events_2021-03.csv"
    lines = events.read_text().splitlines()
    lines.append("E99,X9,N03,,C17,CO,2021-04-15,,THEFT,,2022-12-31,,")  # starts after March
    events.write_text("\n".join(lines) + "\n")
    settings = Settings.from_env(landing_copy, tmp_path / "data")
    load_partition(settings, "events", "2021-03")
    load_partition(settings, "persons", "2021-03")
    ev = pq.read_table(profile_path(settings, "events", "2021-03")).to_pandas()
    assert ev.set_index("region_code").loc["N03", "outside_partition_rows"] == 1
    assert ev["outside_partition_rows"].sum() == 1
    persons = pq.read_table(profile_path(settings, "persons", "2021-03")).to_pandas()
    assert list(persons["region_code"]) == ["K04000001"]  # no region column: one national row
    assert persons["rows_delivered"].iloc[0] == 10


# --------------------------------------------------------------------------- rules
T = rules.load_thresholds()


def profiles(values: list[int], extract="contacts", region="N07", **columns) -> pd.DataFrame:
    """A run of monthly profiles for one extract and region (from 2023-01), rows_loaded as
    given, other columns defaulting to a clean file; plus steady, clean profiles of the other
    regions (1,000 rows a month), as a real extract has."""
    frame = one_region(values, extract, region, **columns)
    others = [one_region([1000] * len(values), extract, r) for r in REGION_CODES if r != region]
    return pd.concat([frame, *others], ignore_index=True)


def one_region(values: list[int], extract: str, region: str, **columns) -> pd.DataFrame:
    n = len(values)
    months = pd.period_range("2023-01", periods=n, freq="M").strftime("%Y-%m")
    frame = pd.DataFrame(
        {
            "extract": extract,
            "month": months,
            "region_code": region,
            "rows_delivered": values,
            "rows_loaded": values,
            "distinct_keys": values,
            "duplicate_key_rows": 0,
            "null_required_rows": 0,
            "outside_partition_rows": 0,
            "null_counts": "{}",
            "in_person_share": np.nan,
            "measure_values": None,
        }
    )
    for name, value in columns.items():
        frame[name] = value
    return frame


def flags_for(frame: pd.DataFrame, thresholds=T) -> pd.DataFrame:
    return rules.extract_flags(rules.enrich_profiles(frame, thresholds), thresholds)


def flagged(frame: pd.DataFrame, thresholds=T) -> set[tuple[str, str]]:
    found = flags_for(frame, thresholds)
    return set(zip(found["rule"], found["month"].dt.strftime("%Y-%m"), strict=True))


def test_row_count_flags_a_large_drop_and_a_large_rise():
    assert flagged(profiles([1000, 1010, 990, 1005, 995, 600])) == {("row_count", "2023-06")}
    assert flagged(profiles([1000, 1010, 990, 1005, 995, 1400])) == {("row_count", "2023-06")}
    detail = flags_for(profiles([1000, 1010, 990, 1005, 995, 600]))["detail"].iloc[0]
    assert "600 rows loaded against a trailing median of 1,000" in detail and "-40%" in detail


def test_row_count_ignores_seasonal_swings_noise_and_short_history():
    assert flagged(profiles([1000, 1010, 990, 1005, 995, 860])) == set()  # -14% (December)
    assert flagged(profiles([12, 9, 11, 10, 12, 5])) == set()  # -50% but within noise at 10
    assert flagged(profiles([1000, 1000, 400])) == set()  # two months of history only
    assert flagged(profiles([1000, 1000, 1000, 400])) == set()  # noise not yet estimated


def test_row_count_allows_for_counts_that_vary_more_than_poisson():
    # Clustered counts (negative binomial, mean 100, variance 900: nine times Poisson) in
    # every region for 14 months, then a 45% drop in one region.
    rng = np.random.default_rng(1)
    size = 12.5
    parts = []
    for region in REGION_CODES:
        values = rng.negative_binomial(size, size / (size + 100), 14).tolist()
        values += [55] if region == "N07" else rng.negative_binomial(size, size / 112.5, 1).tolist()
        parts.append(one_region(values, "upw_sessions", region))
    assert flagged(pd.concat(parts, ignore_index=True)) == set()  # within such noise
    steady = [one_region([100] * 14 + [55 if r == "N07" else 100], "upw_sessions", r)
              for r in REGION_CODES]  # fmt: skip
    assert flagged(pd.concat(steady, ignore_index=True)) == {("row_count", "2024-03")}


def test_region_missing():
    found = flagged(profiles([30, 28, 31, 29, 30, 0]))
    assert found == {("region_missing", "2023-06")}  # not row_count as well
    assert flagged(profiles([4, 6, 5, 5, 4, 0])) == set()  # an empty month is plausible at 5


@pytest.mark.parametrize(
    ("rule", "column", "bad", "fine"),
    [
        ("duplicate_keys", "duplicate_key_rows", 10, 4),  # 1.0% vs 0.4% (threshold 0.5%)
        ("null_required", "null_required_rows", 10, 4),
        ("outside_partition", "outside_partition_rows", 20, 9),  # 2.0% vs 0.9% (threshold 1%)
    ],
)
def test_share_rules(rule, column, bad, fine):
    frame = profiles([1000] * 4)
    frame.loc[3, column] = bad
    frame.loc[1, column] = fine
    assert flagged(frame) == {(rule, "2023-04")}
    tiny = profiles([5] * 2)
    tiny.loc[1, column] = 1  # one row of five: flagged whatever the history
    assert flagged(tiny) == {(rule, "2023-02")}


def test_in_person_share_flags_the_onset_of_a_shift_once():
    shares = [0.8, 0.81, 0.79, 0.8, 0.8, 0.3, 0.3, 0.31, 0.8]
    frame = profiles([1000] * len(shares), in_person_share=shares)
    assert flagged(frame) == {("in_person_share", "2023-06"), ("in_person_share", "2023-09")}
    drift = profiles([1000] * 6, in_person_share=[0.8, 0.8, 0.8, 0.8, 0.8, 0.74])
    assert flagged(drift) == set()
    small = profiles([40] * 6, in_person_share=[0.8, 0.8, 0.8, 0.8, 0.8, 0.3])
    assert flagged(small) == set()  # below min_rows contacts
    other = profiles([1000] * 6, extract="events", in_person_share=[0.8] * 5 + [0.3])
    assert flagged(other) == set()  # contacts only


def measures(performance: list[float], denominator=200, **columns) -> pd.DataFrame:
    n = len(performance)
    frame = pd.DataFrame(
        {
            "measure_code": "SL004",
            "geography_code": "N07",
            "month": pd.date_range("2023-01-01", periods=n, freq="MS"),
            "numerator": [round(p * denominator) for p in performance],
            "denominator": denominator,
            "provisional": False,
        }
    )
    for name, value in columns.items():
        frame[name] = value
    return frame


def measure_flagged(frame: pd.DataFrame) -> set[str]:
    found = rules.measure_flags(rules.enrich_measures(frame, T), T)
    return set(found["flag_id"])


def test_measure_jump():
    assert measure_flagged(measures([0.9, 0.91, 0.89, 0.9, 0.6])) == {
        "measure_jump:SL004:N07:2023-05"
    }
    assert measure_flagged(measures([0.9, 0.91, 0.89, 0.9, 0.84])) == set()  # 6 points
    assert measure_flagged(measures([0.9, 0.91, 0.89, 0.9, 0.6], denominator=15)) == set()
    provisional = measures([0.9, 0.91, 0.89, 0.9, 0.6], provisional=[False] * 4 + [True])
    assert measure_flagged(provisional) == set()  # its cases can still be completed
    near_one = measures([1.0, 1.0, 1.0, 1.0, 0.85], denominator=20)
    assert measure_flagged(near_one) == set()  # 3 of 20 missed: noise, not a jump
    all_met = measures([0.86] * 4 + [0.79, 1.0], denominator=42)
    assert measure_flagged(all_met) == set()  # 42 of 42 against 86%: 1 in 350, not 4 sigma


def test_failure_cases_carry_the_figures():
    frame = profiles([1000] * 4)
    frame.loc[3, "duplicate_key_rows"] = 40
    flag = flags_for(frame).iloc[0]
    assert flag["flag_id"] == "duplicate_keys:contacts:N07:2023-04"
    assert (flag["subject_type"], flag["subject"], flag["geography_code"]) == (
        "EXTRACT", "contacts", "N07",
    )  # fmt: skip
    assert "40 of 1,000 rows delivered (4.0%)" in flag["detail"]


@pytest.mark.filterwarnings("ignore:invalid value encountered:RuntimeWarning")
def test_a_malformed_profile_is_an_error_not_a_flag():
    frame = profiles([10, 10, 10, 10])
    frame.loc[2, "rows_loaded"] = -1
    with pytest.raises(ValueError, match="rows_loaded"):
        flags_for(frame)


def test_partition_checks_use_earlier_profiles_on_disk(landing_copy, tmp_path):
    settings = Settings.from_env(landing_copy, tmp_path / "data")
    folder = settings.raw_dir / "profiles"
    folder.mkdir(parents=True)
    history = profiles([1000, 1000, 1000, 1000, 500])
    for month, rows in history.groupby("month"):
        rows.to_parquet(folder / f"contacts_{month}.parquet", index=False)
    outcomes = {o.rule: o for o in partition_checks(settings, "contacts", "2023-05")}
    assert set(outcomes) == set(rules.EXTRACT_RULES) - {rules.VANISHED_RECORDS}  # snapshots only
    assert not outcomes["row_count"].passed and outcomes["row_count"].regions == ["N07"]
    assert "500 rows loaded" in outcomes["row_count"].description
    assert outcomes["duplicate_keys"].passed
    early = {o.rule: o for o in partition_checks(settings, "contacts", "2023-02")}
    assert early["row_count"].passed and "Not enough history" in early["row_count"].description


# --------------------------------------------------------------------------- thresholds
def test_thresholds_can_be_overridden_key_by_key(tmp_path, monkeypatch):
    override = tmp_path / "thresholds.toml"
    override.write_text("[row_count]\nmax_relative_change = 0.5\n")
    monkeypatch.setenv(rules.THRESHOLDS_ENV, str(override))
    loose = rules.load_thresholds()
    assert loose["row_count"]["max_relative_change"] == 0.5 and loose["row_count"]["z"] == 4.0
    assert flagged(profiles([1000, 1010, 990, 1005, 995, 600]), loose) == set()


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[row_count]\nzz = 1\n", "unknown key 'zz'"),
        ("[nope]\nz = 1\n", r"unknown section \[nope\]"),
        ("[row_count]\nz = 'high'\n", "is not a number"),
        ("[row_count\n", "not valid TOML"),
    ],
)
def test_bad_thresholds_file_is_named(tmp_path, text, message):
    override = tmp_path / "bad.toml"
    override.write_text(text)
    with pytest.raises(rules.ThresholdsError, match=message) as caught:
        rules.load_thresholds(override)
    assert str(caught.value).startswith(str(override))


# --------------------------------------------------------------------------- reviews
REVIEW_HEADER = "flag_id,decision,reason,reviewer,reviewed_on\n"


def test_reviews_file_is_read_and_applied(tmp_path):
    path = tmp_path / "reviews.csv"
    path.write_text(
        REVIEW_HEADER + "row_count:contacts:N07:2023-06,publish,Checked with the region,A Stat,"
        "2023-07-10\nduplicate_keys:contacts:N03:2023-06,suppress,Double delivery,A Stat,"
        "2023-07-11\n"
    )
    reviews = read_reviews(path)
    frame = pd.concat(
        [
            profiles([1000, 1010, 990, 1005, 995, 600]),
            profiles([1000] * 6, region="N03", duplicate_key_rows=[0] * 5 + [50]),
            profiles([1000] * 6, region="N50", null_required_rows=[0] * 5 + [50]),
        ]
    )
    reviewed = apply_reviews(flags_for(frame), reviews).set_index("flag_id")
    assert reviewed.loc["row_count:contacts:N07:2023-06", "status"] == "OK"
    assert (
        "published by A Stat on 2023-07-10: Checked with the region"
        in (reviewed.loc["row_count:contacts:N07:2023-06", "reason"])
    )
    assert reviewed.loc["duplicate_keys:contacts:N03:2023-06", "status"] == "SUPPRESS"
    assert reviewed.loc["null_required:contacts:N50:2023-06", "status"] == "WARN"
    assert "not yet reviewed" in reviewed.loc["null_required:contacts:N50:2023-06", "reason"]
    assert read_reviews(tmp_path / "missing.csv").empty  # no file: no reviews


@pytest.mark.parametrize(
    ("body", "line", "expected"),
    [
        ("row_count:contacts:N07:2023-06,publish,ok,A,2023-07-10\n"
         "row_count:contacts:N03:2023-06,maybe,ok,A,2023-07-10\n", 3,
         "column decision is 'maybe', expected publish or suppress"),
        ("row_count:contacts:N07:2023-06,publish,,A,2023-07-10\n", 2,
         "column reason is empty, expected filled in"),
        ("row_count:contacts:N07:2023-06,publish,ok,A,10/07/2023\n", 2,
         "expected an ISO date YYYY-MM-DD"),
        ("row_count:contacts:N07:2023-06,publish,ok,A,2023-02-30\n", 2,
         "expected a real calendar date"),
        ("N07 contacts,publish,ok,A,2023-07-10\n", 2, "expected a flag id"),
        ("row_count:contacts:N07:2023-06,publish,ok,A,2023-07-10\n"
         "row_count:contacts:N07:2023-06,suppress,no,B,2023-07-11\n", 3,
         "expected reviewed only once"),
    ],
)  # fmt: skip
def test_bad_reviews_file_names_file_line_and_rule(tmp_path, body, line, expected):
    path = tmp_path / "reviews.csv"
    path.write_text(REVIEW_HEADER + body)
    with pytest.raises(rules.ReviewFileError) as caught:
        read_reviews(path)
    message = str(caught.value)
    assert message.startswith(f"{path}: line {line}: ") and expected in message


def test_reviews_file_with_a_missing_column(tmp_path):
    path = tmp_path / "reviews.csv"
    path.write_text("flag_id,decision,reason\nx,publish,ok\n")
    with pytest.raises(rules.ReviewFileError, match="line 1: missing column reviewer"):
        read_reviews(path)


@pytest.mark.pipeline
def test_judging_many_months_at_once_gives_each_the_verdict_it_got_alone(tmp_path):
    """The ingest step judges all the months it loaded in one pass per extract; the plain path
    judges each month as it is loaded. On demo months with the unification defects and
    injected damage, both give every extract-month exactly the same outcomes."""
    landing = tmp_path / "landing"
    damage = ["drop_rows:contacts:N07:2021-10:0.4", "drop_region:events:N53:2021-09"]
    generate_landing(landing, start="2021-02", end="2021-10", scale=0.01,
                     inject=[parse_defect(spec) for spec in damage])  # fmt: skip
    settings = Settings.from_env(landing, tmp_path / "data")
    extracts = ["events", "contacts", "persons", "measure_returns"]
    months = [f"2021-{m:02d}" for m in range(2, 11)]
    alone = {}
    for month in months:
        for extract in extracts:
            load_partition(settings, extract, month)
            alone[extract, month] = partition_checks(settings, extract, month)
    together = {
        (extract, month): outcomes
        for extract in extracts
        for month, outcomes in months_checks(settings, extract, months).items()
    }
    assert together == alone
    flagged = {(e, m, o.rule) for (e, m), found in alone.items() for o in found if not o.passed}
    assert ("contacts", "2021-10", "row_count") in flagged
    assert ("events", "2021-09", "region_missing") in flagged
    assert any(m in ("2021-04", "2021-05", "2021-06") for _, m, _ in flagged)  # unification

"""Real delivery patterns through the real pipeline (docs/methodology.md#landing-contract,
docs/methodology.md#measures, docs/methodology.md#operations): a month not delivered,
fields completed by a re-delivery, a release-night check dated the day after release, a
termination recorded late, a vanished event and a truncated transfer.

A small hand-written landing zone (London N07 and Wales N03, January to March 2024) is run
three times, as deliveries arrive:
1. January and February, with February's contacts and accommodation checks not delivered yet,
   recalls and handovers of January as first delivered (Part B and the meeting not recorded
   yet), and an event (E6) missing from February's events file;
2. the missing files, January's re-deliveries, February's events re-delivered with E6, and
   March, whose sentence plans arrive truncated (their control file disagrees);
3. the sentence plans re-delivered whole.
Every expected figure below is worked out by hand in the comments.
"""

from __future__ import annotations

import csv
import json
import os
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import duckdb
import pytest

from orchestration.ingest.landing import LandingFile, latest_delivery
from orchestration.running.runner import run_pipeline
from orchestration.settings import Settings
from schemas.contracts import EXTRACTS, MONTHLY_EXTRACTS

pytestmark = [pytest.mark.pipeline, pytest.mark.xdist_group("deliveries")]  # one module run

LONDON = ZoneInfo("Europe/London")
CO = dict(event_type="CO", main_offence_category="THEFT", expected_end_date="2025-06-30")

EVENTS = {
    # E5 (X5, London) is open in January's and February's files; March's file records its
    # termination, backdated to 20 January (docs/methodology.md#landing-contract: a state changed
    # during March).
    "E5": dict(crn="X5", region_code="N07", start_date="2023-06-01", **CO),
    # E6 (X6, Wales) is open in January's file and missing from February's: it has vanished,
    # until February's events are re-delivered with it.
    "E6": dict(crn="X6", region_code="N03", start_date="2023-06-01", **CO),
    "E7": dict(crn="X7", region_code="N07", start_date="2023-06-01", **CO),
    # E1: a community order from Monday 12 February (SL004 window: 5 business days, to the 19th)
    "E1": dict(crn="X1", region_code="N07", start_date="2024-02-12", **CO),
    # L1: released on Wednesday 31 January (SL005: 1 business day, to 1 February; SL014: the
    # release-night check may be dated on the release date or the day after, 1 February)
    "L1": dict(
        crn="XL1",
        region_code="N07",
        event_type="LICENCE",
        start_date="2024-01-31",
        release_type="STANDARD",
        main_offence_category="ROBBERY",
        custodial_sentence_months="24",
        expected_end_date="2025-01-30",
    ),
}
TERMINATED_E5 = dict(termination_date="2024-01-20", termination_reason="COMPLETED")


def events(*ids: str, **changes: dict) -> list[dict]:
    return [{"event_id": i, **EVENTS[i], **changes.get(i, {})} for i in ids]


def extraction(month: str, revision: int = 1) -> datetime:
    """First delivery: 02:00 on the 3rd of the next month; a re-delivery a month later per
    revision."""
    year, number = map(int, month.split("-"))
    number += revision
    year, number = year + (number - 1) // 12, (number - 1) % 12 + 1
    return datetime(year, number, 3, 2, 0, tzinfo=LONDON)


def deliver(landing: Path, extract: str, month: str, rows=(), revision=1, control=True, cut=0):
    """Write a delivery (header row always) and its control file; `cut` data rows are lost in
    transfer after the control file was written."""
    name = f"{extract}_{month}{'' if revision == 1 else f'_r{revision}'}.csv"
    path = landing / extract / name
    path.parent.mkdir(parents=True, exist_ok=True)
    columns = EXTRACTS[extract].column_names

    def write(lines):
        with path.open("w", newline="", encoding="utf-8") as handle:
            writer = csv.DictWriter(handle, columns, lineterminator="\n")
            writer.writeheader()
            writer.writerows([{c: row.get(c, "") for c in columns} for row in lines])

    rows = list(rows)
    write(rows)
    when = extraction(month, revision)
    if control:
        digest = LandingFile(path, extract, month, revision).sha256()
        body = {"extracted_at": when.isoformat(), "row_count": len(rows), "sha256": digest}
        path.with_name(name + ".ctl").write_text(json.dumps(body, sort_keys=True) + "\n")
    if cut:
        write(rows[:-cut])
    os.utime(path, (when.timestamp(), when.timestamp()))
    return path


def first_deliveries(landing: Path) -> None:
    """Stage 1: January and February as first delivered."""
    for month in ("2024-01", "2024-02"):
        for extract in MONTHLY_EXTRACTS:
            if (extract, month) in {("contacts", "2024-02"), ("accommodation_checks", "2024-02")}:
                continue  # not delivered yet: a gap, not a failure
            rows = {
                ("events", "2024-01"): events("E5", "E6", "E7", "L1"),
                ("events", "2024-02"): events("E1", "E5", "E7", "L1"),  # E6 vanished
                ("contacts", "2024-01"): [
                    dict(
                        contact_id="C1",
                        crn="X7",
                        event_id="E7",
                        region_code="N07",
                        contact_date="2024-01-10",
                        mode="OFFICE",
                        outcome="ATTENDED",
                    ),
                ],  # fmt: skip
                # Part B due 10 business days after return (8 February), not supplied by the
                # extraction on 3 February
                ("recalls", "2024-01"): [
                    dict(
                        recall_id="RC1",
                        crn="XR1",
                        region_code="N07",
                        return_to_custody_date="2024-01-25",
                        part_b_due_date="2024-02-08",
                    ),
                ],  # fmt: skip
                # allocated 22 January (window to 19 February); the meeting is not recorded yet
                ("handovers", "2024-01"): [
                    dict(
                        handover_id="H1",
                        crn="XH1",
                        region_code="N07",
                        com_allocated_date="2024-01-22",
                        months_to_serve="12",
                    ),
                ],  # fmt: skip
            }.get((extract, month), [])
            # measure_returns of January comes without a control file: its modification time
            # stands in for the extraction time, recorded as an assumption
            control = (extract, month) != ("measure_returns", "2024-01")
            deliver(landing, extract, month, rows, control=control)


def later_deliveries(landing: Path) -> None:
    """Stage 2: the gaps filled, January's re-deliveries, February's events re-delivered with
    E6, and March (its sentence plans truncated in transfer)."""
    deliver(landing, "contacts", "2024-02", [
        dict(contact_id="C2", crn="XL1", event_id="L1", region_code="N07",
             contact_date="2024-02-01", mode="HOME_VISIT", outcome="ATTENDED"),
        dict(contact_id="C3", crn="X7", event_id="E7", region_code="N07",
             contact_date="2024-02-08", mode="OFFICE", outcome="ATTENDED"),
        dict(contact_id="C4", crn="X1", event_id="E1", region_code="N07",
             contact_date="2024-02-14", mode="OFFICE", outcome="ATTENDED"),
    ])  # fmt: skip
    deliver(landing, "accommodation_checks", "2024-02", [
        dict(check_id="A1", event_id="L1", crn="XL1", region_code="N07",
             checkpoint="RELEASE_NIGHT", check_date="2024-02-01", status="SETTLED"),
    ])  # fmt: skip
    deliver(landing, "recalls", "2024-01", [
        dict(recall_id="RC1", crn="XR1", region_code="N07", return_to_custody_date="2024-01-25",
             part_b_due_date="2024-02-08", part_b_supplied_date="2024-02-06"),
    ], revision=2)  # fmt: skip
    deliver(landing, "handovers", "2024-01", [
        dict(handover_id="H1", crn="XH1", region_code="N07", com_allocated_date="2024-01-22",
             months_to_serve="12", meeting_date="2024-02-05"),
    ], revision=2)  # fmt: skip
    deliver(landing, "events", "2024-02", events("E1", "E5", "E6", "E7", "L1"), revision=2)
    for extract in MONTHLY_EXTRACTS:
        rows = {
            "events": events("E1", "E5", "E6", "E7", "L1", E5=TERMINATED_E5),
            "sentence_plans": [
                dict(
                    plan_id="P1",
                    event_id="E1",
                    crn="X1",
                    region_code="N07",
                    completed_date="2024-03-01",
                ),
                dict(
                    plan_id="P2",
                    event_id="E7",
                    crn="X7",
                    region_code="N07",
                    completed_date="2024-03-04",
                ),
            ],  # fmt: skip
        }.get(extract, [])
        deliver(landing, extract, "2024-03", rows, cut=1 if extract == "sentence_plans" else 0)


@pytest.fixture(scope="module")
def deliveries(tmp_path_factory):
    """The three runs: (settings, summaries, warehouse figures after runs 1 and 3)."""
    root = tmp_path_factory.mktemp("deliveries")
    settings = Settings.from_env(root / "landing", root / "data")
    first_deliveries(settings.landing_dir)
    first = run_pipeline(settings, quiet=True, log_level="CRITICAL")
    before = snapshot(settings)
    later_deliveries(settings.landing_dir)
    landing_bytes = landing_state(settings.landing_dir)
    truncated = run_pipeline(settings, quiet=True, log_level="CRITICAL")
    after_truncated = landing_state(settings.landing_dir)
    deliver(settings.landing_dir, "sentence_plans", "2024-03", [
        dict(plan_id="P1", event_id="E1", crn="X1", region_code="N07",
             completed_date="2024-03-01"),
        dict(plan_id="P2", event_id="E7", crn="X7", region_code="N07",
             completed_date="2024-03-04"),
    ], revision=2)  # fmt: skip
    last = run_pipeline(settings, quiet=True, log_level="CRITICAL")
    return {
        "settings": settings,
        "first": first,
        "truncated": truncated,
        "last": last,
        "before": before,
        "after": snapshot(settings),
        "landing_unchanged": landing_bytes == after_truncated,
    }


def landing_state(landing: Path) -> dict[str, bytes]:
    return {str(p.relative_to(landing)): p.read_bytes() for p in landing.rglob("*") if p.is_file()}


def snapshot(settings: Settings) -> dict:
    """The figures the tests read, from the warehouse (read only)."""
    with duckdb.connect(str(settings.warehouse_path), read_only=True) as con:
        monthly = {
            (r[0], r[1], r[2]): r[3:]
            for r in con.execute(
                "select measure_code, geography_code, strftime(month, '%Y-%m'), numerator, "
                "denominator, provisional, provisional_reason, final_cases from measure_monthly"
            ).fetchall()
        }
        cells = {
            (r[0], r[1], r[2]): r[3]
            for r in con.execute(
                "select subject, geography_code, period, cell_status from publication_cells "
                "where table_group = 'MEASURE' and period_type = 'MONTH'"
            ).fetchall()
        }
        flags = {r[0] for r in con.execute("select flag_id from data_quality_flags").fetchall()}
        ledger = {
            (r[0], r[1]): r[2:]
            for r in con.execute(
                "select extract, month_key, source_revision, extracted_at, extracted_on, "
                "extracted_at_source from stg_loads"
            ).fetchall()
        }
    return {"monthly": monthly, "cells": cells, "flags": flags, "ledger": ledger}


def figure(state: dict, measure: str, month: str, geography: str = "N07"):
    """(numerator, denominator, provisional, provisional_reason, final_cases)."""
    return state["monthly"][(measure, geography, month)]


def test_months_not_delivered_are_gaps_not_failures(deliveries):
    first = deliveries["first"]
    assert first.failures == [] and first.refreshed
    assert first.gaps == {"accommodation_checks": ["2024-02"], "contacts": ["2024-02"]}
    assert deliveries["last"].gaps == {}


def test_missing_contacts_month_keeps_sl004_provisional_until_delivered(deliveries):
    # E1 starts 12 February; February's contacts are not delivered: 0 of 1, provisional, and
    # none of its cases final; once delivered, its contact on the 14th counts: 1 of 1, final.
    before = figure(deliveries["before"], "SL004", "2024-02")
    assert before == (0, 1, True, "contacts 2024-02 not delivered", 0)
    assert figure(deliveries["before"], "SL004", "2024-02", "K04000001")[:3] == (0, 1, True)
    assert figure(deliveries["after"], "SL004", "2024-02") == (1, 1, False, None, 1)


def test_a_provisional_cell_mostly_open_publishes_not_yet_complete(deliveries):
    assert deliveries["before"]["cells"][("SL004", "N07", "2024-02")] == "not yet complete"
    assert deliveries["before"]["cells"][("SL004", "K04000001", "2024-02")] == "not yet complete"
    assert deliveries["after"]["cells"][("SL004", "N07", "2024-02")] == "published"


def test_late_part_b_is_final_only_after_its_own_month_is_redelivered(deliveries):
    # RC1 returned 25 January, Part B due 8 February: January's first delivery (extracted 3
    # February) cannot know; February and March loading does not complete it either. The
    # re-delivery extracted 3 March shows Part B supplied on 6 February: 1 of 1, final.
    before = figure(deliveries["before"], "SL010", "2024-01")
    assert before == (0, 1, True, "recalls 2024-01 awaiting a re-delivery", 0)
    assert figure(deliveries["after"], "SL010", "2024-01") == (1, 1, False, None, 1)


def test_late_meeting_date_is_final_only_after_its_own_month_is_redelivered(deliveries):
    # H1 allocated 22 January (window to 19 February), meeting on 5 February recorded later.
    before = figure(deliveries["before"], "SL022", "2024-01")
    assert before == (0, 1, True, "handovers 2024-01 awaiting a re-delivery", 0)
    assert figure(deliveries["after"], "SL022", "2024-01") == (1, 1, False, None, 1)


def test_release_night_check_the_next_day_counts_and_keeps_the_month_open(deliveries):
    # L1 released Wednesday 31 January; its release-night check is dated 1 February, in
    # February's accommodation checks, not delivered at first: provisional until they are.
    before = figure(deliveries["before"], "SL014", "2024-01")
    assert before == (0, 1, True, "accommodation_checks 2024-02 not delivered", 0)
    assert figure(deliveries["after"], "SL014", "2024-01") == (1, 1, False, None, 1)
    # SL005 (1 business day, to 1 February) waits for February's contacts the same way
    assert figure(deliveries["before"], "SL005", "2024-01")[:4] == (
        0, 1, True, "contacts 2024-02 not delivered",
    )  # fmt: skip
    assert figure(deliveries["after"], "SL005", "2024-01")[:3] == (1, 1, False)


def test_backdated_termination_takes_effect_in_sl007(deliveries):
    # SL007 counts people supervised over the whole month (event started before it, not
    # terminated before its last day). London, January: X5 and X7 (seen 10 January) -> 1 of 2.
    # March's file records E5 terminated on 20 January: X5 drops out of January and February.
    assert figure(deliveries["before"], "SL007", "2024-01")[:3] == (1, 2, False)
    assert figure(deliveries["after"], "SL007", "2024-01")[:3] == (1, 1, False)
    # February: X5, X7 and XL1 (released 31 January), contacts not delivered yet -> provisional;
    # after: X5 has gone, X7 seen at the office on the 8th, XL1 on a home visit on the 1st (in
    # person too) -> 2 of 2.
    assert figure(deliveries["before"], "SL007", "2024-02")[:4] == (
        0, 3, True, "contacts 2024-02 not delivered",
    )  # fmt: skip
    assert figure(deliveries["after"], "SL007", "2024-02")[:3] == (2, 2, False)


def test_vanished_event_is_not_active_for_ever_and_is_flagged(deliveries):
    # Wales: X6 supervised in January; E6 is missing from February's file (not terminated in
    # January's): it ends with January, and vanished_records flags Wales' February events.
    assert figure(deliveries["before"], "SL007", "2024-01", "N03")[:2] == (0, 1)
    assert figure(deliveries["before"], "SL007", "2024-02", "N03")[:2] == (0, 0)
    assert "vanished_records:events:N03:2024-02" in deliveries["before"]["flags"]
    # February's events re-delivered with E6 (and March's holding it): supervised again
    assert figure(deliveries["after"], "SL007", "2024-02", "N03")[:2] == (0, 1)
    assert figure(deliveries["after"], "SL007", "2024-03", "N03")[:2] == (0, 1)
    assert not {f for f in deliveries["after"]["flags"] if f.startswith("vanished_records")}


def test_truncated_transfer_is_rejected_while_other_months_load(deliveries):
    truncated = deliveries["truncated"]
    assert len(truncated.failures) == 1
    (line,) = truncated.failures
    assert "sentence_plans_2024-03.csv" in line and "\n" not in line
    assert "row_count 2 but the file has 1 data rows" in line
    assert "Error" not in line and "Traceback" not in line
    assert ("contacts", "2024-02") in truncated.loaded and ("events", "2024-03") in truncated.loaded
    assert ("sentence_plans", "2024-03") not in truncated.loaded
    assert deliveries["landing_unchanged"]
    assert deliveries["last"].failures == []
    assert deliveries["after"]["ledger"][("sentence_plans", "2024-03")][0] == 2


def test_extraction_times_are_recorded_in_the_ledger(deliveries):
    ledger = deliveries["after"]["ledger"]
    revision, at, on, source = ledger[("recalls", "2024-01")]
    assert (revision, at, str(on), source) == (
        2, "2024-03-03T02:00:00+00:00", "2024-03-03", "control file",
    )  # fmt: skip
    # no control file: the modification time, marked as assumed
    revision, at, on, source = ledger[("measure_returns", "2024-01")]
    assert (at, str(on), source) == (
        "2024-02-03T02:00:00+00:00", "2024-02-03", "modification time (assumed)",
    )  # fmt: skip


def test_a_control_file_that_is_not_json_names_the_file(tmp_path):
    from orchestration.ingest.extract_month import ContractBreach, load_partition

    settings = Settings.from_env(tmp_path / "landing", tmp_path / "data")
    path = deliver(settings.landing_dir, "handovers", "2024-01")
    path.with_name(path.name + ".ctl").write_text("row_count=0\n")
    with pytest.raises(ContractBreach) as raised:
        load_partition(settings, "handovers", "2024-01")
    assert str(raised.value).startswith(f"{path}.ctl: ")
    assert "control file is not UTF-8 JSON" in str(raised.value)
    assert latest_delivery(settings.landing_dir, "handovers", "2024-01").path == path

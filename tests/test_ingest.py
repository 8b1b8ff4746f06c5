"""Ingestion: the landing-zone contract, row rules, revisions, idempotence, nothing lost."""

import hashlib

import pyarrow.parquet as pq
import pytest

from orchestration.ingest.extract_month import (
    ContractBreach,
    MissingDelivery,
    load_partition,
    needs_load,
    previous_load,
    quarantine_path,
    raw_path,
)
from orchestration.settings import Settings

HEADER = "contact_id,crn,event_id,region_code,contact_date,mode,outcome\n"


def settings_for(landing, tmp_path) -> Settings:
    return Settings.from_env(landing, tmp_path / "data")


def write_contacts(landing, month, body, header=HEADER, suffix=""):
    path = landing / "contacts" / f"contacts_{month}{suffix}.csv"
    path.write_text(header + body)
    return path


@pytest.mark.parametrize(
    ("header", "body", "line", "rule", "detail"),
    [
        (
            HEADER.replace(",outcome", ""),
            "C1,X1,E1,N07,2021-03-02,OFFICE\n",
            1,
            "missing column",
            "outcome",
        ),
        (
            HEADER.replace("outcome", "outcome,extra"),
            "C1,X1,E1,N07,2021-03-02,OFFICE,ATTENDED,1\n",
            1,
            "unexpected column",
            "extra",
        ),
        (
            HEADER,
            "C1,X1,E1,N07,2021-03-02,OFFICE,ATTENDED\nC2,X1,E1,N99,2021-03-03,OFFICE,ATTENDED\n",
            3,
            "bad value",
            "region_code = 'N99'",
        ),
        (HEADER, "C1,X1,E1,N07,2021-03-02,office,ATTENDED\n", 2, "bad value", "mode = 'office'"),
        (HEADER, "C1,X1,E1,N07,02/03/2021,OFFICE,ATTENDED\n", 2, "bad value", "ISO date"),
        (HEADER, "C1,X1,E1,N07,2021-02-30,OFFICE,ATTENDED\n", 2, "bad value", "calendar date"),
    ],
)
def test_contract_breach_names_file_line_and_rule(
    landing_copy, tmp_path, header, body, line, rule, detail
):
    path = write_contacts(landing_copy, "2021-03", body, header)
    with pytest.raises(ContractBreach) as caught:
        load_partition(settings_for(landing_copy, tmp_path), "contacts", "2021-03")
    message = str(caught.value)
    assert message.startswith(f"{path}: line {line}: {rule}")
    assert detail in message


def test_unreadable_encoding_is_a_breach_with_its_line(landing_copy, tmp_path):
    path = landing_copy / "contacts" / "contacts_2021-03.csv"
    path.write_bytes(
        HEADER.encode()
        + b"C1,X1,E1,N07,2021-03-02,OFFICE,ATTENDED\n"
        + "C2,X\xe9,E1,N07,2021-03-02,OFFICE,ATTENDED\n".encode("latin-1")
    )
    with pytest.raises(ContractBreach, match=r"line 3: encoding must be UTF-8"):
        load_partition(settings_for(landing_copy, tmp_path), "contacts", "2021-03")


def test_header_only_file_is_a_valid_empty_month(landing_copy, tmp_path):
    write_contacts(landing_copy, "2021-03", "")
    report = load_partition(settings_for(landing_copy, tmp_path), "contacts", "2021-03")
    assert (report.rows_delivered, report.rows_loaded) == (0, 0)
    table = pq.read_table(raw_path(settings_for(landing_copy, tmp_path), "contacts", "2021-03"))
    assert table.num_rows == 0 and "contact_date" in table.column_names


def test_implausible_rows_are_set_aside_with_a_reason_never_dropped(landing_copy, tmp_path):
    write_contacts(
        landing_copy,
        "2021-03",
        "C1,X1,E1,N07,2021-03-02,OFFICE,ATTENDED\n"
        "C1,X1,E1,N07,2021-03-02,OFFICE,ATTENDED\n"  # duplicate key
        "C2,X1,E1,N07,2021-04-02,OFFICE,ATTENDED\n"  # outside the file's month
        "C3,X1,E1,N07,2021-03-05,,ATTENDED\n"  # null in a required field
        "C4,X1,E1,N07,2021-03-31,TELEPHONE,NOT_RECORDED\n",
    )
    settings = settings_for(landing_copy, tmp_path)
    report = load_partition(settings, "contacts", "2021-03")
    assert (report.rows_delivered, report.rows_loaded, report.rows_set_aside) == (5, 2, 3)
    assert report.set_aside_by_reason == {
        "duplicate_key:contact_id": 1,
        "null_required:mode": 1,
        "outside_partition:contact_date": 1,
    }
    kept = pq.read_table(raw_path(settings, "contacts", "2021-03")).to_pydict()
    assert kept["contact_id"] == ["C1", "C4"]
    assert kept["_source_line"] == [2, 6]
    aside = pq.read_table(quarantine_path(settings, "contacts", "2021-03")).to_pydict()
    assert sorted(zip(aside["_source_line"], aside["_reason"], strict=True)) == [
        (3, "duplicate_key:contact_id"),
        (4, "outside_partition:contact_date"),
        (5, "null_required:mode"),
    ]


def test_landing_file_is_never_modified_and_reload_is_idempotent(landing_copy, tmp_path):
    settings = settings_for(landing_copy, tmp_path)
    source = landing_copy / "events" / "events_2021-04.csv"
    before = hashlib.sha256(source.read_bytes()).hexdigest()
    first = load_partition(settings, "events", "2021-04")
    table_first = pq.read_table(raw_path(settings, "events", "2021-04"))
    second = load_partition(settings, "events", "2021-04")
    table_second = pq.read_table(raw_path(settings, "events", "2021-04"))
    assert hashlib.sha256(source.read_bytes()).hexdigest() == before == first.source_sha256
    assert table_first.equals(table_second)
    assert (first.rows_loaded, second.rows_loaded) == (12, 12)
    assert needs_load(settings, "events", "2021-04") is False


def test_highest_revision_wins_and_a_bad_redelivery_keeps_the_earlier_load(landing_copy, tmp_path):
    settings = settings_for(landing_copy, tmp_path)
    load_partition(settings, "contacts", "2021-03")
    good = pq.read_table(raw_path(settings, "contacts", "2021-03"))

    write_contacts(landing_copy, "2021-03", "C99,X1,E1,N07,2021-03-02,OFFICE,BAD\n", suffix="_r2")
    assert needs_load(settings, "contacts", "2021-03") is True
    with pytest.raises(ContractBreach, match=r"contacts_2021-03_r2.csv: line 2: bad value"):
        load_partition(settings, "contacts", "2021-03")
    assert pq.read_table(raw_path(settings, "contacts", "2021-03")).equals(good)
    assert previous_load(settings, "contacts", "2021-03")["source_revision"] == 1

    write_contacts(
        landing_copy, "2021-03", "C99,X1,E1,N07,2021-03-02,OFFICE,ATTENDED\n", suffix="_r3"
    )
    report = load_partition(settings, "contacts", "2021-03")
    assert report.source_revision == 3 and report.rows_loaded == 1
    assert previous_load(settings, "contacts", "2021-03")["source_file"].endswith("_r3.csv")
    assert (landing_copy / "contacts" / "contacts_2021-03.csv").exists()  # earlier kept


def test_missing_delivery_is_reported(landing_copy, tmp_path):
    (landing_copy / "recalls" / "recalls_2021-04.csv").unlink()
    with pytest.raises(MissingDelivery, match=r"recalls_2021-04.csv: no delivery"):
        load_partition(settings_for(landing_copy, tmp_path), "recalls", "2021-04")


def test_parquet_delivery_is_read_like_csv(landing_copy, tmp_path):
    import pandas as pd

    csv_path = landing_copy / "contacts" / "contacts_2021-03.csv"
    frame = pd.read_csv(csv_path, dtype=str)
    frame["contact_date"] = pd.to_datetime(frame["contact_date"]).dt.date
    csv_path.unlink()
    frame.to_parquet(landing_copy / "contacts" / "contacts_2021-03.parquet", index=False)
    report = load_partition(settings_for(landing_copy, tmp_path), "contacts", "2021-03")
    assert report.rows_loaded == len(frame) > 0


def test_demo_data_meets_the_contract_and_its_defects_are_set_aside(tmp_path):
    """Every file the generator writes loads; its 2021 defects surface as row rules."""
    from orchestration.demo import generate_landing
    from schemas.contracts import EXTRACTS

    landing = tmp_path / "landing"
    generate_landing(landing, start="2021-04", end="2021-06", scale=0.005)
    settings = Settings.from_env(landing, tmp_path / "data")
    reports = {
        (e, m): load_partition(settings, e, m)
        for e in EXTRACTS
        for m in ("2021-04", "2021-05", "2021-06")
    }
    assert all(
        reports[(e, "2021-05")].rows_delivered > 0 for e in ("events", "contacts", "persons")
    )
    assert reports[("contacts", "2021-04")].set_aside_by_reason.get("duplicate_key:contact_id")
    assert reports[("contacts", "2021-06")].set_aside_by_reason.get(
        "outside_partition:contact_date"
    )
    assert reports[("contacts", "2021-05")].rows_set_aside == 0

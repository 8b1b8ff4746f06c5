"""A corpus of malformed inputs and faults, each run through the command line.

Every case starts from the fixture landing zone with its three months already loaded (a copy
of the session's fixture run), damages one thing, runs `probation-pipeline run` (or another
command) and asserts: the exit code; one line on the terminal, naming the file (or setting, or
argument) and the problem, with no Python class name or traceback; the landing zone byte
identical; and every earlier load intact.
"""

from __future__ import annotations

import hashlib
import io
import json
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from orchestration.cli import main

pytestmark = pytest.mark.pipeline

CLASS_NAME = re.compile(r"\b[A-Z][A-Za-z]+(?:Error|Exception|Failure)\b|Traceback")
CONTACTS_HEADER = "contact_id,crn,event_id,region_code,contact_date,mode,outcome"
GOOD_ROW = "C99,X3,E3,N03,2021-06-10,OFFICE,ATTENDED"


def state(folder: Path) -> dict[str, str]:
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


@pytest.fixture
def loaded(fixture_run, monkeypatch):
    """(landing, data) of the session's fixture run, its three months loaded. Loads are tied to
    their landing file's path, so the cases damage that landing zone itself; whatever a case
    adds (to the landing zone or the data folder) is removed afterwards."""
    settings, _ = fixture_run
    landing, data = settings.landing_dir, settings.data_dir
    for name in (
        "PROBATION_REVIEWS_FILE",
        "PROBATION_TARGETS_FILE",
        "PROBATION_QUALITY_THRESHOLDS",
    ):
        monkeypatch.delenv(name, raising=False)
    before = {
        folder: set(folder.rglob("*")) for folder in (landing, data / "raw", data / "quarantine")
    }
    yield landing, data
    for folder, paths in before.items():
        for path in sorted(set(folder.rglob("*")) - paths, reverse=True):
            if path.is_dir() and not path.is_symlink():
                shutil.rmtree(path, ignore_errors=True)
            else:
                path.unlink(missing_ok=True)


def contacts(landing: Path, name: str) -> Path:
    return landing / "contacts" / name


def write(path: Path, text: str | bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    return path


def valid_parquet(landing: Path) -> bytes:
    import pandas as pd

    buffer = io.BytesIO()
    frame = pd.read_csv(landing / "contacts" / "contacts_2021-03.csv", dtype=str)
    frame.to_parquet(buffer, index=False)
    return buffer.getvalue()


# name -> (damage(landing, data, monkeypatch) returning extra CLI args or None, expected exit
# code, the words the one line must hold ({file} is replaced by the damaged file's name)
LANDING = {
    "a 13th month": (lambda L: write(contacts(L, "contacts_2021-13.csv"), CONTACTS_HEADER),
                     "2021-13 is not a calendar month"),
    "a month before April 2019": (
        lambda L: write(contacts(L, "contacts_2019-03.csv"), CONTACTS_HEADER),
        "outside the partitions"),
    "a month far in the future": (
        lambda L: write(contacts(L, "contacts_2099-01.csv"), CONTACTS_HEADER),
        "outside the partitions"),
    "revision _r0": (lambda L: write(contacts(L, "contacts_2021-03_r0.csv"), CONTACTS_HEADER),
                     "re-deliveries are numbered _r2"),
    "revision _r1": (lambda L: write(contacts(L, "contacts_2021-03_r1.csv"), CONTACTS_HEADER),
                     "re-deliveries are numbered _r2"),
    "revision _rX": (lambda L: write(contacts(L, "contacts_2021-03_rX.csv"), CONTACTS_HEADER),
                     "name must be <extract>_<YYYY-MM>"),
    "upper-case extension": (lambda L: write(contacts(L, "contacts_2021-06.CSV"), CONTACTS_HEADER),
                             "name must be"),
    "another extension": (lambda L: write(contacts(L, "contacts_2021-06.xlsx"), b"PK\x03\x04"),
                          "name must be"),
    "another extract's name in the folder": (
        lambda L: write(contacts(L, "events_2021-06.csv"), CONTACTS_HEADER), "name must be"),
    "a folder where a file should be": (
        lambda L: (contacts(L, "contacts_2021-06.csv")).mkdir(), "is a folder, not a delivery"),
    "CSV and Parquet claiming one month": (
        lambda L: write(contacts(L, "contacts_2021-03.parquet"), valid_parquet(L)),
        "both claim contacts 2021-03 revision 1"),
    "zero-byte Parquet": (lambda L: write(contacts(L, "contacts_2021-06.parquet"), b""),
                          "must be a readable Parquet file"),
    "truncated Parquet": (
        lambda L: write(contacts(L, "contacts_2021-06.parquet"), valid_parquet(L)[:300]),
        "must be a readable Parquet file"),
    "not Parquet at all": (
        lambda L: write(contacts(L, "contacts_2021-06.parquet"), b"contact_id,crn\n"),
        "must be a readable Parquet file"),
    "a NUL byte in a key": (
        lambda L: write(contacts(L, "contacts_2021-06.csv"),
                        f"{CONTACTS_HEADER}\nC9\x009,X3,E3,N03,2021-06-10,OFFICE,ATTENDED\n"),
        "line 2: text must not contain NUL bytes"),
    "a 1 MB value in a coded column": (
        lambda L: write(contacts(L, "contacts_2021-06.csv"),
                        f"{CONTACTS_HEADER}\nC9,X3,E3,N03,2021-06-10,{'P' * 1_000_000},ATTENDED\n"),
        "characters)"),
    "an empty file": (lambda L: write(contacts(L, "contacts_2021-06.csv"), ""),
                      "a header row is required"),
    "not UTF-8": (lambda L: write(contacts(L, "contacts_2021-06.csv"),
                                  f"{CONTACTS_HEADER}\n{GOOD_ROW[:-8]}".encode() + b"\xff\n"),
                  "encoding must be UTF-8"),
    "semicolon separated": (
        lambda L: write(contacts(L, "contacts_2021-06.csv"), CONTACTS_HEADER.replace(",", ";")),
        "missing column"),
    "a missing column": (
        lambda L: write(contacts(L, "contacts_2021-06.csv"), CONTACTS_HEADER.rsplit(",", 1)[0]),
        "missing column: outcome"),
    "an unexpected column": (
        lambda L: write(contacts(L, "contacts_2021-06.csv"), CONTACTS_HEADER + ",notes"),
        "unexpected column: notes"),
    "a row with an extra field": (
        lambda L: write(contacts(L, "contacts_2021-06.csv"),
                        f"{CONTACTS_HEADER}\n{GOOD_ROW}\n{GOOD_ROW},extra,more\n"),
        "comma separated with one field per column"),
    "an unknown code": (
        lambda L: write(contacts(L, "contacts_2021-06.csv"),
                        f"{CONTACTS_HEADER}\n{GOOD_ROW.replace('OFFICE', 'PHONE')}\n"),
        "line 2: bad value: column mode = 'PHONE'"),
    "a date that is no date": (
        lambda L: write(contacts(L, "contacts_2021-06.csv"),
                        f"{CONTACTS_HEADER}\n{GOOD_ROW.replace('2021-06-10', '2021-06-31')}\n"),
        "column contact_date = '2021-06-31'"),
    "a bad re-delivery of a loaded month": (
        lambda L: write(contacts(L, "contacts_2021-03_r2.csv"),
                        f"{CONTACTS_HEADER}\n{GOOD_ROW.replace('OFFICE', 'PHONE')}\n"),
        "contacts_2021-03_r2.csv: line 2: bad value"),
    "a control file that disagrees (row count)": (
        lambda L: (write(contacts(L, "contacts_2021-06.csv"), f"{CONTACTS_HEADER}\n{GOOD_ROW}\n"),
                   write(contacts(L, "contacts_2021-06.csv.ctl"), json.dumps({
                       "extracted_at": "2021-07-02T03:00:00+01:00", "row_count": 2,
                       "sha256": "0" * 64}))),
        "row_count 2 but the file has 1 data rows"),
    "a control file that is not JSON": (
        lambda L: (write(contacts(L, "contacts_2021-06.csv"), f"{CONTACTS_HEADER}\n"),
                   write(contacts(L, "contacts_2021-06.csv.ctl"), "rows=0")),
        "control file is not UTF-8 JSON"),
    "a control file without its keys": (
        lambda L: (write(contacts(L, "contacts_2021-06.csv"), f"{CONTACTS_HEADER}\n"),
                   write(contacts(L, "contacts_2021-06.csv.ctl"), "{}")),
        "control file must be a JSON object with extracted_at, row_count, sha256"),
    "a control file with a bad timestamp": (
        lambda L: (write(contacts(L, "contacts_2021-06.csv"), f"{CONTACTS_HEADER}\n"),
                   write(contacts(L, "contacts_2021-06.csv.ctl"), json.dumps({
                       "extracted_at": "yesterday", "row_count": 0, "sha256": "0" * 64}))),
        "extracted_at 'yesterday' is not an ISO 8601 timestamp"),
    "a control file without a delivery": (
        lambda L: write(contacts(L, "contacts_2021-06.csv.ctl"), "{}"),
        "control file without a delivery"),
}  # fmt: skip


@pytest.mark.parametrize("case", LANDING)
def test_landing_zone_problem_is_one_line_naming_file_and_rule(case, loaded, capsys):
    landing, data = loaded
    before_landing = state(landing)
    damage, words = LANDING[case]
    damage(landing)
    damaged = state(landing)
    loads = state(data / "raw")
    code = main(["run", "--landing", str(landing), "--data-dir", str(data)])
    lines = capsys.readouterr().err.strip().splitlines()
    assert code == 1
    assert len(lines) == 1, lines
    (line,) = lines
    assert line.startswith("error: ") and words in line, line
    new = sorted(set(damaged) - set(before_landing))
    assert any(Path(name).name in line for name in new) or "contacts" in line, line
    assert not CLASS_NAME.search(line) and len(line) < 600, line
    assert state(landing) == damaged  # the landing zone as delivered
    after = state(data / "raw")
    assert {k: after.get(k) for k in loads} == loads  # every earlier load intact


CONFIGURATION = {
    "a reviews file with an unknown decision": (
        "PROBATION_REVIEWS_FILE", "reviews.csv",
        "flag_id,decision,reason,reviewer,reviewed_on\n"
        "row_count:contacts:N07:2021-04,maybe,Looked at it,A Stat,2021-05-01\n",
        "decision"),
    "a reviews file without its columns": (
        "PROBATION_REVIEWS_FILE", "reviews.csv", "flag,decision\nx,publish\n", "reviews.csv"),
    "a thresholds file with an unknown key": (
        "PROBATION_QUALITY_THRESHOLDS", "thresholds.toml", "[row_count]\nmax_change = 0.2\n",
        "unknown key 'max_change'"),
    "a thresholds file that is not TOML": (
        "PROBATION_QUALITY_THRESHOLDS", "thresholds.toml", "[row_count\n", "not valid TOML"),
    "a targets file with a bad target": (
        "PROBATION_TARGETS_FILE", "targets.csv",
        "measure_code,performance_year,geography_code,target_type,target,near_miss_tolerance,"
        "source\nSL004,2021-22,*,END_STATE,high,0.05,test\n", "targets.csv"),
    "a moderations file naming no rated region": (
        "PROBATION_MODERATIONS_FILE", "moderations.csv", "nonsense\n1\n", "moderations.csv"),
    "a publication file that is not TOML": (
        "PROBATION_PUBLICATION_FILE", "publication.toml", "title = \n", "publication.toml"),
    "a disclosure threshold that is no number": (
        "PROBATION_DISCLOSURE_THRESHOLD", None, "five", "PROBATION_DISCLOSURE_THRESHOLD"),
    "a final share above 1": ("PROBATION_MIN_FINAL_SHARE", None, "2", "PROBATION_MIN_FINAL_SHARE"),
}  # fmt: skip


@pytest.mark.parametrize("case", CONFIGURATION)
def test_configuration_is_checked_before_any_work(case, loaded, capsys, monkeypatch, tmp_path):
    landing, data = loaded
    variable, name, text, words = CONFIGURATION[case]
    value = text if name is None else str(write(tmp_path / "config" / name, text))
    monkeypatch.setenv(variable, value)
    write(contacts(landing, "contacts_2021-06.csv"), f"{CONTACTS_HEADER}\n{GOOD_ROW}\n")
    before, loads = state(landing), state(data / "raw")
    code = main(["run", "--landing", str(landing), "--data-dir", str(data)])
    lines = capsys.readouterr().err.strip().splitlines()
    assert code == 1 and len(lines) == 1, lines
    assert words in lines[0] and not CLASS_NAME.search(lines[0]), lines[0]
    assert state(landing) == before and state(data / "raw") == loads  # nothing loaded first


ARGUMENTS = {
    "a month that is no month": (["run", "--start", "2021-13"], "'2021-13' is not a month"),
    "start after end": (["run", "--start", "2021-05", "--end", "2021-03"], "is after --end"),
    "an unknown option": (["run", "--fast"], "unrecognized arguments: --fast"),
    "an unknown command": (["publish"], "invalid choice: 'publish'"),
    "a landing zone that does not exist": (["run", "--landing", "{tmp}/nowhere"],
                                           "landing zone not found"),
    "an edition without data": (["run", "--edition", "2024-01"], "--edition 2024-01: no data"),
    "a scale of zero": (["demo-data", "--scale", "0", "--out", "{tmp}/demo"], "--scale"),
    "an unknown defect": (["demo-data", "--inject", "melt:contacts:N07:2021-03",
                           "--out", "{tmp}/demo"], "unknown defect kind 'melt'"),
    "a release without approver": (["release", "--edition", "2021-05"], "--approver"),
    "a data folder that is a file": (["run", "--data-dir", "{tmp}/file"], "is a file"),
}  # fmt: skip


@pytest.mark.parametrize("case", ARGUMENTS)
def test_command_line_mistakes_are_one_line_and_exit_2(case, loaded, capsys, tmp_path):
    landing, data = loaded
    write(tmp_path / "file", "not a folder")
    args, words = ARGUMENTS[case]
    args = [a.replace("{tmp}", str(tmp_path)) for a in args]
    if args[0] == "run" and "--landing" not in args:
        args += ["--landing", str(landing)]
    if args[0] in ("run", "release") and "--data-dir" not in args:
        args += ["--data-dir", str(data)]
    before = state(landing)
    code = main(args)
    lines = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(lines) == 1, lines
    assert words in lines[0] and not CLASS_NAME.search(lines[0]), lines[0]
    assert state(landing) == before and not (tmp_path / "demo").exists()


def test_a_locked_warehouse_names_the_process_before_any_work(loaded, capsys):
    landing, data = loaded
    import duckdb

    duckdb.connect(str(data / "warehouse.duckdb")).close()
    write(contacts(landing, "contacts_2021-06.csv"), f"{CONTACTS_HEADER}\n{GOOD_ROW}\n")
    holder = subprocess.Popen(
        [sys.executable, "-c", "import duckdb, sys, time; "
         "c = duckdb.connect(sys.argv[1], read_only=True); print('ready', flush=True); "
         "time.sleep(60)", str(data / "warehouse.duckdb")],
        stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert holder.stdout.readline().strip() == "ready"
        loads = state(data / "raw")
        started = time.monotonic()
        code = main(["run", "--landing", str(landing), "--data-dir", str(data)])
        lines = capsys.readouterr().err.strip().splitlines()
    finally:
        holder.kill()
    assert code == 1 and len(lines) == 1, lines
    assert f"PID {holder.pid}" in lines[0] and "analytics.duckdb" in lines[0], lines[0]
    assert not CLASS_NAME.search(lines[0])
    assert state(data / "raw") == loads  # refused before ingestion, not after it
    assert time.monotonic() - started < 60


def test_paths_with_spaces_quotes_and_accents_work(fixture_run):
    """The session's fixture run (every stage, dbt and the snapshot among them) ran in such
    folders."""
    settings, summary = fixture_run
    for path in (settings.landing_dir, settings.data_dir):
        assert {" ", "'", "ä" if path == settings.data_dir else "é"} <= set(str(path))
    assert summary.failures == [] and summary.refreshed
    assert pq.read_table(settings.analytics_parquet_dir / "measure_monthly.parquet").num_rows


def test_logs_keep_the_newest_runs_only(loaded, capsys, monkeypatch):
    landing, data = loaded
    logs = data / "logs"
    before = set(logs.glob("run-*.log"))
    old = [write(logs / f"run-20000101-00000{i}-000000.log", "old run") for i in range(5)]
    monkeypatch.setenv("PROBATION_KEEP_LOGS", "3")
    monkeypatch.setenv("PROBATION_MIN_FINAL_SHARE", "lots")  # a run that stops at once
    try:
        assert main(["run", "--landing", str(landing), "--data-dir", str(data)]) == 1
        kept = sorted(logs.glob("run-*.log"))
        assert len(kept) == 3 and not any(p in kept for p in old[:3])
        assert capsys.readouterr().err.count("\n") == 1
    finally:
        for path in set(logs.glob("run-*.log")) - before:
            path.unlink()


def test_dbt_artefacts_live_in_the_data_folder_not_the_source_tree(fixture_run):
    from orchestration.settings import DBT_PROJECT_DIR

    settings, _ = fixture_run
    assert (settings.data_dir / "dbt" / "warehouse_models" / "run_results.json").exists()
    assert not list((DBT_PROJECT_DIR / "target").glob("warehouse_models*"))

"""A landing file edited in place after it was loaded: reported in one line, never loaded again.

The landing zone must stay as loaded (a correction is a new revision, `_r2`). A loaded file whose
SHA-256 is no longer the one in the load ledger stops `probation-pipeline run` before anything
is loaded or built (exit 1, one line naming the file and the extract-month), and the ingest
asset refuses that extract-month in a UI run. A file is hashed only when its size or
modification time differs from what the ledger recorded at load time.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
from pathlib import Path

import dagster as dg
import pyarrow.parquet as pq
import pytest

from orchestration.cli import main
from orchestration.ingest.extract_month import (
    changed_landing_files,
    changed_since_load,
    load_partition,
    manifest_path,
    previous_load,
    raw_path,
)
from orchestration.ingest.landing import LandingFile
from orchestration.settings import Settings

CLASS_NAME = re.compile(r"\b[A-Z][A-Za-z]+(?:Error|Exception|Failure)\b|Traceback")


def digests(folder: Path) -> dict[str, str]:
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def edit_one_value(path: Path) -> None:
    """Change one value of the file's first data row, its size and the rest kept."""
    header, first, *rest = path.read_text().splitlines(keepends=True)
    edited = first.replace("ATTENDED", "ATTENDEE", 1)
    assert edited != first and len(edited) == len(first)
    path.write_text(header + edited + "".join(rest))


@pytest.mark.pipeline
def test_a_loaded_file_edited_in_place_stops_the_run_in_one_line(fixture_run, tmp_path, capsys):
    """On a copy of the fixture run's data folder. Loads are tied to their landing file's path,
    so the fixture run's own landing zone is edited, and put back afterwards."""
    loaded = fixture_run[0]
    data = tmp_path / "data"
    shutil.copytree(loaded.data_dir, data, ignore=shutil.ignore_patterns("logs"))
    settings = Settings.from_env(loaded.landing_dir, data)
    path = loaded.landing_dir / "contacts" / "contacts_2021-04.csv"
    original, stat = path.read_bytes(), path.stat()
    warehouse = settings.warehouse_path
    before = (warehouse.read_bytes(), warehouse.stat().st_mtime_ns)
    raw, landing = digests(settings.raw_dir), digests(settings.landing_dir)
    args = ["run", "--landing", str(settings.landing_dir), "--data-dir", str(data), "--no-history"]
    try:
        edit_one_value(path)
        code = main(args)
        lines = capsys.readouterr().err.strip().splitlines()
        edited = digests(settings.landing_dir)
    finally:
        path.write_bytes(original)
        os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))

    assert code == 1 and len(lines) == 1, lines
    (line,) = lines
    assert line.startswith(f"error: {path}: changed after it was loaded"), line
    assert "as contacts 2021-04 revision 1" in line and "contacts_2021-04_r2.csv" in line, line
    assert not CLASS_NAME.search(line), line
    assert (warehouse.read_bytes(), warehouse.stat().st_mtime_ns) == before  # nothing built
    assert digests(settings.raw_dir) == raw  # nothing loaded, the ledger as it was
    assert {k: v for k, v in edited.items() if k != "contacts/contacts_2021-04.csv"} == {
        k: v for k, v in landing.items() if k != "contacts/contacts_2021-04.csv"
    }  # the landing zone only read

    assert changed_landing_files(settings) == []  # put back as loaded: accepted again


def loaded_month(landing_copy: Path, tmp_path: Path) -> tuple[Settings, Path]:
    settings = Settings.from_env(landing_copy, tmp_path / "data")
    load_partition(settings, "contacts", "2021-04")
    return settings, landing_copy / "contacts" / "contacts_2021-04.csv"


def test_the_ledger_records_size_and_modification_time(landing_copy, tmp_path):
    settings, path = loaded_month(landing_copy, tmp_path)
    record = previous_load(settings, "contacts", "2021-04")
    stat = path.stat()
    assert (record["source_size"], record["source_mtime_ns"]) == (stat.st_size, stat.st_mtime_ns)


def test_a_touched_file_is_accepted_an_edited_one_named_a_restored_one_accepted(
    landing_copy, tmp_path
):
    settings, path = loaded_month(landing_copy, tmp_path)
    original, stat = path.read_bytes(), path.stat()
    assert changed_since_load(settings, "contacts", "2021-04") is None

    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 5_000_000_000))  # touched only
    assert changed_since_load(settings, "contacts", "2021-04") is None  # hashed: the same
    assert changed_landing_files(settings) == []

    edit_one_value(path)
    line = changed_since_load(settings, "contacts", "2021-04")
    now = hashlib.sha256(path.read_bytes()).hexdigest()
    assert line is not None and line.startswith(f"{path}: changed after it was loaded"), line
    assert f"SHA-256 now {now[:12]}, {hashlib.sha256(original).hexdigest()[:12]}" in line
    assert "as contacts 2021-04 revision 1 on " in line and " UTC)" in line, line
    assert line.endswith("deliver a correction as a new revision (contacts_2021-04_r2.csv)")
    assert "\n" not in line and not CLASS_NAME.search(line)
    assert changed_landing_files(settings) == [line]

    path.write_bytes(original)  # put back as loaded (a new modification time)
    assert changed_since_load(settings, "contacts", "2021-04") is None
    assert changed_landing_files(settings) == []


def test_a_redelivery_puts_a_changed_file_right(landing_copy, tmp_path):
    settings, path = loaded_month(landing_copy, tmp_path)
    edit_one_value(path)
    assert changed_since_load(settings, "contacts", "2021-04") is not None
    shutil.copyfile(path, path.with_name("contacts_2021-04_r2.csv"))  # the correction
    assert changed_since_load(settings, "contacts", "2021-04") is None  # the next load takes r2
    assert changed_landing_files(settings) == []


def test_unchanged_files_are_not_read(landing_copy, tmp_path, monkeypatch):
    settings, _ = loaded_month(landing_copy, tmp_path)
    load_partition(settings, "events", "2021-04")

    def never(self):
        raise AssertionError(f"{self.path} was hashed")

    monkeypatch.setattr(LandingFile, "sha256", never)
    assert changed_landing_files(settings) == []


def test_a_ledger_row_without_size_and_time_falls_back_to_hashing(landing_copy, tmp_path):
    settings, path = loaded_month(landing_copy, tmp_path)
    ledger = manifest_path(settings, "contacts", "2021-04")
    pq.write_table(pq.read_table(ledger).drop_columns(["source_size", "source_mtime_ns"]), ledger)
    assert changed_landing_files(settings) == []
    stat = path.stat()
    edit_one_value(path)  # same size, and the modification time put back as it was
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    assert len(changed_landing_files(settings)) == 1


def test_a_file_loaded_just_after_it_was_written_is_always_hashed(landing_copy, tmp_path):
    """Racily clean, as git says: an edit within the file system's timestamp granularity could
    keep the modification time, so none is recorded."""
    path = landing_copy / "contacts" / "contacts_2021-04.csv"
    path.write_bytes(path.read_bytes())  # delivered just now
    settings, _ = loaded_month(landing_copy, tmp_path)
    assert previous_load(settings, "contacts", "2021-04")["source_mtime_ns"] is None
    stat = path.stat()
    edit_one_value(path)
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    assert len(changed_landing_files(settings)) == 1


def test_the_ingest_asset_refuses_a_changed_file_in_one_line(landing_copy, tmp_path, monkeypatch):
    """A UI run (or backfill) of the month: that extract-month fails, not retried, not loaded."""
    from orchestration.defs.ingest import ingest_selection
    from orchestration.running.runner import load_definitions

    settings, path = loaded_month(landing_copy, tmp_path)
    raw = raw_path(settings, "contacts", "2021-04").read_bytes()
    edit_one_value(path)
    monkeypatch.setenv("PROBATION_LANDING_DIR", str(landing_copy))
    monkeypatch.setenv("PROBATION_DATA_DIR", str(settings.data_dir))
    job = load_definitions().resolve_job_def("ingest_job")
    result = job.get_subset(**ingest_selection(["contacts"])).execute_in_process(
        partition_key="2021-04", instance=dg.DagsterInstance.ephemeral(), raise_on_error=False
    )
    assert not result.success
    (failure,) = [e for e in result.all_events if e.is_step_failure]
    data = failure.step_failure_data.user_failure_data
    assert data is not None and data.description == changed_since_load(
        settings, "contacts", "2021-04"
    )
    assert raw_path(settings, "contacts", "2021-04").read_bytes() == raw

"""Releases a statistician can defend: a published edition rebuilt from its ledger, its inputs
and its commit is identical to what was published, and `verify` finds any published file or
log entry changed afterwards.

The scenario, on a small demo landing zone (October 2024 to March 2025):
1. the deliveries up to February arrive (January's and February's re-deliveries held back),
   the pipeline runs and edition 2025-02 is released;
2. March arrives with re-deliveries of January and February, a review is recorded, the
   pipeline runs, 2025-03 is released, and 2025-02 is staged again against it and released
   as the correction 2025-02-v2;
3. `probation-pipeline rebuild` rebuilds 2025-02 and 2025-02-v2 from the landing zone, which
   now holds the later deliveries too: every file is identical (CSV, Parquet, dictionary,
   bulletin and validation result byte for byte; XLSX and ODS cell by cell).
"""

from __future__ import annotations

import json
import shutil
import subprocess
from datetime import UTC, datetime, timedelta

import duckdb
import pytest

from benchmarks.incremental_proof import deliver
from orchestration.cli import main
from orchestration.demo import generate_landing
from orchestration.publication.validation import read_result, write_result
from orchestration.release.publish import RELEASE_LOG, content_digest, read_log
from orchestration.running.runner import run_pipeline
from orchestration.settings import PROJECT_ROOT, Settings

pytestmark = [pytest.mark.pipeline, pytest.mark.xdist_group("rebuild")]

START, END = "2024-10", "2025-03"
HELD_BACK = ("2025-01", "2025-02")  # their re-deliveries come with March
APPROVER = "A Statistician"


def granted() -> str:
    """Pre-release access granted an hour ago (UK time is accepted as given)."""
    return (datetime.now(UTC) - timedelta(hours=1)).isoformat(timespec="minutes")


def release(settings: Settings, edition: str, *extra: str) -> None:
    args = ["release", "--edition", edition, "--approver", APPROVER, "--access-granted"]
    assert main([*args, granted(), "--data-dir", str(settings.data_dir), *extra]) == 0


def review_every_flag(settings: Settings, reason: str) -> int:
    """Record a publish decision for every flag raised and not yet reviewed; return how many."""
    with duckdb.connect(str(settings.analytics_path), read_only=True) as con:
        flags = [r[0] for r in con.sql("select flag_id from data_quality_flags").fetchall()]
    path = settings.reviews_path
    lines = path.read_text().splitlines() if path.exists() else []
    lines = lines or ["flag_id,decision,reason,reviewer,reviewed_on"]
    done = {line.split(",")[0] for line in lines[1:]}
    new = [f"{f},publish,{reason},{APPROVER},2025-04-20" for f in flags if f not in done]
    path.write_text("\n".join(lines + new) + "\n")
    return len(new)


def run(settings: Settings, *, edition: str | None = None):
    summary = run_pipeline(settings, edition=edition, quiet=True, log_level="CRITICAL")
    assert summary.failures == [], summary.failures
    if summary.held:  # flags the statistician has not reviewed yet: review them, run again
        assert review_every_flag(settings, "Checked: figures stand") > 0
        summary = run_pipeline(settings, edition=edition, quiet=True, log_level="CRITICAL")
    assert summary.failures == [] and summary.held == [], (summary.failures, summary.held)
    return summary


@pytest.fixture(scope="module")
def released(tmp_path_factory) -> Settings:
    root = tmp_path_factory.mktemp("releases")
    source = root / "source"
    summary = generate_landing(source, start=START, end=END, scale=0.005)
    second = [
        d for d in summary["deliveries"]
        if d["month"] == END or (d["revision"] > 1 and d["month"] in HELD_BACK)
    ]  # fmt: skip
    first = [d for d in summary["deliveries"] if d not in second]
    assert {d["month"] for d in second if d["revision"] > 1} == set(HELD_BACK)
    settings = Settings.from_env(root / "landing", root / "data")
    for delivery in first:
        deliver(source, settings.landing_dir, delivery["path"])
    deliver(source, settings.landing_dir, "inspections/inspections.csv")  # a reference extract
    assert run(settings).edition == "2025-02"
    release(settings, "2025-02")

    for delivery in second:
        deliver(source, settings.landing_dir, delivery["path"])
    review_every_flag(settings, "Reviewed with the March delivery")  # flags raised before
    assert run(settings).edition == "2025-03"
    release(settings, "2025-03")
    run(settings, edition="2025-02")
    # the state before the correction is released, for the test of a release's checks
    shutil.copytree(settings.data_dir, root / "before_correction", symlinks=True)
    release(settings, "2025-02", "--reason", "January and February re-delivered")
    return settings


def test_a_release_records_its_inputs_code_and_access_in_a_chained_log(released):
    log = read_log(released)
    assert [e["version"] for e in log] == ["2025-02", "2025-03", "2025-02-v2"]
    assert log[2]["compared_with"] == "2025-03"
    assert log[0]["previous_entry_sha256"] is None
    assert all(e["previous_entry_sha256"] for e in log[1:])
    assert log[0]["announced_for"] == "2025-04-24" and log[1]["announced_for"] == "2025-05-29"
    assert log[0]["pre_release_access"]["granted"] and log[0]["pre_release_access"]["people"] > 0
    for entry in log:
        folder = released.published_dir / entry["version"]
        assert {"inputs/inputs.json", "inputs/publication.toml", "reference_loads.csv"} <= set(
            entry["files"]
        )
        assert not folder.stat().st_mode & 0o222  # the folder is read-only, as are its files
        assert all(not p.stat().st_mode & 0o222 for p in folder.rglob("*"))
    # the reference extract it was built from is named, and its table published
    edition = released.published_dir / "2025-02"
    assert "inspections/inspections.csv" in (edition / "reference_loads.csv").read_text()
    assert len((edition / "csv" / "inspection_league_table.csv").read_text().splitlines()) > 20
    # the bulletin gives the next edition's date from the calendar, and the access list
    bulletin = (released.published_dir / "2025-02" / "bulletin.html").read_text()
    assert "Published 24 April 2025. Next update: 29 May 2025" in bulletin
    assert "Pre-release access of up to 24 hours" in bulletin
    # 2025-03 revises 2025-02's values for the re-deliveries; the correction 2025-02-v2, built
    # from the same deliveries as 2025-03, revises nothing against it
    revisions = (released.published_dir / "2025-03" / "csv" / "revisions.csv").read_text()
    assert "re-delivered extract" in revisions
    assert (released.published_dir / "2025-02-v2" / "csv" / "revisions.csv").read_text() == (
        "table,subject,group,period,column,previous_value,new_value,reason\n"
    )


@pytest.mark.parametrize("version", ["2025-02", "2025-02-v2"])
def test_a_published_edition_rebuilds_identically(released, version, tmp_path, capsys):
    out = tmp_path / "rebuild"
    code = main(["rebuild", "--edition", version, "--out", str(out),
                 "--landing", str(released.landing_dir),
                 "--data-dir", str(released.data_dir)])  # fmt: skip
    printed = capsys.readouterr()
    assert code == 0, printed.out + printed.err
    lines = printed.out.splitlines()
    published = released.published_dir / version
    files = sorted(str(p.relative_to(published)) for p in published.rglob("*") if p.is_file())
    verdicts = {line.split()[-1]: line.split()[0] for line in lines if line.startswith("identical")}
    assert files and set(verdicts) == set(files), lines  # every file has a verdict
    assert all(verdicts[f] == "identical" for f in files if not f.endswith((".xlsx", ".ods")))
    assert any(f.endswith(".xlsx") for f in files)  # identical, or identical cell by cell
    assert f"Rebuilt {version}" in lines[-1] and "identical to the published" in lines[-1]


def test_verify_finds_an_edited_file_and_an_edited_log_line(released, tmp_path, capsys):
    published = tmp_path / "published"
    shutil.copytree(released.published_dir, published, symlinks=False)
    for path in [published, *published.rglob("*")]:
        path.chmod(0o755 if path.is_dir() else 0o644)
    env = pytest.MonkeyPatch()
    env.setenv("PROBATION_PUBLISHED_DIR", str(published))
    try:
        assert main(["verify"]) == 0
        assert "match the release log" in capsys.readouterr().out

        edited = published / "2025-03" / "csv" / "national_monthly.csv"
        edited.write_text(edited.read_text().replace("[p]", "", 1))
        assert main(["verify"]) == 3
        errors = capsys.readouterr().err.strip().splitlines()
        assert len(errors) == 1 and str(edited) in errors[0] and "changed" in errors[0]
        assert main(["verify", "--edition", "2025-02"]) == 0  # another edition: intact
        capsys.readouterr()

        log = published / RELEASE_LOG
        lines = log.read_text().splitlines()
        first = json.loads(lines[0])
        first["approver"] = "Someone Else"
        log.write_text("\n".join([json.dumps(first), *lines[1:]]) + "\n")
        assert main(["verify", "--edition", "2025-02"]) == 3
        errors = capsys.readouterr().err
        assert "line 1: changed after it was written" in errors

        log.write_text("\n".join(lines[:-1]) + "\n")  # the last entry removed
        assert main(["verify"]) == 3
        errors = capsys.readouterr().err
        assert "the head says 3" in errors and "2025-02-v2: published folder not in" in errors
    finally:
        env.undo()


def test_a_rebuild_stops_at_a_landing_file_that_changed(released, tmp_path, capsys):
    landing = tmp_path / "landing"
    shutil.copytree(released.landing_dir, landing)
    loads = (released.published_dir / "2025-02" / "loads.csv").read_text().splitlines()
    header, row = loads[0].split(","), loads[1].split(",")
    changed = landing / row[header.index("landing_file")]
    changed.write_text(changed.read_text() + "\n")
    code = main(["rebuild", "--edition", "2025-02", "--out", str(tmp_path / "out"),
                 "--landing", str(landing), "--data-dir", str(released.data_dir)])  # fmt: skip
    errors = capsys.readouterr().err.strip().splitlines()
    assert code == 3 and len(errors) == 1  # refused
    assert str(changed) in errors[0] and "changed since it was loaded" in errors[0]
    assert not (tmp_path / "out" / "data").exists()


def test_make_clean_keeps_the_releases(released, tmp_path):
    data = tmp_path / "data"
    shutil.copytree(released.published_dir, data / "published", symlinks=True)
    (data / "raw").mkdir()
    (data / "warehouse.duckdb").write_text("")
    result = subprocess.run(
        ["make", "-s", "-C", str(PROJECT_ROOT), "clean", f"DATA={data}", "DBT_ARTEFACTS="],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert sorted(p.name for p in data.iterdir()) == ["published"]
    assert {p.name for p in (data / "published").iterdir()} >= {RELEASE_LOG, "2025-02"}
    assert "Kept" in result.stdout


def test_a_release_dry_run_changes_nothing_and_the_ods_is_required(released, tmp_path, capsys):
    data = tmp_path / "data"
    shutil.copytree(released.data_dir.parent / "before_correction", data, symlinks=True)
    for path in [data / "published", *(data / "published").rglob("*")]:
        path.chmod(0o755 if path.is_dir() else 0o644)  # a copy this test may change
    common = ["release", "--edition", "2025-02", "--approver", APPROVER, "--reason", "a test",
              "--data-dir", str(data)]  # fmt: skip
    args = [*common, "--access-granted", granted()]
    log = (data / "published" / RELEASE_LOG).read_text()
    assert main([*args, "--dry-run"]) == 0
    out = capsys.readouterr().out
    assert "Dry run: nothing was changed" in out and "2025-02-v2" in out
    assert not (data / "published" / "2025-02-v2").exists()
    assert (data / "published" / RELEASE_LOG).read_text() == log
    # Pre-release access is required, and no longer ago than publication.toml allows.
    assert main(common) == 3  # refused
    assert "--access-granted" in capsys.readouterr().err
    too_early = (datetime.now(UTC) - timedelta(hours=30)).isoformat(timespec="minutes")
    assert main([*common, "--access-granted", too_early]) == 3
    assert "more than 24 hours before release" in capsys.readouterr().err
    # Staged where LibreOffice was missing (no ODS): refused unless --xlsx-only says why.
    staged = data / "staging" / "2025-02"
    for ods in staged.glob("*.ods"):
        ods.unlink()
    write_result(staged, read_result(staged), content_digest(staged))
    assert main(args) == 3
    assert "has no ODS workbook" in capsys.readouterr().err
    assert main([*args, "--xlsx-only", "LibreOffice unavailable on the release machine"]) == 0
    entry = read_log(Settings.from_env(data_dir=data))[-1]
    assert entry["workbooks"] == "XLSX only: LibreOffice unavailable on the release machine"

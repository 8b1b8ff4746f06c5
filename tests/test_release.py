"""Validation, release and revisions on the reviewed demo (edition 2022-03), and the bulletin
rendered in a real browser.

A copy of the reviewed demo's data folder is released once; then London's contacts for
January 2022 are re-delivered without a quarter of their rows, the pipeline reruns, and the
staged edition must mark exactly the changed values [r] with the re-delivery as the reason,
and be released as a correction (2022-03-v2) beside the first release.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from datetime import UTC, datetime, timedelta
from html.parser import HTMLParser

import duckdb
import pandas as pd
import pytest

from orchestration.cli import main
from orchestration.ingest.landing import latest_delivery
from orchestration.publication.validation import table_checks, validate_edition
from orchestration.release.publish import (
    ReleaseRefused,
    folder_hashes,
    release_edition,
    staged_state,
)
from orchestration.running.runner import run_pipeline
from orchestration.settings import Settings

pytestmark = pytest.mark.pipeline

EDITION = "2022-03"
APPROVER = "A Statistician"


def copy_of(settings: Settings, tmp_path) -> Settings:
    shutil.copytree(settings.data_dir, tmp_path / "data")
    return Settings.from_env(settings.landing_dir, tmp_path / "data")


def published_cells(settings: Settings) -> pd.DataFrame:
    with duckdb.connect(str(settings.warehouse_path), read_only=True) as con:
        return con.execute(
            "select subject as measure_code, geography_code, period, numerator, denominator "
            "from publication_cells where table_group = 'MEASURE' and counts_published "
            "and breakdown = 'NATIONAL' and period_type = 'MONTH'"
        ).df()


def test_staged_edition_is_validated_with_data_docs(reviewed_demo):
    settings, summary = reviewed_demo
    state = staged_state(settings, EDITION)
    assert state.releasable, state.problem
    folder = settings.staging_dir / EDITION
    result = json.loads((folder / "validation" / "result.json").read_text())
    names = {check["name"] for check in result["checks"]}
    rules = {"national_equals_sum_of_regions", "no_value_in_suppressed_periods",
             "confidential_cells_are_justified", "every_note_referenced_exists"}  # fmt: skip
    assert rules <= names and result["success"]
    assert (folder / "validation" / "data_docs" / "index.html").exists()
    by_name = {check["name"]: check for check in result["checks"]}
    assert by_name["national_equals_sum_of_regions"]["rows"] >= 40
    assert by_name["confidential_cells_are_justified"]["rows"] > 50


def test_release_is_refused_when_validation_failed_or_the_build_changed(reviewed_demo, tmp_path):
    settings = copy_of(reviewed_demo[0], tmp_path)
    folder = settings.staging_dir / EDITION
    # A staged table that breaks a rule: a percentage above 100. Great Expectations fails it.
    table = pd.read_parquet(folder / "parquet" / "national_monthly.parquet")
    table.loc[table["performance_pct"].notna().idxmax(), "performance_pct"] = 150.0
    table.to_parquet(folder / "parquet" / "national_monthly.parquet", index=False)
    from orchestration.release.publish import content_digest

    outcome = validate_edition(
        folder, table_checks({"national_monthly": table}), content_digest(folder)
    )
    assert not outcome["success"]
    with pytest.raises(ReleaseRefused, match="failed validation: national_monthly: "
                       "expect_column_values_to_be_between performance_pct"):  # fmt: skip
        release_edition(settings, EDITION, APPROVER)

    # Valid again, then a staged file changes after validation: refused.
    table.loc[table["performance_pct"].eq(150.0), "performance_pct"] = 50.0
    table.to_parquet(folder / "parquet" / "national_monthly.parquet", index=False)
    assert validate_edition(
        folder, table_checks({"national_monthly": table}), content_digest(folder)
    )["success"]
    (folder / "csv" / "quality.csv").write_text("tampered\n")
    with pytest.raises(ReleaseRefused, match="changed after they were validated"):
        release_edition(settings, EDITION, APPROVER)
    assert not settings.published_dir.exists() or not any(settings.published_dir.iterdir())


def test_release_is_refused_when_the_gate_held_the_latest_build(demo_run, reviewed_demo, tmp_path):
    # The held demo run never staged the edition.
    assert "not staged" in staged_state(demo_run[0], EDITION).problem
    # A staged build whose latest candidate the gate held is not released either.
    settings = copy_of(reviewed_demo[0], tmp_path)
    gate = settings.candidates_dir / EDITION / "gate.json"
    gate.write_text(json.dumps({"passed": False, "problems": ["unreviewed flag"]}))
    with pytest.raises(ReleaseRefused, match="held by the quality gate"):
        release_edition(settings, EDITION, APPROVER)


def test_release_publishes_once_logs_every_hash_and_a_redelivery_is_a_revised_correction(
    reviewed_demo, tmp_path, capsys
):
    settings = copy_of(reviewed_demo[0], tmp_path)
    granted = (datetime.now(UTC) - timedelta(hours=2)).isoformat(timespec="minutes")
    data = ["--data-dir", str(settings.data_dir), "--access-granted", granted]
    assert main(["release", "--edition", EDITION, "--approver", APPROVER, *data]) == 0
    published = settings.published_dir / EDITION
    log = [json.loads(line) for line in (settings.published_dir / "release_log.jsonl").open()]
    assert len(log) == 1 and log[0]["approver"] == APPROVER and log[0]["version"] == EDITION
    assert log[0]["files"] == folder_hashes(published)  # every file, hashed
    assert {"bulletin.html", "validation/result.json", "data_dictionary.csv",
            f"probation-performance-{EDITION}.xlsx"} <= set(log[0]["files"])  # fmt: skip
    assert re.fullmatch(r"[0-9a-f]{40}|unknown", log[0]["git_commit"])
    capsys.readouterr()
    # Released again: refused (exit 3) with one line; nothing changes.
    assert main(["release", "--edition", EDITION, "--approver", APPROVER, *data]) == 3
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "already published" in err[0] and "--reason" in err[0]

    # London's contacts for January 2022 are re-delivered without a quarter of their rows. The
    # re-delivery is written into the shared demo landing zone for this run only (a copy of the
    # landing zone at another path would make every month look new) and removed afterwards.
    before = published_cells(settings)
    newest = latest_delivery(settings.landing_dir, "contacts", "2022-01")  # the demo's _r2/_r3
    lines = newest.path.read_text().splitlines()
    kept = [lines[0]] + [
        line for i, line in enumerate(lines[1:]) if not (",N07," in line and i % 4 == 0)
    ]
    redelivery = newest.path.with_name(f"contacts_2022-01_r{newest.revision + 1}.csv")
    redelivery.write_text("\n".join(kept) + "\n")
    try:
        summary = run_pipeline(settings, quiet=True, log_level="CRITICAL")
    finally:
        redelivery.unlink()
    assert summary.failures == [] and summary.held == []
    assert summary.loaded == [("contacts", "2022-01")]

    # Exactly the national monthly values that changed in the marts are marked [r].
    after = published_cells(settings)
    changed = before.merge(after, on=["measure_code", "geography_code", "period"])
    changed = changed[
        (changed["numerator_x"] != changed["numerator_y"])
        | (changed["denominator_x"] != changed["denominator_y"])
    ]
    staged = settings.staging_dir / EDITION
    national = pd.read_csv(staged / "csv" / "national_monthly.csv", keep_default_na=False)
    marked = national[national["revision"].eq("[r]")]
    expected = set(zip(changed["measure_code"], changed["period"], strict=True))
    assert expected and set(zip(marked["measure_code"], marked["period"], strict=True)) == expected
    revisions = pd.read_csv(staged / "csv" / "revisions.csv")
    national_rows = revisions[revisions["table"].eq("national_monthly")]
    assert set(zip(national_rows["subject"], national_rows["period"], strict=True)) == expected
    assert national_rows["reason"].str.startswith("re-delivered extract: contacts 2022-01").all()
    assert set(revisions["table"]) >= {"national_monthly", "regional_quarterly"}

    # The correction is released as a new version, with its reason; the log keeps both.
    capsys.readouterr()
    args = ["release", "--edition", EDITION, "--approver", APPROVER, *data]
    assert main([*args, "--reason", "London contacts for January 2022 re-delivered"]) == 0
    log = [json.loads(line) for line in (settings.published_dir / "release_log.jsonl").open()]
    assert [entry["version"] for entry in log] == [EDITION, f"{EDITION}-v2"]
    assert log[1]["compared_with"] == EDITION and "re-delivered" in log[1]["reason"]
    assert (settings.published_dir / f"{EDITION}-v2" / "csv" / "revisions.csv").exists()
    assert folder_hashes(published) == log[0]["files"]  # the first release is untouched
    assert main(["editions", *data[:2]]) == 0
    listing = capsys.readouterr().out
    assert f"{EDITION}-v2" in listing and "published" in listing
    assert main(["editions", "--json", *data[:2]]) == 0
    rows = json.loads(capsys.readouterr().out)  # JSON alone on stdout
    released = {r["edition"]: r for r in rows if r["where"] == "published"}
    assert list(released) == [EDITION, f"{EDITION}-v2"]
    assert released[EDITION]["approver"] == APPROVER and released[EDITION]["reason"] == (
        "first release"
    )
    assert datetime.fromisoformat(released[f"{EDITION}-v2"]["released_at"]).tzinfo is not None
    assert all(set(r) == set(rows[0]) for r in rows)  # the same keys on every row


class _Elements(HTMLParser):
    """Counts of the elements a rendered page holds, and the alt texts of its images."""

    def __init__(self):
        super().__init__()
        self.counts: dict[str, int] = {}
        self.labels: list[str] = []
        self.headings: list[int] = []

    def handle_starttag(self, tag, attrs):
        self.counts[tag] = self.counts.get(tag, 0) + 1
        attributes = dict(attrs)
        if attributes.get("role") == "img":
            self.labels.append(attributes.get("aria-label", ""))
        if re.fullmatch(r"h[1-6]", tag):
            self.headings.append(int(tag[1]))


def test_the_bulletin_renders_in_a_browser_with_every_chart_and_table(
    reviewed_demo, chromium, tmp_path
):
    settings, _ = reviewed_demo
    bulletin = settings.staging_dir / EDITION / "bulletin.html"
    folder = settings.staging_dir / EDITION
    national = pd.read_parquet(folder / "parquet" / "national_monthly.parquet")
    measures = national["measure_code"].nunique()
    common = [chromium, "--headless", "--no-sandbox", "--disable-gpu"]
    screenshot = tmp_path / "bulletin.png"  # kept with the test's temporary files
    shot = subprocess.run(
        [*common, f"--screenshot={screenshot}", "--window-size=1280,2400", bulletin.as_uri()],
        capture_output=True, text=True, timeout=180, check=False,
    )  # fmt: skip
    assert screenshot.exists() and screenshot.stat().st_size > 10_000, shot.stderr[-2000:]
    dom = subprocess.run(
        [*common, "--dump-dom", bulletin.as_uri()],
        capture_output=True, text=True, timeout=180, check=True,
    ).stdout  # fmt: skip
    elements = _Elements()
    elements.feed(dom)
    charts = measures + 1  # one per measure and the regional comparison
    assert elements.counts.get("svg", 0) == charts
    assert len(elements.labels) == charts and all(len(label) > 30 for label in elements.labels)
    # a data table beside every chart, and the ratings, quality and revisions tables
    assert elements.counts.get("table", 0) >= charts + 2
    assert elements.headings[0] == 1 and all(
        b - a <= 1 for a, b in zip(elements.headings, elements.headings[1:], strict=False)
    )  # headings in order
    assert "service levels met their target" in dom and "Quality statement" in dom


def test_a_cell_completed_by_later_deliveries_is_not_called_a_quality_decision():
    from types import SimpleNamespace

    from orchestration.publication.revisions import _reason

    def row(before_status, before_symbol):
        return SimpleNamespace(
            period="2025-02", yearly=False, quality_status_now="OK", quality_status_before="OK",
            count_shorthand_now="", count_shorthand_before=before_symbol,
            cell_status_now="published", cell_status_before=before_status,
        )  # fmt: skip

    now = {("contacts", "2025-02"): "revision 2, SHA-256 5aee46ee8dd7"}
    before = {("contacts", "2025-02"): "revision 1, SHA-256 0123456789ab"}
    completed = _reason(row("not yet complete", "[x]"), ["contacts"], now, before, {"2025-02"})
    assert completed == "re-delivered extract: contacts 2025-02 (revision 2, SHA-256 5aee46ee8dd7)"
    released = _reason(row("suppressed", "[x]"), ["contacts"], now, before, {"2025-02"})
    assert released.startswith("quality decision")

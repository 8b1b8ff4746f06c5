"""The release log's hash chain on its own: an edited or removed entry, a log cut short, and a
log written before the chain existed (accepted until its next release chains to it)."""

from __future__ import annotations

import json

import pytest

from orchestration.release.publish import LOG_HEAD, RELEASE_LOG, append_log, log_problems
from orchestration.settings import Settings

pytestmark = pytest.mark.unit


@pytest.fixture
def settings(tmp_path, monkeypatch) -> Settings:
    monkeypatch.delenv("PROBATION_PUBLISHED_DIR", raising=False)
    settings = Settings.from_env(tmp_path / "landing", tmp_path / "data")
    settings.published_dir.mkdir(parents=True)
    return settings


def test_a_log_from_before_the_chain_is_accepted_and_the_next_release_chains_to_it(settings):
    log = settings.published_dir / RELEASE_LOG
    log.write_text(json.dumps({"version": "2024-01", "edition": "2024-01"}) + "\n")
    assert log_problems(settings) == []
    append_log(settings, {"version": "2024-02", "edition": "2024-02"})
    assert log_problems(settings) == []
    old, new = log.read_text().splitlines()
    first = json.loads(old)
    first["approver"] = "someone"
    log.write_text(json.dumps(first) + "\n" + new + "\n")
    assert [p.split(": ", 1)[1] for p in log_problems(settings)] == [
        "changed after it was written (line 2's chain hash no longer matches it)"
    ]


def test_the_head_finds_a_log_cut_short_or_its_last_entry_edited(settings):
    for month in ("2024-01", "2024-02", "2024-03"):
        append_log(settings, {"version": month, "edition": month})
    log = settings.published_dir / RELEASE_LOG
    lines = log.read_text().splitlines()
    log.write_text("\n".join(lines[:2]) + "\n")
    assert any("holds 2 entries, the head says 3" in p for p in log_problems(settings))
    last = json.loads(lines[2])
    last["reason"] = "edited"
    log.write_text("\n".join([*lines[:2], json.dumps(last)]) + "\n")
    assert any("line 3: changed after it was written" in p for p in log_problems(settings))
    (settings.published_dir / LOG_HEAD).unlink()
    assert any("missing" in p for p in log_problems(settings))

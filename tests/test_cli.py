"""The command line explains itself: no arguments print the help, every command's help says
what it does, its defaults and its exit codes, and the codes tell apart done (0), failed (1),
a usage error (2) and a refusal (3). `flags --json` and `editions --json` print JSON alone on
stdout; a folder the command cannot write is one line naming it, before any work.

Most tests here need no pipeline run (unit tier); the two marked `pipeline` read the session's
fixture run."""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys

import pytest

from orchestration.business_calendar import SEED_PATH
from orchestration.business_calendar import main as calendar_main
from orchestration.cli import _parser, main
from orchestration.settings import PROJECT_ROOT

COMMANDS = ("demo-data", "run", "flags", "release", "verify", "rebuild", "editions")
CLASS_NAME = re.compile(r"\b[A-Z][a-z]+(Error|Exception|Refused|Failed)\b")


def _commands() -> dict[str, argparse.ArgumentParser]:
    (action,) = [a for a in _parser()._actions if isinstance(a, argparse._SubParsersAction)]
    return dict(action.choices)


def _help(capsys, *args: str) -> str:
    with pytest.raises(SystemExit) as exit_:
        main([*args, "--help"])
    assert exit_.value.code == 0
    return capsys.readouterr().out


@pytest.mark.unit
def test_no_arguments_prints_the_help_and_exits_0(capsys):
    assert main([]) == 0
    printed = capsys.readouterr()
    assert printed.out.startswith("usage: probation-pipeline") and printed.err == ""
    for command in COMMANDS:
        assert re.search(rf"^\s+{command}\s+\w", printed.out, re.M), command
    assert "calendar-seed" not in printed.out  # a developer's task: make calendar-seed
    assert "exit codes:" in printed.out and "3  refused" in printed.out


@pytest.mark.unit
def test_the_installed_command_without_arguments_prints_the_help():
    result = subprocess.run(
        [sys.executable, "-m", "orchestration.cli"],
        capture_output=True, text=True, check=False, cwd=PROJECT_ROOT,
        env={**os.environ, "PYTHONPATH": str(PROJECT_ROOT)},
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("usage: probation-pipeline")


@pytest.mark.unit
@pytest.mark.parametrize("command", COMMANDS)
def test_every_command_has_a_description_defaults_and_exit_codes(command, capsys):
    subparser = _commands()[command]
    assert subparser.description and len(subparser.description) > 60
    out = _help(capsys, command)
    assert subparser.description.split()[0] in out
    codes = out[out.index("exit codes:") :]
    for code in ("0", "2", "130"):
        assert re.search(rf"^\s+{code}  \w", codes, re.M), (command, codes)
    if command in ("release", "rebuild", "verify"):
        assert re.search(r"^\s+3  refused", codes, re.M), codes
    else:
        assert not re.search(r"^\s+3  ", codes, re.M), codes
    text = " ".join(out.split())
    if "--data-dir" in out:
        assert "the data folder" in text and "(default: $PROBATION_DATA_DIR, else " in text
        assert str(PROJECT_ROOT / "data") in text
    if "--landing" in out or command == "demo-data":
        assert "(default: $PROBATION_LANDING_DIR, else landing/ in the data folder" in text
        assert str(PROJECT_ROOT / "data" / "landing") in text
    assert "landing folder" not in text  # the same words everywhere: the landing zone


@pytest.mark.unit
def test_every_option_says_what_it_does(capsys):
    for command, subparser in _commands().items():
        for action in subparser._actions:
            assert action.help, f"{command} {action.option_strings}: no help"


@pytest.mark.unit
def test_a_usage_error_is_one_line_and_exits_2(capsys):
    assert main(["run", "--start", "2021-13"]) == 2
    assert main(["verify", "--unknown"]) == 2
    assert main(["calendar-seed"]) == 2  # no longer a command
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 3 and all(line.startswith("error: ") for line in lines), lines
    assert "invalid choice: 'calendar-seed'" in lines[2]


@pytest.mark.unit
@pytest.mark.parametrize("command", ["flags", "editions"])
def test_json_on_an_empty_data_folder_is_an_empty_array(command, tmp_path, capsys):
    assert main([command, "--json", "--data-dir", str(tmp_path / "data")]) == 0
    assert json.loads(capsys.readouterr().out) == []


@pytest.mark.unit
def test_flags_before_any_run_lists_none(tmp_path, capsys):
    assert main(["flags", "--data-dir", str(tmp_path)]) == 0
    printed = capsys.readouterr()
    assert printed.out.startswith("No quality flags yet") and printed.err == ""


@pytest.mark.pipeline
def test_flags_json_has_the_tables_fields(fixture_run, capsys, monkeypatch):
    settings, _ = fixture_run
    monkeypatch.delenv("PROBATION_REVIEWS_FILE", raising=False)
    assert main(["flags", "--data-dir", str(settings.data_dir)]) == 0
    table = capsys.readouterr().out.splitlines()
    assert main(["flags", "--json", "--data-dir", str(settings.data_dir)]) == 0
    flags = json.loads(capsys.readouterr().out)
    assert len(flags) == len(table) - 2  # the table's header and summary lines aside
    keys = ["flag_id", "rule", "subject", "geography", "month", "status", "review", "decision",
            "reviewer", "reviewed_on", "pending", "detail"]  # fmt: skip
    for flag in flags:
        assert list(flag) == keys
        assert re.fullmatch(r"\d{4}-\d{2}", flag["month"]) and flag["status"] in (
            "WARN", "SUPPRESS", "OK"
        )  # fmt: skip
        assert flag["reviewed_on"] is None or re.fullmatch(
            r"\d{4}-\d{2}-\d{2}", flag["reviewed_on"]
        )
        assert flag["flag_id"] in "\n".join(table)


@pytest.mark.pipeline
def test_editions_json_lists_the_staged_edition(fixture_run, capsys):
    settings, summary = fixture_run
    assert main(["editions", "--json", "--data-dir", str(settings.data_dir)]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert [r["edition"] for r in rows] == [summary.edition]
    assert list(rows[0]) == ["edition", "where", "state", "released_at", "approver", "reason"]
    assert rows[0]["where"] == "staging" and rows[0]["released_at"] is None


def _under_a_file(tmp_path):
    """A folder nobody can create, root included: its parent is a file."""
    (tmp_path / "afile").write_text("not a folder")
    return tmp_path / "afile" / "data"


@pytest.mark.unit
def test_a_data_folder_that_cannot_be_written_is_one_line_before_any_work(tmp_path, capsys):
    landing = tmp_path / "landing"
    landing.mkdir()
    data = _under_a_file(tmp_path)
    assert main(["run", "--landing", str(landing), "--data-dir", str(data), "--no-history"]) == 2
    (line,) = capsys.readouterr().err.strip().splitlines()
    assert line == f"error: cannot write the data folder {data}: {data.parent} is a file"


@pytest.mark.unit
def test_a_read_only_data_folder_is_named(tmp_path, capsys):
    landing, data = tmp_path / "landing", tmp_path / "data"
    landing.mkdir()
    data.mkdir()
    data.chmod(0o555)
    try:
        if os.access(data, os.W_OK):
            pytest.skip("this user (root) writes a read-only folder anyway")
        assert main(["run", "--landing", str(landing), "--data-dir", str(data)]) == 2
        (line,) = capsys.readouterr().err.strip().splitlines()
        assert line == f"error: cannot write the data folder {data}: permission denied"
    finally:
        data.chmod(0o755)


@pytest.mark.unit
@pytest.mark.parametrize(
    "args, what",
    [
        (["release", "--edition", "2025-02", "--approver", "A Statistician"], "published area"),
        (["rebuild", "--edition", "2025-02", "--out", "{out}"], "rebuild folder (--out)"),
        (["demo-data", "--out", "{out}"], "landing zone"),
    ],
)
def test_every_command_that_writes_names_the_folder_it_cannot_write(args, what, tmp_path, capsys):
    blocked = _under_a_file(tmp_path)
    args = [a.replace("{out}", str(blocked)) for a in args]
    if args[0] == "release":
        args += ["--data-dir", str(blocked)]
    assert main(args) == 2
    (line,) = capsys.readouterr().err.strip().splitlines()
    assert (
        line.startswith(f"error: cannot write the {what} {blocked}") and "afile is a file" in line
    )


@pytest.mark.unit
def test_a_refused_release_exits_3(tmp_path, capsys):
    args = ["release", "--edition", "2025-02", "--approver", "A Statistician"]
    assert main([*args, "--data-dir", str(tmp_path)]) == 3
    (line,) = capsys.readouterr().err.strip().splitlines()
    assert line.startswith("error: refused: edition 2025-02 is not staged")
    assert not CLASS_NAME.search(line)


@pytest.mark.unit
def test_a_refused_rebuild_and_a_broken_release_log_exit_3(tmp_path, capsys):
    out = ["--out", str(tmp_path / "out"), "--data-dir", str(tmp_path / "data")]
    assert main(["rebuild", "--edition", "2025-02", *out]) == 3
    assert "not in the release log" in capsys.readouterr().err
    published = tmp_path / "data" / "published"
    published.mkdir(parents=True)
    (published / "release_log.jsonl").write_text("not json\n")
    assert main(["verify", "--data-dir", str(tmp_path / "data")]) == 3
    assert "line 1: not a log entry" in capsys.readouterr().err
    assert main(["verify", "--edition", "2030-01", "--data-dir", str(tmp_path / "empty")]) == 3
    assert "no such release" in capsys.readouterr().err


@pytest.mark.unit
def test_a_rebuild_into_a_folder_that_is_not_empty_is_a_usage_error(tmp_path, capsys):
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "something").write_text("")
    args = ["rebuild", "--edition", "2025-02", "--out", str(tmp_path / "out")]
    assert main([*args, "--data-dir", str(tmp_path / "data")]) == 2
    assert "not an empty folder" in capsys.readouterr().err


@pytest.mark.unit
def test_the_calendar_seed_is_a_module_entry_point(tmp_path, capsys):
    assert calendar_main([str(tmp_path / "calendar.csv")]) == 0
    assert (tmp_path / "calendar.csv").read_bytes() == SEED_PATH.read_bytes()
    assert capsys.readouterr().out == f"Wrote {tmp_path / 'calendar.csv'}\n"
    assert calendar_main(["--help"]) == 2

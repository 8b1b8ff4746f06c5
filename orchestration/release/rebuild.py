"""Rebuild a published edition from what it was built from, and compare it with what was
published: the answer to "how was this figure made?" years later.

An edition keeps the three things it was made from:
- its load ledger (`loads.csv`): each landing file, its revision and SHA-256. The rebuild
  copies exactly those files (and their control files) from the landing zone into a landing
  zone of its own, and stops at the first that is missing or changed;
- the statistician's inputs as released (`inputs/`, orchestration/release/edition_inputs.py);
- the code: the release log's git commit. When the checkout is at another commit, or its
  tracked files differ from it, the rebuild runs the code of a git worktree of that commit.

The edition it was compared with (its revisions are against that release) is copied from the
published area into the rebuild's own. Then `probation-pipeline run` of that code builds the
edition in a fresh data folder, in a process of its own, and every file is compared with the
published one (orchestration/release/edition_compare.py). Nothing here writes outside `--out`, but
for
the git worktree's registration, removed at the end.
"""

from __future__ import annotations

import csv
import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from orchestration.ingest.landing import CONTROL_SUFFIX
from orchestration.release.edition_compare import FileVerdict, compare_editions
from orchestration.release.edition_inputs import INPUTS_DIR, MANIFEST, rebuild_environment
from orchestration.release.publish import RELEASE_LOG, file_sha256, git, read_log
from orchestration.settings import PROJECT_ROOT, Settings


class RebuildRefused(Exception):
    """A rebuild that cannot start, with the one-line reason (`probation-pipeline rebuild`
    exits 3)."""


class RebuildFailed(Exception):
    """A rebuild that started and broke (git, or its pipeline run), with the one-line reason
    (exit 1)."""


@dataclass
class RebuildReport:
    version: str
    commit: str
    code: str  # "this checkout" or "a git worktree of <commit>"
    folder: Path  # the rebuilt edition
    verdicts: list[FileVerdict] = field(default_factory=list)
    seconds: float = 0.0
    notes: list[str] = field(default_factory=list)

    @property
    def identical(self) -> bool:
        return bool(self.verdicts) and all(v.ok for v in self.verdicts)


def release_entry(settings: Settings, version: str) -> dict:
    """The release log entry of a published version (2025-02, 2025-02-v2)."""
    for entry in read_log(settings):
        if entry["version"] == version:
            return entry
    known = ", ".join(e["version"] for e in read_log(settings)) or "none"
    raise RebuildRefused(f"--edition {version}: not in the release log (released: {known})")


def _ledger_rows(path: Path) -> list[dict]:
    with path.open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def ledger_files(published: Path, landing: Path) -> list[tuple[Path, str]]:
    """The landing files the edition was built from (its loads.csv, and reference_loads.csv for
    the reference extracts), each checked by path and SHA-256: (file, its path inside a landing
    zone). Raises RebuildRefused naming the first missing or changed file."""
    rows = _ledger_rows(published / "loads.csv")
    if rows and "landing_file" not in rows[0]:
        raise RebuildRefused(
            f"{published / 'loads.csv'}: names no landing files (released before editions kept "
            "them): this edition cannot be rebuilt exactly"
        )
    listed = [
        ("loads.csv", line, row, f"{row['extract']} {row['month_key']} revision "
         f"{row['source_revision']}")
        for line, row in enumerate(rows, 2)
    ]  # fmt: skip
    reference = published / "reference_loads.csv"
    if reference.is_file():
        listed += [
            ("reference_loads.csv", line, row, f"the reference extract {row['extract']}")
            for line, row in enumerate(_ledger_rows(reference), 2)
        ]
    files = []
    for ledger, line, row, fed in listed:
        path = landing / row["landing_file"]
        if not path.is_file():
            raise RebuildRefused(f"{path}: missing ({ledger} line {line}: it fed {fed})")
        if file_sha256(path) != row["source_sha256"]:
            raise RebuildRefused(
                f"{path}: changed since it was loaded (SHA-256 {row['source_sha256'][:12]} in "
                f"{ledger} line {line}, for {fed})"
            )
        files.append((path, row["landing_file"]))
    return files


def _copy(source: Path, target: Path) -> None:
    """Copy a landing file with its modification time (the extraction time when there is no
    control file): a hard link where the file system allows, else a copy."""
    target.parent.mkdir(parents=True, exist_ok=True)
    try:
        os.link(source, target)
    except OSError:
        shutil.copy2(source, target)


def code_checkout(commit: str, out: Path) -> tuple[Path, str]:
    """Where the code of `commit` is: this checkout when it is at that commit with no change
    to a tracked file, else a new git worktree in `out/code`. Raises RebuildRefused when the
    commit is not in the repository, RebuildFailed when git cannot make the worktree."""
    if not commit or commit == "unknown" or git("cat-file", "-e", f"{commit}^{{commit}}") is None:
        raise RebuildRefused(
            f"commit {commit or 'unknown'} (from the release log) is not in the repository at "
            f"{PROJECT_ROOT}: fetch it, then run the rebuild again"
        )
    if (
        git("rev-parse", "HEAD") == commit
        and git("status", "--porcelain", "--untracked-files=no") == ""
    ):
        return PROJECT_ROOT, "this checkout"
    worktree = out / "code"
    if git("worktree", "add", "--detach", str(worktree), commit) is None:
        raise RebuildFailed(f"git could not make a worktree of {commit} in {worktree}")
    return worktree, f"a git worktree of {commit[:12]} in {worktree}"


def _published_before(settings: Settings, entry: dict, data: Path) -> None:
    """The release the edition was compared with, copied into the rebuild's published area
    with a log naming it the latest release."""
    published = data / "published"
    published.mkdir(parents=True)
    compared = entry.get("compared_with")
    if not compared:
        return
    before = release_entry(settings, compared)
    shutil.copytree(settings.published_dir / compared, published / compared, symlinks=False)
    for path in (published / compared).rglob("*"):
        path.chmod(0o755 if path.is_dir() else 0o644)  # a working copy, not a release
    logged = {**before, "folder": str(published / compared)}
    (published / RELEASE_LOG).write_text(json.dumps(logged) + "\n", encoding="utf-8")


def _environment(code: Path, out: Path, published: Path) -> dict[str, str]:
    """The rebuild's environment: this one without the pipeline's own settings, the edition's
    inputs, and the code of `code` first on the import path."""
    machine = ("PROBATION_SOFFICE", "PROBATION_KEEP_LOGS")  # this machine's, not the edition's
    env = {k: v for k, v in os.environ.items() if not k.startswith("PROBATION_") or k in machine}
    env.update(rebuild_environment(published))
    env["PROBATION_PUBLISHED_DIR"] = str(out / "data" / "published")
    env["PYTHONPATH"] = str(code)
    env.pop("DAGSTER_HOME", None)
    return env


def rebuild_edition(
    settings: Settings,
    version: str,
    out: Path,
    progress: Callable[[str], None] = print,
) -> RebuildReport:
    """Rebuild a published version into `out` and compare it with the published files.
    Raises RebuildRefused before any work when it cannot be rebuilt exactly (nothing to
    rebuild from, a landing file missing or changed, an unknown commit), RebuildFailed when
    the rebuild's pipeline run fails or stages no edition."""
    began = time.perf_counter()
    entry = release_entry(settings, version)
    published = settings.published_dir / version
    if not published.is_dir():
        raise RebuildRefused(f"{published}: the published edition is missing")
    if not (published / INPUTS_DIR / MANIFEST).is_file():
        raise RebuildRefused(
            f"{published}: keeps no {INPUTS_DIR}/ (released before editions kept their "
            "inputs): this edition cannot be rebuilt exactly"
        )
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise RebuildRefused(f"--out {out}: not an empty folder")
    files = ledger_files(published, settings.landing_dir)
    commit = entry.get("git_commit", "unknown")
    out.mkdir(parents=True, exist_ok=True)
    code, where = code_checkout(commit, out.resolve())
    report = RebuildReport(version, commit, where, out / "data" / "staging" / entry["edition"])
    if entry.get("git_clean") is False:
        report.notes.append(
            "the release was made from a checkout with uncommitted changes: the commit may "
            "not be all the code it ran"
        )
    progress(f"Rebuilding {version} with the code of {where}")
    try:
        for source, relative in files:
            _copy(source, out / "landing" / relative)
            control = source.with_name(source.name + CONTROL_SUFFIX)
            if control.is_file():
                _copy(control, out / "landing" / (relative + CONTROL_SUFFIX))
        progress(f"  {len(files)} landing files checked by SHA-256 and copied to {out / 'landing'}")
        _published_before(settings, entry, out / "data")
        command = [
            sys.executable, "-m", "orchestration.cli", "run", "--landing", str(out / "landing"),
            "--data-dir", str(out / "data"), "--edition", entry["edition"], "--no-history",
        ]  # fmt: skip
        log = out / "rebuild.log"
        progress(f"  running the pipeline (its output: {log})")
        with log.open("w", encoding="utf-8") as handle:
            result = subprocess.run(
                command, cwd=code, env=_environment(code, out, published),
                stdout=handle, stderr=subprocess.STDOUT, check=False,
            )  # fmt: skip
        if result.returncode != 0:
            last = log.read_text(encoding="utf-8").strip().splitlines()[-1:] or ["no output"]
            raise RebuildFailed(f"the pipeline run failed: {last[0]} (log: {log})")
        if not report.folder.is_dir():
            raise RebuildFailed(f"the run staged no edition {entry['edition']} (log: {log})")
        report.verdicts = compare_editions(published, report.folder)
    finally:
        if code != PROJECT_ROOT:
            git("worktree", "remove", "--force", str(code))
    report.seconds = time.perf_counter() - began
    return report

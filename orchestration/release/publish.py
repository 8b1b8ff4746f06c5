"""Release: a person copies a staged edition to `published/`, once, after the gate and the
validation passed for exactly that staged build.

- `staged_state` says what a staged edition is: built (the gate passed: `edition.json`),
  validated (`validation/result.json` passed) and unchanged since (the digest of its content
  equals the one validated).
- `release_edition` refuses with one line unless all three hold, the release calendar
  pre-announced the edition, the ODS is there (or `xlsx_only` gives the reason it is not) and,
  when anyone has pre-release access, the time it was granted is given. It never overwrites a
  published edition: releasing it again is refused, and a correction is released with a
  reason as a new version (`2025-03-v2`). The copy is swapped in atomically, made read-only
  (files and folders), and recorded in `release_log.jsonl` (edition, version, time, approver,
  reason, pre-release access, git commit and whether the checkout was clean, code digest,
  package version, SHA-256 of every file). `dry_run` says what it would do and does nothing.
- The log is a hash chain: each entry carries the SHA-256 of the line before it, and
  `release_log.head` the number of entries and the SHA-256 of the last, so `verify_published`
  finds an edited, removed or truncated entry as well as a published file that changed, went
  missing or was added.
- `edition_states` lists staged and published editions for `probation-pipeline editions`.

No command deletes the published area (`PROBATION_PUBLISHED_DIR`, else `<data>/published`).
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import stat
import subprocess
import tomllib
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from importlib import metadata
from pathlib import Path
from zoneinfo import ZoneInfo

from orchestration.atomic import building
from orchestration.code_digest import code_digest
from orchestration.publication.validation import VALIDATION_DIR, read_result
from orchestration.release.edition_inputs import INPUTS_DIR
from orchestration.settings import PROJECT_ROOT, TIMEZONE, Settings
from orchestration.warehouse.configuration import access_list, announced_date

RELEASE_LOG = "release_log.jsonl"
LOG_HEAD = "release_log.head"
VERSION = re.compile(r"^(\d{4}-\d{2})(?:-v(\d+))?$")


class ReleaseRefused(Exception):
    """A release that must not happen, with the one-line reason (`probation-pipeline release`
    exits 3)."""


class ReleaseFailed(Exception):
    """A release that was allowed but went wrong on the way, with the one-line reason (exit 1)."""


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def folder_hashes(folder: Path, skip: tuple[str, ...] = ()) -> dict[str, str]:
    """{relative path: SHA-256} of every file in folder, except under the top-level `skip`."""
    return {
        str(p.relative_to(folder)): file_sha256(p)
        for p in sorted(folder.rglob("*"))
        if p.is_file() and p.relative_to(folder).parts[0] not in skip
    }


def content_digest(folder: Path) -> str:
    """One SHA-256 over the staged content (every file but the validation report)."""
    listing = json.dumps(folder_hashes(folder, skip=(VALIDATION_DIR,)), sort_keys=True)
    return hashlib.sha256(listing.encode()).hexdigest()


@dataclass(frozen=True)
class StagedState:
    edition: str
    folder: Path
    built: bool
    validated: bool | None  # None: not validated yet
    unchanged: bool
    problem: str | None  # why it cannot be released, one line

    @property
    def releasable(self) -> bool:
        return self.problem is None


def staged_state(settings: Settings, edition: str) -> StagedState:
    folder = settings.staging_dir / edition
    built = (folder / "edition.json").exists()
    result = read_result(folder) if built else None
    validated = None if result is None else bool(result.get("success"))
    unchanged = result is not None and result.get("content_digest") == content_digest(folder)
    if not folder.exists():
        problem = f"edition {edition} is not staged ({folder} does not exist): run the pipeline"
    elif not built:
        problem = f"edition {edition} was not built: the quality gate did not pass"
    elif not _candidate_passed(settings, edition, folder):
        problem = (
            f"edition {edition}: its latest build was held by the quality gate "
            "(see `probation-pipeline run` or the gate check in the UI); the staged files are "
            "from an earlier build"
        )
    elif result is None or validated is None:
        problem = f"edition {edition} has not been validated (no {VALIDATION_DIR}/result.json)"
    elif not validated:
        failed = [f for c in result["checks"] for f in c["failed"]]
        problem = f"edition {edition} failed validation: {failed[0] if failed else 'see report'}"
    elif not unchanged:
        problem = (
            f"edition {edition}: the staged files changed after they were validated; "
            "rebuild and validate it again (probation-pipeline run --edition "
            f"{edition})"
        )
    else:
        problem = None
    return StagedState(edition, folder, built, validated, unchanged, problem)


def _candidate_passed(settings: Settings, edition: str, folder: Path) -> bool:
    """The staged build comes from the current candidate, and the gate passed it."""
    candidate = settings.candidates_dir / edition
    try:
        staged_id = json.loads((folder / "edition.json").read_text()).get("candidate_id")
        current = json.loads((candidate / "candidate.json").read_text()).get("candidate_id")
        gate = json.loads((candidate / "gate.json").read_text())
    except (OSError, ValueError):
        return False
    return bool(gate.get("passed")) and staged_id == current


def read_log(settings: Settings, skip_unreadable: bool = False) -> list[dict]:
    """The release log's entries; with `skip_unreadable`, without the lines that are no entry
    (which `log_problems` reports), else such a line raises ValueError."""
    path = settings.published_dir / RELEASE_LOG
    if not path.exists():
        return []
    entries = []
    for line in path.read_text().splitlines():
        if not line.strip():
            continue
        try:
            entry = json.loads(line)
        except ValueError:
            if skip_unreadable:
                continue
            raise
        if isinstance(entry, dict) or not skip_unreadable:
            entries.append(entry)
    return entries


def published_versions(settings: Settings, edition: str) -> list[str]:
    """Published folder names of an edition, oldest first (2025-03, 2025-03-v2, ...)."""
    found = []
    for path in settings.published_dir.glob(f"{edition}*"):
        match = VERSION.match(path.name)
        if path.is_dir() and match and match.group(1) == edition:
            found.append((int(match.group(2) or 1), path.name))
    return [name for _, name in sorted(found)]


def git(*args: str, cwd: Path = PROJECT_ROOT) -> str | None:
    """A git command's output in the project (None when git fails or is not there)."""
    try:
        result = subprocess.run(
            ["git", *args], cwd=cwd, capture_output=True, text=True, check=False, timeout=60
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    return result.stdout.strip() if result.returncode == 0 else None


def code_state() -> dict:
    """The code a release is built with: the git commit, whether the checkout's tracked files
    differ from it, and the digest of the code the pipeline runs (orchestration/code_digest.py)."""
    commit = git("rev-parse", "HEAD") or "unknown"
    changed = git("status", "--porcelain", "--untracked-files=no")
    return {
        "git_commit": commit,
        "git_clean": changed == "" if changed is not None else None,
        "code_digest": code_digest(),
    }


READ_ONLY_FILE = stat.S_IRUSR | stat.S_IRGRP | stat.S_IROTH
READ_ONLY_FOLDER = READ_ONLY_FILE | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH


def _make_read_only(folder: Path) -> None:
    """Every file and folder read-only, the folder itself last."""
    for path in sorted(folder.rglob("*"), key=lambda p: -len(p.parts)):
        path.chmod(READ_ONLY_FILE if path.is_file() else READ_ONLY_FOLDER)
    folder.chmod(READ_ONLY_FOLDER)


def staged_publication(folder: Path) -> dict:
    """The publication settings a staged edition was built with (its inputs/ copy)."""
    return tomllib.loads((folder / INPUTS_DIR / "publication.toml").read_text(encoding="utf-8"))


def _access_record(publication: dict, granted: str | None, now: datetime) -> dict:
    """The pre-release access of a release: who, for how long, and when it was granted.
    Raises ReleaseRefused when someone has access and the time is missing or out of bounds."""
    people = access_list(publication)
    hours = publication["pre_release_access"]["hours"]
    if not people:
        if granted:
            raise ReleaseRefused("--access-granted: the pre-release access list is empty")
        return {"granted": False, "list": []}
    if not granted:
        raise ReleaseRefused(
            f"--access-granted: {sum(p['count'] for p in people)} people have pre-release "
            "access (publication.toml): give when it was granted, as "
            "--access-granted 'YYYY-MM-DD HH:MM' (UK time)"
        )
    try:
        when = datetime.fromisoformat(granted)
    except ValueError:
        raise ReleaseRefused(
            f"--access-granted {granted!r}: expected a time YYYY-MM-DD HH:MM (UK time)"
        ) from None
    if when.tzinfo is None:
        when = when.replace(tzinfo=ZoneInfo(TIMEZONE))
    if when > now:
        raise ReleaseRefused(f"--access-granted {granted}: is in the future")
    if now - when > timedelta(hours=hours):
        raise ReleaseRefused(
            f"--access-granted {granted}: more than {hours} hours before release, longer than "
            "the pre-release access publication.toml allows"
        )
    return {
        "granted": True,
        "granted_at": when.isoformat(timespec="minutes"),
        "hours": hours,
        "people": sum(p["count"] for p in people),
        "list": people,
    }


def release_edition(
    settings: Settings,
    edition: str,
    approver: str,
    reason: str | None = None,
    *,
    access_granted: str | None = None,
    xlsx_only: str | None = None,
    dry_run: bool = False,
) -> dict:
    """Publish the staged edition; return the release log entry (with `dry_run`, the entry it
    would log, and nothing written). Raises ReleaseRefused with the one-line reason, or
    ReleaseFailed when the copy differs from the staged files (nothing is published then)."""
    if not VERSION.match(edition) or "-v" in edition:
        raise ReleaseRefused(f"--edition {edition}: expected YYYY-MM")
    if not approver.strip():
        raise ReleaseRefused("--approver: name the person who approves the release")
    state = staged_state(settings, edition)
    if not state.releasable:
        raise ReleaseRefused(state.problem)
    versions = published_versions(settings, edition)
    if versions and not reason:
        raise ReleaseRefused(
            f"edition {edition} is already published ({settings.published_dir / versions[-1]}); "
            "a published edition is never overwritten: release a correction with --reason"
        )
    compared = json.loads((state.folder / "edition.json").read_text()).get("compared_with")
    last = latest_release(settings)
    if (last["version"] if last else None) != compared:
        raise ReleaseRefused(
            f"edition {edition} was built against {compared or 'no earlier release'}, but "
            f"{last['version'] if last else 'nothing'} is the latest release now: rebuild it "
            "(probation-pipeline run) so its revisions are against the latest release"
        )
    if not (state.folder / INPUTS_DIR / "publication.toml").is_file():
        raise ReleaseRefused(
            f"edition {edition} was staged without its inputs ({INPUTS_DIR}/): rebuild it "
            f"(probation-pipeline run --edition {edition})"
        )
    publication = staged_publication(state.folder)
    announced = announced_date(publication, edition)
    if announced is None:
        raise ReleaseRefused(
            f"edition {edition} has no pre-announced date in the release calendar it was "
            "built with: add it to publication.toml [release_calendar] and run the pipeline "
            "again, so the bulletin and the Cover give it"
        )
    has_ods = any(state.folder.glob("*.ods"))
    if not has_ods and not (xlsx_only or "").strip():
        raise ReleaseRefused(
            f"edition {edition} has no ODS workbook (LibreOffice was missing when it was "
            "built): install LibreOffice and run again, or release the XLSX alone with "
            '--xlsx-only "<reason>"'
        )
    now = datetime.now(UTC)
    access = _access_record(publication, access_granted, now)
    name = edition if not versions else f"{edition}-v{len(versions) + 1}"
    target = settings.published_dir / name
    if target.exists() or target.is_symlink():
        raise ReleaseRefused(f"{target} already exists; a published edition is never overwritten")
    entry = {
        "edition": edition,
        "version": name,
        "released_at": now.isoformat(timespec="seconds"),
        "announced_for": announced.isoformat(),
        "approver": approver.strip(),
        "reason": reason or "first release",
        "compared_with": compared,
        "pre_release_access": access,
        "workbooks": "XLSX and ODS" if has_ods else f"XLSX only: {(xlsx_only or '').strip()}",
        **code_state(),
        "package_version": metadata.version("probation-pipeline"),
        "folder": str(target),
        "files": folder_hashes(state.folder),
    }
    if dry_run:
        return entry
    with building(target) as tmp:
        shutil.copytree(state.folder, tmp, symlinks=False)
        copied = folder_hashes(tmp)
        if copied != entry["files"]:
            raise ReleaseFailed(f"edition {edition}: the copy differs from the staged files")
        _make_read_only(tmp)
    append_log(settings, entry)
    return entry


def _line_sha(line: str) -> str:
    return hashlib.sha256(line.encode("utf-8")).hexdigest()


def append_log(settings: Settings, entry: dict) -> None:
    """Add an entry to the release log, chained to the line before it, and move the head."""
    log = settings.published_dir / RELEASE_LOG
    lines = log.read_text(encoding="utf-8").splitlines() if log.exists() else []
    entry["previous_entry_sha256"] = _line_sha(lines[-1]) if lines else None
    line = json.dumps(entry)
    with log.open("a", encoding="utf-8") as handle:
        handle.write(line + "\n")
        handle.flush()
        os.fsync(handle.fileno())
    head = settings.published_dir / LOG_HEAD
    with building(head) as tmp:
        tmp.write_text(f"{len(lines) + 1} {_line_sha(line)}\n", encoding="utf-8")


def log_problems(settings: Settings) -> list[str]:
    """Where the release log is not as it was written: an entry edited or removed (its
    successor's chain hash no longer matches), or the log cut short or its last entry edited
    (the head no longer matches)."""
    log = settings.published_dir / RELEASE_LOG
    head = settings.published_dir / LOG_HEAD
    lines = log.read_text(encoding="utf-8").splitlines() if log.exists() else []
    problems = []
    for number, line in enumerate(lines, 1):
        try:
            entry = json.loads(line)
        except ValueError:
            entry = None
        if not isinstance(entry, dict):
            problems.append(f"{log} line {number}: not a log entry (edited by hand?)")
            continue
        expected = _line_sha(lines[number - 2]) if number > 1 else None
        if entry.get("previous_entry_sha256", expected) != expected:
            problems.append(
                f"{log} line {number - 1}: changed after it was written (line {number}'s "
                "chain hash no longer matches it)"
            )
    if not head.exists():
        chained = any('"previous_entry_sha256"' in line for line in lines)
        if chained:  # a log written before the chain has no head until its next release
            problems.append(f"{head}: missing (the log cannot be checked for truncation)")
        return problems
    count, _, last = head.read_text(encoding="utf-8").strip().partition(" ")
    if not count.isdigit() or int(count) != len(lines):
        problems.append(
            f"{log}: holds {len(lines)} entries, the head says {count}: entries were removed "
            "or added by hand"
        )
    elif lines and _line_sha(lines[-1]) != last:
        problems.append(f"{log} line {len(lines)}: changed after it was written (head differs)")
    return problems


def verify_published(settings: Settings, edition: str | None = None) -> tuple[list[str], int]:
    """Check every published file (or one edition's: a version, or every version of an
    edition) against the release log: (problems, one line each; files checked)."""
    problems = log_problems(settings)
    entries = [
        e
        for e in read_log(settings, skip_unreadable=True)
        if edition in (None, e.get("version"), e.get("edition"))
    ]
    if edition and not entries:
        problems.append(f"--edition {edition}: no such release in the release log")
    checked = 0
    for entry in entries:
        lacking = [k for k in ("version", "released_at", "files") if k not in entry]
        if lacking:
            of = f" of {entry['version']}" if "version" in entry else ""
            problems.append(
                f"{settings.published_dir / RELEASE_LOG}: the entry{of} has no "
                f"{', '.join(lacking)} (edited by hand?)"
            )
            continue
        folder = settings.published_dir / entry["version"]
        if not folder.is_dir():
            problems.append(f"{folder}: missing (released {entry['released_at']})")
            continue
        now = folder_hashes(folder)
        checked += len(now)
        for name, sha in sorted(entry["files"].items()):
            if name not in now:
                problems.append(f"{folder / name}: missing")
            elif now[name] != sha:
                problems.append(
                    f"{folder / name}: changed (SHA-256 now {now[name][:12]}, released {sha[:12]})"
                )
        for name in sorted(set(now) - set(entry["files"])):
            problems.append(f"{folder / name}: added after release")
    if edition is None and settings.published_dir.is_dir():
        logged = {e.get("version") for e in read_log(settings, skip_unreadable=True)}
        for path in sorted(settings.published_dir.iterdir()):
            if VERSION.match(path.name) and path.name not in logged:
                problems.append(f"{path}: published folder not in the release log")
    return problems, checked


def latest_release(settings: Settings) -> dict | None:
    """The last release in the log whose folder still exists (`folder`: where it is now)."""
    for entry in reversed(read_log(settings)):
        folder = settings.published_dir / entry["version"]
        if folder.exists():
            return {**entry, "folder": str(folder)}
    return None


def edition_states(settings: Settings) -> list[dict]:
    """Every staged or published edition: its state in words, for `probation-pipeline
    editions` (each row has the same keys: edition, where, state, and released_at, approver
    and reason, None for a staged edition)."""
    rows = []
    staged = sorted(p.name for p in settings.staging_dir.glob("*") if p.is_dir() and
                    VERSION.match(p.name))  # fmt: skip
    log = read_log(settings)
    for edition in staged:
        state = staged_state(settings, edition)
        versions = published_versions(settings, edition)
        if state.releasable:
            words = "validated, ready to release" if not versions else "validated (published)"
        else:
            words = state.problem or ""
        rows.append(
            {"edition": edition, "where": "staging", "state": words, "released_at": None,
             "approver": None, "reason": None}
        )  # fmt: skip
    for entry in log:
        rows.append(
            {
                "edition": entry["version"],
                "where": "published",
                "state": f"released {entry['released_at']} by {entry['approver']}"
                + (f" ({entry['reason']})" if entry["reason"] != "first release" else ""),
                "released_at": entry["released_at"],
                "approver": entry["approver"],
                "reason": entry["reason"],
            }
        )
    return rows

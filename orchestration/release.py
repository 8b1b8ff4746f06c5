"""Release: a person copies a staged edition to `published/`, once, after the gate and the
validation passed for exactly that staged build.

- `staged_state` says what a staged edition is: built (the gate passed: `edition.json`),
  validated (`validation/result.json` passed) and unchanged since (the digest of its content
  equals the one validated).
- `release_edition` refuses with one line unless all three hold; it never overwrites a
  published edition: releasing it again is refused, and a correction is released with a
  reason as a new version (`2025-03-v2`). The copy is swapped in atomically, made read-only,
  and recorded in `published/release_log.jsonl` (edition, version, time, approver, reason, git
  commit, package version, SHA-256 of every file).
- `edition_states` lists staged and published editions for `probation-pipeline editions`.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import stat
import subprocess
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path

from orchestration.atomic import building
from orchestration.settings import PROJECT_ROOT, Settings
from orchestration.validation import VALIDATION_DIR, read_result

RELEASE_LOG = "release_log.jsonl"
VERSION = re.compile(r"^(\d{4}-\d{2})(?:-v(\d+))?$")


class ReleaseRefused(Exception):
    """A release that must not happen, with the one-line reason."""


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
    unchanged = bool(result) and result.get("content_digest") == content_digest(folder)
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
    elif validated is None:
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


def read_log(settings: Settings) -> list[dict]:
    path = settings.published_dir / RELEASE_LOG
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def published_versions(settings: Settings, edition: str) -> list[str]:
    """Published folder names of an edition, oldest first (2025-03, 2025-03-v2, ...)."""
    found = []
    for path in settings.published_dir.glob(f"{edition}*"):
        match = VERSION.match(path.name)
        if path.is_dir() and match and match.group(1) == edition:
            found.append((int(match.group(2) or 1), path.name))
    return [name for _, name in sorted(found)]


def _git_commit() -> str:
    try:
        result = subprocess.run(
            ["git", "rev-parse", "HEAD"],
            cwd=PROJECT_ROOT,
            capture_output=True,
            text=True,
            check=False,
            timeout=10,
        )
    except OSError:
        return "unknown"
    return result.stdout.strip() or "unknown"


def _make_read_only(folder: Path) -> None:
    for path in folder.rglob("*"):
        if path.is_file():
            path.chmod(stat.S_IRUSR | stat.S_IRGRP | stat.S_IROTH)


def release_edition(
    settings: Settings, edition: str, approver: str, reason: str | None = None
) -> dict:
    """Publish the staged edition; return the release log entry. Raises ReleaseRefused."""
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
    name = edition if not versions else f"{edition}-v{len(versions) + 1}"
    target = settings.published_dir / name
    if target.exists():
        raise ReleaseRefused(f"{target} already exists; a published edition is never overwritten")
    staged_files = folder_hashes(state.folder)
    with building(target) as tmp:
        shutil.copytree(state.folder, tmp)
        copied = folder_hashes(tmp)
        if copied != staged_files:
            raise ReleaseRefused(f"edition {edition}: the copy differs from the staged files")
        _make_read_only(tmp)
    entry = {
        "edition": edition,
        "version": name,
        "released_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "approver": approver.strip(),
        "reason": reason or "first release",
        "compared_with": compared,
        "git_commit": _git_commit(),
        "package_version": metadata.version("probation-pipeline"),
        "folder": str(target),
        "files": copied,
    }
    log = settings.published_dir / RELEASE_LOG
    with log.open("a") as handle:
        handle.write(json.dumps(entry) + "\n")
        handle.flush()
        os.fsync(handle.fileno())
    return entry


def latest_release(settings: Settings) -> dict | None:
    """The last release in the log whose folder still exists."""
    for entry in reversed(read_log(settings)):
        if Path(entry["folder"]).exists():
            return entry
    return None


def edition_states(settings: Settings) -> list[dict]:
    """Every staged or published edition: its state in words, for `probation-pipeline
    editions`."""
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
            words = state.problem
        rows.append({"edition": edition, "where": "staging", "state": words})
    for entry in log:
        rows.append(
            {
                "edition": entry["version"],
                "where": "published",
                "state": f"released {entry['released_at']} by {entry['approver']}"
                + (f" ({entry['reason']})" if entry["reason"] != "first release" else ""),
            }
        )
    return rows

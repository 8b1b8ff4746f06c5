"""Whether the warehouse, the edition and the analyst snapshot are already current.

A refresh reads only: the load ledger (every load rewrites its row), the reference extract in
the landing zone, the statistician's files (reviews, targets, moderations, publication
settings), the settings passed to dbt, and the project's own code, SQL and seeds. After a
successful refresh their digest is recorded in `<data>/refresh_state.json` with what the run
reported (edition, held or staged, notices). When nothing has been loaded since and the digest
is unchanged, a rerun has nothing to do and says so in seconds; `--force` rebuilds anyway.
A warehouse or snapshot rebuilt since (a run from the UI) is never taken as current.
"""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from pathlib import Path

from orchestration.code_digest import code_digest, project_files
from orchestration.settings import Settings


def refresh_digest(settings: Settings, edition: str | None) -> str:
    """The digest of everything a refresh reads (file contents for data and configuration,
    name, size and modification time for code)."""
    digest = hashlib.sha256()

    def add(*parts) -> None:
        digest.update("\x1f".join(map(str, parts)).encode() + b"\x1e")

    for path in project_files(settings.raw_dir / "loads"):
        add("ledger", path.name, hashlib.sha256(path.read_bytes()).hexdigest())
    for path in project_files(settings.landing_dir / "inspections"):
        stat = path.stat()
        add("reference", path.name, stat.st_size, stat.st_mtime_ns)
    configured: tuple[Path | None, ...] = (
        settings.reviews_path,
        settings.targets_file,
        settings.moderations_file,
        settings.publication_file,
    )
    for file in configured:
        found = Path(file) if file is not None and Path(file).is_file() else None
        add("file", file, hashlib.sha256(found.read_bytes()).hexdigest() if found else "-")
    add("settings", json.dumps(settings.dbt_vars(), sort_keys=True), settings.soffice, edition)
    add("code", code_digest())
    return digest.hexdigest()


def state_path(settings: Settings) -> Path:
    return settings.data_dir / "refresh_state.json"


def current_state(settings: Settings, digest: str) -> dict | None:
    """What the last refresh reported, when its inputs were the same and its outputs are there."""
    path = state_path(settings)
    if not path.exists() or not settings.analytics_path.exists():
        return None
    try:
        state = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    if state.get("digest") != digest or state.get("outputs") != _outputs(settings):
        return None  # other inputs, or the outputs were rebuilt since (a run from the UI)
    return state


def _outputs(settings: Settings) -> list:
    """Size and modification time of the warehouse and the snapshot."""
    paths = (settings.warehouse_path, settings.analytics_path)
    return [[p.stat().st_size, p.stat().st_mtime_ns] if p.exists() else None for p in paths]


def record_state(settings: Settings, digest: str, report: dict) -> None:
    """Record a successful refresh (written under a temporary name, then renamed)."""
    path = state_path(settings)
    tmp = path.with_name(f".{path.name}.tmp")
    state = {
        "digest": digest,
        "outputs": _outputs(settings),
        "at": datetime.now(UTC).isoformat(timespec="seconds"),
        **report,
    }
    tmp.write_text(json.dumps(state, indent=2))
    tmp.replace(path)


def forget_state(settings: Settings) -> None:
    """Before a refresh starts: a refresh killed part-way must never look current."""
    state_path(settings).unlink(missing_ok=True)

"""The digest of the project's code, SQL and seeds, which every output records it was made by:
the warehouse's incremental marker, the refresh state and the release log all compare it."""

from __future__ import annotations

import hashlib
from pathlib import Path

from orchestration.settings import DBT_PROJECT_DIR, PROJECT_ROOT

CODE = (
    PROJECT_ROOT / "orchestration",
    PROJECT_ROOT / "schemas",
    *(DBT_PROJECT_DIR / name for name in ("models", "macros", "seeds", "tests")),
    DBT_PROJECT_DIR / "dbt_project.yml",
    DBT_PROJECT_DIR / "profiles.yml",
)


def project_files(path: Path) -> list[Path]:
    """The files under `path` (or `path` itself), sorted."""
    if path.is_file():
        return [path]
    return sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else []


def code_digest() -> str:
    """The digest of the code, SQL and seeds (name, size and modification time of each file):
    a change to any of them means the outputs they make are rebuilt."""
    digest = hashlib.sha256()
    for root in CODE:
        for path in project_files(root):
            if "__pycache__" in path.parts:
                continue
            stat = path.stat()
            line = f"{path.relative_to(PROJECT_ROOT)}\x1f{stat.st_size}\x1f{stat.st_mtime_ns}\x1e"
            digest.update(line.encode())
    return digest.hexdigest()

"""The dbt manifest Dagster reads to build the dbt assets.

Loading the definitions never runs dbt: `load_manifest()` only reads `target/manifest.json`.
`ensure_manifest()` runs `dbt parse` when the manifest is missing or older than any file of
the dbt project; it is called before the definitions load by `make setup` (so `make ui` and
`make test`), by `probation-pipeline run` and by the test session, so a fresh clone, an edited
model or a new seed never loads a stale asset graph.
"""

from __future__ import annotations

import functools
import json
import os
import subprocess
import sys
from pathlib import Path

from orchestration.settings import DBT_PROJECT_DIR

MANIFEST_PATH = DBT_PROJECT_DIR / "target" / "manifest.json"
WATCHED = ("models", "macros", "seeds", "tests", "dbt_project.yml", "profiles.yml")


def _newest_source_mtime() -> float:
    newest = 0.0
    for name in WATCHED:
        path = DBT_PROJECT_DIR / name
        files = [path] if path.is_file() else [p for p in path.rglob("*") if p.is_file()]
        newest = max([newest, *(f.stat().st_mtime for f in files)])
    return newest


def dbt_executable() -> str:
    """The dbt installed beside this Python (the project's virtual environment), else PATH's."""
    beside = Path(sys.executable).with_name("dbt")
    return str(beside) if beside.exists() else "dbt"


def ensure_manifest() -> Path:
    """Parse the dbt project if its manifest is missing or stale; return the manifest path."""
    if MANIFEST_PATH.exists() and MANIFEST_PATH.stat().st_mtime >= _newest_source_mtime():
        return MANIFEST_PATH
    command = [dbt_executable(), "parse", "--quiet"]
    env = {**os.environ, "DBT_PROFILES_DIR": str(DBT_PROJECT_DIR)}
    result = subprocess.run(
        command, cwd=DBT_PROJECT_DIR, env=env, capture_output=True, text=True, check=False
    )
    if result.returncode != 0:
        raise RuntimeError(
            f"dbt parse failed in {DBT_PROJECT_DIR}:\n{result.stdout}{result.stderr}"
        )
    return MANIFEST_PATH


class ManifestMissing(RuntimeError):
    """The definitions were loaded before the dbt project was parsed."""


@functools.cache
def load_manifest() -> dict:
    """The parsed dbt manifest (read once per process; never parses)."""
    if not MANIFEST_PATH.exists():
        raise ManifestMissing(
            f"{MANIFEST_PATH} is missing: run `make setup` (or `probation-pipeline run`), which "
            "parses the dbt project, before loading the Dagster definitions"
        )
    return json.loads(MANIFEST_PATH.read_text())


def mart_models() -> list[str]:
    """Names of the dbt models under models/marts: the tables analysts read."""
    manifest = load_manifest()
    return sorted(
        node["name"]
        for node in manifest["nodes"].values()
        if node["resource_type"] == "model" and node["fqn"][1:2] == ["marts"]
    )

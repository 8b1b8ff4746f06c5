"""The dbt project as dagster-dbt's `DbtProject`, and the manifest Dagster reads to build the
dbt assets.

Loading the definitions never runs dbt: `load_manifest()` only reads the manifest at
`DBT_PROJECT.manifest_path`. `ensure_manifest()` prepares the project with dagster-dbt's
preparer (`dbt parse` under a guard against two processes parsing at once, then the seeds'
partial-parse entries invalidated) when the manifest is missing or older than any file of the
dbt project. `make setup`, `probation-pipeline run` and the test session call it before the
definitions load, so a fresh clone, an edited model or a new seed never loads a stale asset
graph.

Two things dagster-dbt's own preparer does not do, and this module adds: it parses whenever
it is called (`prepare_if_dev` only under `dagster dev`), where a run should parse only when a
file changed; and it runs the `dbt` on PATH, where this project runs the dbt installed beside
its Python (`make` does not put the virtual environment on PATH).
"""

from __future__ import annotations

import functools
import json
import sys
from pathlib import Path

from dagster_dbt import DbtCliResource, DbtProject
from dagster_dbt.dbt_project import DagsterDbtProjectPreparer

from orchestration.settings import DBT_PROJECT_DIR

DBT_PROJECT = DbtProject(project_dir=DBT_PROJECT_DIR, profiles_dir=DBT_PROJECT_DIR)
MANIFEST_PATH = DBT_PROJECT.manifest_path
WATCHED = ("models", "macros", "seeds", "tests", "dbt_project.yml", "profiles.yml")


def dbt_executable() -> str:
    """The dbt installed beside this Python (the project's virtual environment), else PATH's."""
    beside = Path(sys.executable).with_name("dbt")
    return str(beside) if beside.exists() else "dbt"


def dbt_cli() -> DbtCliResource:
    """The dbt command line bound to the project and to this environment's dbt."""
    return DbtCliResource(project_dir=DBT_PROJECT, dbt_executable=dbt_executable())


class StaleManifestPreparer(DagsterDbtProjectPreparer):
    """dagster-dbt's preparer, parsing only when the manifest is missing or stale, with the
    project's own dbt."""

    def prepare(self, project: DbtProject) -> None:
        if not manifest_is_stale(project):
            return
        super().prepare(project)
        if not project.manifest_path.exists():
            raise RuntimeError(f"dbt parse failed in {project.project_dir} (see dbt's log)")

    def _prepare_manifest(self, project: DbtProject) -> None:
        parse = dbt_cli().cli(
            ["parse", "--quiet"], target_path=project.target_path, raise_on_error=False
        )
        parse.wait()
        if not parse.is_successful():
            raise RuntimeError(f"dbt parse failed in {project.project_dir}: see its output above")
        self._invalidate_seeds_in_partial_parse(project)


def manifest_is_stale(project: DbtProject = DBT_PROJECT) -> bool:
    """The manifest is missing or older than a file of the dbt project."""
    if not project.manifest_path.exists():
        return True
    built = project.manifest_path.stat().st_mtime
    for name in WATCHED:
        path = project.project_dir / name
        files = [path] if path.is_file() else [p for p in path.rglob("*") if p.is_file()]
        if any(f.stat().st_mtime > built for f in files):
            return True
    return False


def ensure_manifest() -> Path:
    """Parse the dbt project if its manifest is missing or stale; return the manifest path."""
    StaleManifestPreparer().prepare(DBT_PROJECT)
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

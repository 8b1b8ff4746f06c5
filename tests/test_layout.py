"""The shape of the code: the stages of orchestration/ in flow order, imports one way (no
circle, no stage importing a later one)."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.unit


def test_the_quality_reviews_do_not_import_the_configuration_checks():
    """orchestration.warehouse.configuration checks the reviews with
    orchestration.warehouse.quality; quality reads
    its CSV with orchestration.csv_text, never through configuration (the circle once there)."""
    probe = (
        "import sys, orchestration.warehouse.quality; "
        "sys.exit('orchestration.warehouse.configuration' in sys.modules)"
    )
    assert subprocess.run([sys.executable, "-c", probe], check=False).returncode == 0


# The stages in the order data flows through them; a stage may import the shared modules at the
# top of orchestration/ and the stages before it, never one after it. `running/` (the in-process
# runner) and `defs/` (the Dagster layer) sit above them all; `demo/` makes landing data.
STAGES = ("ingest", "warehouse", "publication", "release")
SHARED = {
    "__init__",
    "alerts",
    "asset_metadata",
    "atomic",
    "business_calendar",
    "code_digest",
    "csv_text",
    "partitions",
    "resources",
    "settings",
}
ABOVE = {"cli", "definitions"}
PACKAGE = Path(__file__).resolve().parents[1] / "orchestration"


def _imported_parts(path: Path) -> set[str]:
    """The first part below `orchestration` of every module `path` imports."""
    parts = set()
    for node in ast.walk(ast.parse(path.read_text())):
        names = []
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module:
            names = [node.module]
        for name in names:
            if name.startswith("orchestration."):
                parts.add(name.split(".")[1])
    return parts


def test_the_top_of_orchestration_holds_only_shared_modules_and_the_entry_points():
    modules = {path.stem for path in PACKAGE.glob("*.py")}
    assert modules == SHARED | ABOVE, "a module at the top of orchestration/ belongs in a stage"
    packages = {path.name for path in PACKAGE.iterdir() if (path / "__init__.py").exists()}
    assert packages == {*STAGES, "running", "defs", "demo"}


def test_data_flows_one_way_through_the_stages():
    backward = []
    for index, stage in enumerate(STAGES):
        later = set(STAGES[index + 1 :]) | {"running", "defs", "cli", "demo"}
        for path in sorted((PACKAGE / stage).glob("*.py")):
            backward += [
                f"{path.relative_to(PACKAGE)} imports {part}"
                for part in sorted(_imported_parts(path) & later)
            ]
    for name in SHARED:
        path = PACKAGE / f"{name}.py"
        stages = _imported_parts(path) & {*STAGES, "running", "defs", "cli", "demo"}
        backward += [f"{name}.py imports {part}" for part in sorted(stages)]
    assert not backward, "\n".join(backward)

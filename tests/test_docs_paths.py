"""The documentation names files that exist: every path into the repository that the README,
CONTRIBUTING.md or a page of docs/ mentions (`orchestration/publication/workbook.py`) is there,
so a moved or renamed module cannot leave a guide pointing at nothing."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

pytestmark = pytest.mark.unit

ROOT = Path(__file__).resolve().parents[1]
PAGES = [ROOT / "README.md", ROOT / "CONTRIBUTING.md", *sorted((ROOT / "docs").rglob("*.md"))]
TOP = "orchestration|schemas|dbt_project|tests|benchmarks|deploy|docs|\\.github|\\.ci"
PATH = re.compile(rf"(?<![\w/.-])(?:{TOP})/[\w./-]*[\w/]")


def test_every_repository_path_in_the_documentation_exists():
    missing = []
    for page in PAGES:
        for number, line in enumerate(page.read_text().splitlines(), start=1):
            for path in PATH.findall(line):
                if "*" not in path and "<" not in path and not (ROOT / path).exists():
                    missing.append(f"{page.relative_to(ROOT)}:{number}: {path}")
    assert not missing, "paths that do not exist:\n" + "\n".join(missing)


def test_the_check_finds_paths():
    assert PATH.findall("see orchestration/publication/workbook.py, and data_docs/index.html") == [
        "orchestration/publication/workbook.py"
    ]

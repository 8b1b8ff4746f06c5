"""Atomic swaps (orchestration/atomic.py): a reader sees the whole old folder or the whole new
one at every instant, even when the process dies between the steps of a swap."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from orchestration.atomic import building

CHILD = """
import os, signal, sys
from pathlib import Path
import orchestration.atomic as atomic
target, step = Path(sys.argv[1]), sys.argv[2]
real = getattr(os, step)
def die(*args, **kwargs):
    if step != "replace" or str(args[0]).endswith(".link"):
        os.kill(os.getpid(), signal.SIGKILL)  # killed between the steps of the swap
    return real(*args, **kwargs)
setattr(os, step, die)
with atomic.building(target) as tmp:
    tmp.mkdir()
    (tmp / "a.csv").write_text("new")
    (tmp / "b.csv").write_text("new")
"""


def folder(path: Path) -> dict[str, str]:
    return {p.name: p.read_text() for p in sorted(path.iterdir())}


@pytest.mark.parametrize("step", ["symlink", "replace"])
def test_a_run_killed_between_the_steps_of_a_swap_leaves_the_old_folder_whole(tmp_path, step):
    target = tmp_path / "2025-03"
    with building(target) as tmp:
        tmp.mkdir()
        for name in ("a.csv", "b.csv"):
            (tmp / name).write_text("old")
    child = subprocess.run(
        [sys.executable, "-c", CHILD, str(target), step],
        cwd=Path(__file__).resolve().parents[1],
        check=False,
    )
    assert child.returncode == -signal.SIGKILL
    assert folder(target) == {"a.csv": "old", "b.csv": "old"}  # never missing, never half
    with building(target) as tmp:  # the next run swaps in and clears what the dead one left
        tmp.mkdir()
        (tmp / "a.csv").write_text("newer")
    assert folder(target) == {"a.csv": "newer"}
    assert (
        sorted(p.name for p in tmp_path.iterdir() if p.name != "2025-03")
        == [p.name for p in tmp_path.iterdir() if p.name.startswith(".2025-03.v")]
        and len(list(tmp_path.glob(".2025-03.v*"))) == 1
    )


def test_a_folder_swap_is_one_rename_of_a_link(tmp_path):
    target = tmp_path / "analytics"
    for text in ("first", "second"):
        with building(target) as tmp:
            tmp.mkdir()
            (tmp / "t.parquet").write_text(text)
        assert target.is_symlink() and (target / "t.parquet").read_text() == text
        assert os.readlink(target).startswith(".analytics.v")
    assert len(list(tmp_path.glob(".analytics.v*"))) == 1


def test_a_folder_from_before_the_versioned_layout_is_converted_on_its_next_swap(tmp_path):
    target = tmp_path / "analytics"
    target.mkdir()
    (target / "t.parquet").write_text("old")
    with building(target) as tmp:
        tmp.mkdir()
        (tmp / "t.parquet").write_text("new")
    assert target.is_symlink() and folder(target) == {"t.parquet": "new"}
    assert sorted(p.name for p in tmp_path.iterdir())[1:] == ["analytics"]

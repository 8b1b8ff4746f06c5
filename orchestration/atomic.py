"""Atomic writes: readers see the old file or folder, or the new one, never a half-written one.

Everything is built under a hidden temporary name beside its target and renamed over it at the
end. A failure part-way leaves the previous version in place.

A folder cannot be renamed over another in one step, so a folder target is a symbolic link to
a versioned folder beside it (`.<name>.v<version>`): the new version is built, a new link made
beside the old, and renamed over it, one atomic step. At every instant a reader sees the whole
old folder or the whole new one, never neither. Older versions are removed afterwards. A
target that is still a real folder (written before this layout) is moved aside once.
"""

from __future__ import annotations

import os
import shutil
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq


def write_parquet(table: pa.Table, path: Path) -> None:
    """Write a Parquet file under a temporary name, then rename it over `path`."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    pq.write_table(table, tmp)
    os.replace(tmp, path)


@contextmanager
def building(path: Path, versioned: bool = True) -> Iterator[Path]:
    """Yield a temporary file or folder path to build; on success put it in place of `path`.

    For a folder, create it inside the block (`mkdir`): `path` becomes a link to the new
    version, swapped in one rename. `versioned=False` is for a folder inside another swapped
    folder (an edition's validation report), whose file listing must stay plain: the old folder
    is renamed aside, then the new one into place (two renames).
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.building")
    _remove(tmp)
    try:
        yield tmp
    except BaseException:
        _remove(tmp)
        raise
    if tmp.is_dir() and versioned:
        _swap_folder(tmp, path)
    elif tmp.is_dir() and path.exists():
        _replace_real_folder(tmp, path)
    else:
        os.replace(tmp, path)


def _swap_folder(built: Path, path: Path) -> None:
    """Make `path` a link to the folder just built, in one rename; drop older versions."""
    version = path.with_name(f".{path.name}.v{time.time_ns()}")
    os.replace(built, version)  # same parent: a rename, whatever the folder's permissions
    link = path.with_name(f".{path.name}.link")
    _remove(link)
    os.symlink(version.name, link, target_is_directory=True)
    if path.is_dir() and not path.is_symlink():  # the old layout: a real folder, moved aside once
        _replace_real_folder(link, path)
    else:
        os.replace(link, path)  # the one atomic step
    for stale in path.parent.glob(f".{path.name}.v*"):
        if stale != version and stale.name[len(path.name) + 3 :].isdigit():
            _remove(stale)


def _replace_real_folder(new: Path, path: Path) -> None:
    """Put `new` where the real folder `path` is: two renames (a folder cannot be renamed over
    a folder), the old one removed afterwards."""
    old = path.with_name(f".{path.name}.old")
    _remove(old)
    os.replace(path, old)
    os.replace(new, path)
    _remove(old)


def _remove(path: Path) -> None:
    if path.is_symlink():
        path.unlink()
    elif path.is_dir():
        shutil.rmtree(path, ignore_errors=True)
    else:
        path.unlink(missing_ok=True)

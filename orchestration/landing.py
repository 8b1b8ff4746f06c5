"""The landing zone as source systems deliver it: which file (and revision) feeds each month.

Files are `<landing>/<extract>/<extract>_<YYYY-MM>[_rN].(csv|parquet)`. A re-delivery carries a
higher revision (`_r2`, `_r3`, ...; the first delivery is revision 1); the highest revision wins
and earlier ones stay where they are. Landing files are only ever read.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path

FILE_PATTERN = re.compile(
    r"^(?P<extract>[a-z_]+)_(?P<month>\d{4}-\d{2})(?:_r(?P<revision>\d+))?\.(?P<ext>csv|parquet)$"
)


@dataclass(frozen=True)
class LandingFile:
    """One delivered file."""

    path: Path
    extract: str
    month: str
    revision: int

    def sha256(self) -> str:
        digest = hashlib.sha256()
        with self.path.open("rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
        return digest.hexdigest()


def deliveries(landing_dir: Path, extract: str) -> list[LandingFile]:
    """Every delivered file of an extract, sorted by month then revision."""
    folder = landing_dir / extract
    if not folder.is_dir():
        return []
    found = []
    for path in folder.iterdir():
        match = FILE_PATTERN.match(path.name)
        if match and match["extract"] == extract:
            found.append(LandingFile(path, extract, match["month"], int(match["revision"] or 1)))
    return sorted(found, key=lambda f: (f.month, f.revision, f.path.suffix))


def latest_delivery(landing_dir: Path, extract: str, month: str) -> LandingFile | None:
    """The file that feeds a month: the highest revision delivered, or None."""
    candidates = [f for f in deliveries(landing_dir, extract) if f.month == month]
    if not candidates:
        return None
    top = max(f.revision for f in candidates)
    same = [f for f in candidates if f.revision == top]
    if len(same) > 1:
        names = ", ".join(sorted(f.path.name for f in same))
        raise ValueError(f"{extract} {month}: two files claim revision {top}: {names}")
    return same[0]


def delivered_months(landing_dir: Path, extracts: list[str] | tuple[str, ...]) -> list[str]:
    """Months for which any of the extracts has a delivery, sorted."""
    return sorted({f.month for e in extracts for f in deliveries(landing_dir, e)})

"""The landing zone as source systems deliver it: which file (and revision) feeds each month.

Files are `<landing>/<extract>/<extract>_<YYYY-MM>[_rN].(csv|parquet)`. A re-delivery carries a
higher revision (`_r2`, `_r3`, ...; the first delivery is revision 1); the highest revision wins
and earlier ones stay where they are. Landing files are only ever read.

Anything else in an extract's folder is a problem `landing_problems` names, file and rule: a
name that does not follow the contract (`_r0`, `_r1`, `_rX`, another extension), a month that is
no partition (a 13th month, before April 2019, or not yet ended), a folder where a file should
be, two files claiming the same month and revision, a control file without its delivery.
Such files never feed a month. Hidden files (names starting with '.') are ignored.

A delivery may come with a control file of the same name plus `.ctl`
(docs/methodology.md#landing-contract): JSON with
`extracted_at` (ISO 8601), `row_count` (data rows) and `sha256` (of the delivered file).
`read_control` reads and checks its shape; `Extraction` is when the data were extracted, from
the control file or, without one, the file's modification time (recorded as an assumption).
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from orchestration.settings import FIRST_MONTH, TIMEZONE

LONDON = ZoneInfo(TIMEZONE)
CONTROL_SUFFIX = ".ctl"
CONTROL_KEYS = ("extracted_at", "row_count", "sha256")

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

    @property
    def control_path(self) -> Path:
        """Where this delivery's control file is, if the source sent one."""
        return self.path.with_name(self.path.name + CONTROL_SUFFIX)

    def sha256(self) -> str:
        digest = hashlib.sha256()
        with self.path.open("rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
        return digest.hexdigest()


def newest_partition(now: datetime | None = None) -> str:
    """The newest month that can have been delivered: the last month ended in Europe/London."""
    local = (now or datetime.now(UTC)).astimezone(LONDON)
    year, month = (local.year, local.month - 1) if local.month > 1 else (local.year - 1, 12)
    return f"{year:04d}-{month:02d}"


NAME_RULE = "name must be <extract>_<YYYY-MM>.csv or .parquet, re-deliveries _r2, _r3, ..."


def _classify(path: Path, extract: str, newest: str) -> LandingFile | str | None:
    """A valid delivery, the rule its name or kind breaks, or None for a file to pass over
    (hidden, or the control file of a delivery)."""
    name = path.name
    if name.startswith("."):
        return None
    if name.endswith(CONTROL_SUFFIX):
        delivery = path.with_name(name[: -len(CONTROL_SUFFIX)])
        if isinstance(_classify(delivery, extract, newest), LandingFile) and delivery.is_file():
            return None
        return "control file without a delivery of that name"
    match = FILE_PATTERN.match(name)
    if not match or match["extract"] != extract:
        return NAME_RULE
    month = match["month"]
    if not 1 <= int(month[5:]) <= 12:
        return f"{month} is not a calendar month"
    if not FIRST_MONTH <= month <= newest:
        return f"month {month} is outside the partitions ({FIRST_MONTH} to {newest})"
    if match["revision"] is not None and int(match["revision"]) < 2:
        return f"revision _r{match['revision']}: re-deliveries are numbered _r2, _r3, ..."
    if not path.is_file():
        return "is a folder, not a delivery file"
    return LandingFile(path, extract, month, int(match["revision"] or 1))


def deliveries(landing_dir: Path, extract: str) -> list[LandingFile]:
    """Every valid delivered file of an extract, sorted by month then revision (anything else
    in its folder is for `landing_problems`)."""
    folder = landing_dir / extract
    if not folder.is_dir():
        return []
    newest = newest_partition()
    found = [
        f for p in folder.iterdir() if isinstance(f := _classify(p, extract, newest), LandingFile)
    ]
    return sorted(found, key=lambda f: (f.month, f.revision, f.path.suffix))


def landing_problems(landing_dir: Path, extracts) -> list[str]:
    """One line per file in the extracts' folders that cannot feed a month (file: rule)."""
    problems = []
    newest = newest_partition()
    for extract in extracts:
        folder = landing_dir / extract
        if folder.exists() and not folder.is_dir():
            problems.append(f"{folder}: must be a folder of {extract} deliveries")
            continue
        if not folder.is_dir():
            continue
        for path in sorted(folder.iterdir()):
            verdict = _classify(path, extract, newest)
            if isinstance(verdict, str):
                problems.append(f"{path}: {verdict}")
        claims: dict[tuple[str, int], list[str]] = {}
        for f in deliveries(landing_dir, extract):
            claims.setdefault((f.month, f.revision), []).append(f.path.name)
        for (month, revision), names in sorted(claims.items()):
            if len(names) > 1:
                problems.append(
                    f"{folder}: {', '.join(sorted(names))} both claim {extract} {month} "
                    f"revision {revision}: remove one"
                )
    return problems


def latest_delivery(landing_dir: Path, extract: str, month: str) -> LandingFile | None:
    """The file that feeds a month: the highest revision delivered, or None."""
    candidates = [f for f in deliveries(landing_dir, extract) if f.month == month]
    if not candidates:
        return None
    top = max(f.revision for f in candidates)
    same = [f for f in candidates if f.revision == top]
    if len(same) > 1:
        names = ", ".join(sorted(f.path.name for f in same))
        raise AmbiguousDelivery(f"{extract} {month}: two files claim revision {top}: {names}")
    return same[0]


class AmbiguousDelivery(ValueError):
    """Two files (CSV and Parquet) claim the same month and revision."""


def delivered_months(landing_dir: Path, extracts: list[str] | tuple[str, ...]) -> list[str]:
    """Months for which any of the extracts has a delivery, sorted."""
    return sorted({f.month for e in extracts for f in deliveries(landing_dir, e)})


class ControlFileError(ValueError):
    """A control file that cannot be read or lacks what docs/methodology.md#landing-contract
    requires."""


@dataclass(frozen=True)
class Control:
    """What a control file says about its delivery."""

    path: Path
    extracted_at: datetime
    row_count: int
    sha256: str


@dataclass(frozen=True)
class Extraction:
    """When a delivery was extracted: the timestamp (UTC), its date in Europe/London, and where
    it comes from (`control file`, or `modification time (assumed)` without one)."""

    at: datetime
    source: str

    @property
    def on(self) -> date:
        return self.at.astimezone(LONDON).date()

    @property
    def assumed(self) -> bool:
        return self.source != "control file"


def read_control(delivery: LandingFile) -> Control | None:
    """The delivery's control file, or None when there is none. Raises ControlFileError (what
    is wrong, in one line) when it is not the JSON docs/methodology.md#landing-contract asks for.
    A timestamp without an offset is taken as Europe/London time."""
    path = delivery.control_path
    if not path.is_file():
        return None
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise ControlFileError("control file is not UTF-8 JSON") from None
    if not isinstance(data, dict) or any(key not in data for key in CONTROL_KEYS):
        raise ControlFileError(f"control file must be a JSON object with {', '.join(CONTROL_KEYS)}")
    try:
        extracted_at = datetime.fromisoformat(str(data["extracted_at"]))
    except ValueError:
        raise ControlFileError(
            f"extracted_at {str(data['extracted_at'])[:40]!r} is not an ISO 8601 timestamp"
        ) from None
    if extracted_at.tzinfo is None:
        extracted_at = extracted_at.replace(tzinfo=LONDON)
    row_count = data["row_count"]
    if isinstance(row_count, bool) or not isinstance(row_count, int) or row_count < 0:
        raise ControlFileError("row_count must be a whole number of data rows")
    sha = str(data["sha256"]).lower()
    if not re.fullmatch(r"[0-9a-f]{64}", sha):
        raise ControlFileError("sha256 must be 64 hexadecimal digits")
    return Control(path, extracted_at.astimezone(UTC), row_count, sha)


def extraction(delivery: LandingFile, control: Control | None) -> Extraction:
    """When the delivery was extracted: the control file's `extracted_at`, else the file's
    modification time, marked as assumed."""
    if control is not None:
        return Extraction(control.extracted_at, "control file")
    modified = datetime.fromtimestamp(delivery.path.stat().st_mtime, UTC).replace(microsecond=0)
    return Extraction(modified, "modification time (assumed)")

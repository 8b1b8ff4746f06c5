"""Loading one extract-month: read the landing file, check its contract, write raw Parquet.

`load_partition` is what each monthly ingest asset runs; the file is read and checked (contract,
row rules, profile) in DuckDB by orchestration/ingest/checked_file.py. A delivery whose control file
(docs/methodology.md#landing-contract) disagrees with it is rejected as a truncated or corrupted
transfer; the extraction
time (control file, else the file's modification time, marked as assumed) goes into the load
ledger, where dbt reads it to decide when a case is final. Besides the raw Parquet and the
quarantine it writes the month's quality profile (orchestration/ingest/profiling.py) from every
delivered row. It never modifies the landing file, and it writes its outputs atomically
(temporary file, then rename), so a failure leaves the previous load of that month, and every
other month, as it was. Re-running it on the same file gives the same Parquet (idempotent).

The landing zone must stay as loaded: a correction is a new revision, never an edit in place.
`changed_since_load` / `changed_landing_files` name a loaded file whose content has changed since
(the runner refuses to run, the ingest asset to load that extract-month); they hash a file only
when its size or modification time differs from what the ledger recorded at load time.
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from orchestration.atomic import write_parquet
from orchestration.ingest.checked_file import (
    LINEAGE_COLUMNS,
    CheckedFile,
    ContractBreach,
    read_delivery,
    shorten,
)
from orchestration.ingest.landing import (
    AmbiguousDelivery,
    Control,
    ControlFileError,
    LandingFile,
    deliveries,
    extraction,
    latest_delivery,
    read_control,
)
from orchestration.ingest.profiling import profile_partition, profile_table
from orchestration.settings import Settings
from schemas.contracts import EXTRACTS

__all__ = [
    "LINEAGE_COLUMNS",
    "ContractBreach",
    "changed_landing_files",
    "changed_since_load",
    "load_partition",
    "needs_load",
    "shorten",
]


class MissingDelivery(Exception):
    """No file was delivered for an extract-month the run was asked to load."""


@dataclass
class LoadReport:
    """What one load did: recorded in the materialisation metadata and beside the Parquet."""

    extract: str
    month: str
    source_file: str
    source_revision: int
    source_sha256: str
    rows_delivered: int
    rows_loaded: int
    rows_set_aside: int
    set_aside_by_reason: dict[str, int]
    raw_path: str
    loaded_at: str
    extracted_at: str = ""
    extracted_on: str = ""
    extracted_at_source: str = ""
    source_size: int | None = None  # bytes, when loaded
    source_mtime_ns: int | None = None  # modification time when loaded; None if too recent


# A file modified less than this before it was loaded is "racily clean" (as git calls it): a
# later edit within the file system's timestamp granularity could leave size and modification
# time as they were, so its modification time is not recorded and it is always hashed.
RACY_NS = 2_000_000_000
STAT_COLUMNS = ("source_size", "source_mtime_ns")


def raw_path(settings: Settings, extract: str, month: str) -> Path:
    return settings.raw_dir / extract / f"{extract}_{month}.parquet"


def quarantine_path(settings: Settings, extract: str, month: str) -> Path:
    return settings.quarantine_dir / extract / f"{extract}_{month}.parquet"


def profile_path(settings: Settings, extract: str, month: str) -> Path:
    """The quality profile of an extract-month: one row per region
    (orchestration/ingest/profiling)."""
    return settings.raw_dir / "profiles" / f"{extract}_{month}.parquet"


def manifest_path(settings: Settings, extract: str, month: str) -> Path:
    """The load ledger row of an extract-month (dbt reads the ledger as source `raw.loads`)."""
    return settings.raw_dir / "loads" / f"{extract}_{month}.parquet"


def check_control(control: Control | None, delivery: LandingFile, sha: str, rows: int) -> None:
    """Reject a delivery whose control file disagrees with it (a truncated or corrupted
    transfer), naming the control file and what disagrees."""
    if control is None:
        return
    problems = []
    if control.row_count != rows:
        problems.append(f"row_count {control.row_count:,} but the file has {rows:,} data rows")
    if control.sha256 != sha:
        problems.append(f"sha256 {control.sha256[:12]}... but the file hashes to {sha[:12]}...")
    if problems:
        raise ContractBreach(
            delivery.path,
            "delivery must match its control file (truncated or corrupted transfer?)",
            detail=f"{control.path.name} says " + "; ".join(problems),
        )


def count_rows_quickly(delivery: LandingFile) -> int | None:
    """Data rows of a file that cannot be parsed, for a control-file message: Parquet metadata,
    or CSV lines after the header; None when even that fails."""
    try:
        if delivery.path.suffix == ".parquet":
            return pq.ParquetFile(delivery.path).metadata.num_rows
        with delivery.path.open("rb") as handle:
            return max(sum(1 for line in handle if line.strip()) - 1, 0)
    except Exception:  # noqa: BLE001 - only feeds a message; the breach itself is raised anyway
        return None


def write_quarantine(set_aside: pa.Table, path: Path) -> None:
    """Write the rows set aside (atomically), or remove an earlier quarantine when none are."""
    if set_aside.num_rows:
        write_parquet(set_aside, path)
    else:
        path.unlink(missing_ok=True)


def load_partition(settings: Settings, extract_name: str, month: str) -> LoadReport:
    """Validate the month's delivery of an extract; write its raw, quarantine and profile Parquet.

    The profile (one row per region, see orchestration/ingest/profiling.py) is written before the
    ledger row, so a ledger row always has the profile of the same delivery beside it.
    """
    extract = EXTRACTS[extract_name]
    delivery = latest_delivery(settings.landing_dir, extract_name, month)
    if delivery is None:
        expected = settings.landing_dir / extract_name / f"{extract_name}_{month}.csv"
        raise MissingDelivery(f"{expected}: no delivery for {extract_name} {month}")
    stat = delivery.path.stat()  # before hashing: an edit after it changes what it recorded
    racy = time.time_ns() - stat.st_mtime_ns < RACY_NS  # modified just now (or in the future)
    sha = delivery.sha256()
    try:
        control = read_control(delivery)
    except ControlFileError as error:
        raise ContractBreach(delivery.control_path, str(error)) from None
    try:
        table = read_delivery(delivery)
    except ContractBreach:
        rows = count_rows_quickly(delivery)
        if control is not None and rows is not None:
            check_control(control, delivery, sha, rows)  # a truncated transfer says so
        raise
    check_control(control, delivery, sha, table.num_rows)
    extracted = extraction(delivery, control)
    with CheckedFile(table, extract, delivery, month) as checked:
        del table
        out = raw_path(settings, extract_name, month)
        write_parquet(checked.raw_table(), out)
        write_quarantine(checked.set_aside_table(), quarantine_path(settings, extract_name, month))
        profile = profile_partition(checked.con, extract, month, keys_repeat=checked.keys_repeat)
        write_parquet(profile_table(profile), profile_path(settings, extract_name, month))
        by_reason = checked.set_aside_by_reason()
        delivered = checked.rows

    set_aside = sum(by_reason.values())
    report = LoadReport(
        extract=extract_name,
        month=month,
        source_file=str(delivery.path),
        source_revision=delivery.revision,
        source_sha256=sha,
        rows_delivered=delivered,
        rows_loaded=delivered - set_aside,
        rows_set_aside=set_aside,
        set_aside_by_reason=by_reason,
        raw_path=str(out),
        loaded_at=datetime.now(UTC).isoformat(timespec="seconds"),
        extracted_at=extracted.at.isoformat(timespec="seconds"),
        extracted_on=extracted.on.isoformat(),
        extracted_at_source=extracted.source,
        source_size=stat.st_size,
        source_mtime_ns=None if racy else stat.st_mtime_ns,
    )
    ledger = asdict(report)
    ledger["set_aside_by_reason"] = json.dumps(report.set_aside_by_reason, sort_keys=True)
    row = pa.Table.from_pylist([ledger])
    for name in STAT_COLUMNS:  # int64 even when not recorded, not Parquet's null type
        index = row.schema.get_field_index(name)
        row = row.set_column(index, name, pa.array([ledger[name]], pa.int64()))
    write_parquet(row, manifest_path(settings, extract_name, month))
    return report


def previous_load(settings: Settings, extract_name: str, month: str) -> dict | None:
    """The manifest of the month's last successful load, if any."""
    path = manifest_path(settings, extract_name, month)
    return _ledger_row(path) if path.exists() else None


def _ledger_row(path: Path) -> dict:
    with pq.ParquetFile(path) as ledger:
        return ledger.read().to_pylist()[0]


def needs_load(settings: Settings, extract_name: str, month: str) -> bool:
    """True when the month has a delivery that is not the one its raw Parquet was loaded from
    (never loaded, or re-delivered as a higher revision since), or its quality profile is
    missing (a month loaded before profiles existed is loaded again once)."""
    delivery = latest_delivery(settings.landing_dir, extract_name, month)
    if delivery is None:
        return False
    previous = previous_load(settings, extract_name, month)
    return (
        previous is None
        or not raw_path(settings, extract_name, month).exists()
        or not profile_path(settings, extract_name, month).exists()
        or previous["source_file"] != str(delivery.path)
        or not previous.get("extracted_on")  # loaded before extraction times were recorded
    )


def changed_since_load(settings: Settings, extract_name: str, month: str) -> str | None:
    """One line when the file the month was loaded from (the ledger's `source_file`, if it is
    still there) no longer has the SHA-256 recorded when it was loaded, else None.

    Hashing every landing file at every run would read the whole landing zone (gigabytes at
    national scale), so, as git does with its index, the file is hashed only when its size or
    modification time (nanoseconds) differs from what the ledger recorded at load time; a file
    only touched (same content) is hashed and accepted, at every run until it is loaded again
    (the ledger is not rewritten: a refresh reads it). A ledger row from before size and
    modification time were recorded, or of a file loaded within seconds of being written
    (`RACY_NS`), has no modification time to compare: its file is always hashed.

    The file checked is the one the warehouse was built from. Once a higher revision has been
    delivered for the month, the file loaded before is replaced at the next load and is not
    checked (that re-delivery is how a changed file is put right)."""
    record = previous_load(settings, extract_name, month)
    if record is None:
        return None
    try:
        current = latest_delivery(settings.landing_dir, extract_name, month)
    except AmbiguousDelivery:  # named by landing_problems; the loaded file is still checked
        current = None
    return _changed(record, current)


def changed_landing_files(settings: Settings) -> list[str]:
    """`changed_since_load` for every extract-month in the load ledger: one line per loaded
    file changed since, sorted. Reads the ledger rows and stats their files; hashes only a file
    whose size or modification time has changed (or was not recorded)."""
    folder = settings.raw_dir / "loads"
    if not folder.is_dir():
        return []
    rows = [_ledger_row(p) for p in sorted(folder.glob("*.parquet")) if not p.name.startswith(".")]
    current: dict[tuple[str, str], LandingFile | None] = {}
    for extract in sorted({row["extract"] for row in rows}):
        by_month: dict[str, list[LandingFile]] = {}
        for delivery in deliveries(settings.landing_dir, extract):  # by month, then revision
            by_month.setdefault(delivery.month, []).append(delivery)
        for found, files in by_month.items():
            top = [f for f in files if f.revision == files[-1].revision]
            current[(extract, found)] = top[0] if len(top) == 1 else None  # else ambiguous
    lines = [_changed(row, current.get((row["extract"], row["month"]))) for row in rows]
    return [line for line in lines if line]


def _changed(record: dict, current: LandingFile | None) -> str | None:
    """The line for a ledger row whose file has changed since it was loaded, else None;
    `current` is the month's delivery now (the highest revision), if there is one."""
    path = Path(record["source_file"])
    if current is not None and current.path != path:
        return None  # re-delivered (or the landing zone moved): the next load replaces it
    try:
        stat = os.stat(path)
    except OSError:
        return None  # no longer there: nothing to compare
    if (
        record.get("source_mtime_ns") is not None
        and stat.st_size == record.get("source_size")
        and stat.st_mtime_ns == record["source_mtime_ns"]
    ):
        return None  # as recorded at load time: not read
    extract, month, revision = record["extract"], record["month"], int(record["source_revision"])
    try:
        now = LandingFile(path, extract, month, revision).sha256()
    except OSError as error:
        return f"{path}: cannot be read to check it is as loaded ({error.strerror or error})"
    loaded = record.get("source_sha256") or ""
    if now == loaded:
        return None
    when = _loaded_time(record.get("loaded_at"))
    correction = f"{extract}_{month}_r{revision + 1}{path.suffix}"
    return (
        f"{path}: changed after it was loaded (SHA-256 now {now[:12]}, {loaded[:12]} when loaded "
        f"as {extract} {month} revision {revision}{when}); the landing zone must stay as "
        f"loaded: deliver a correction as a new revision ({correction})"
    )


def _loaded_time(value: str | None) -> str:
    """` on <date> <time> UTC` for the ledger's `loaded_at`, or nothing when not recorded."""
    if not value:
        return ""
    try:
        at = datetime.fromisoformat(value).astimezone(UTC)
    except ValueError:
        return f" on {value}"
    return f" on {at:%Y-%m-%d %H:%M:%S} UTC"

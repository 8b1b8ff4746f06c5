"""Loading one extract-month: read the landing file, check its contract, write raw Parquet.

`load_partition` is what each monthly ingest asset runs; the file is read and checked (contract,
row rules, profile) in DuckDB by orchestration/checked_file.py. A delivery whose control file
(DESIGN §3) disagrees with it is rejected as a truncated or corrupted transfer; the extraction
time (control file, else the file's modification time, marked as assumed) goes into the load
ledger, where dbt reads it to decide when a case is final. Besides the raw Parquet and the
quarantine it writes the month's quality profile (orchestration/profiling.py) from every
delivered row. It never modifies the landing file, and it writes its outputs atomically
(temporary file, then rename), so a failure leaves the previous load of that month, and every
other month, as it was. Re-running it on the same file gives the same Parquet (idempotent).
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from orchestration.atomic import write_parquet
from orchestration.checked_file import (
    LINEAGE_COLUMNS,
    CheckedFile,
    ContractBreach,
    read_delivery,
    shorten,
)
from orchestration.landing import (
    Control,
    ControlFileError,
    LandingFile,
    extraction,
    latest_delivery,
    read_control,
)
from orchestration.profiling import profile_partition, profile_table
from orchestration.settings import Settings
from schemas.contracts import EXTRACTS

__all__ = ["LINEAGE_COLUMNS", "ContractBreach", "shorten", "load_partition", "needs_load"]


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


def raw_path(settings: Settings, extract: str, month: str) -> Path:
    return settings.raw_dir / extract / f"{extract}_{month}.parquet"


def quarantine_path(settings: Settings, extract: str, month: str) -> Path:
    return settings.quarantine_dir / extract / f"{extract}_{month}.parquet"


def profile_path(settings: Settings, extract: str, month: str) -> Path:
    """The quality profile of an extract-month: one row per region (orchestration/profiling)."""
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

    The profile (one row per region, see orchestration/profiling.py) is written before the
    ledger row, so a ledger row always has the profile of the same delivery beside it.
    """
    extract = EXTRACTS[extract_name]
    delivery = latest_delivery(settings.landing_dir, extract_name, month)
    if delivery is None:
        expected = settings.landing_dir / extract_name / f"{extract_name}_{month}.csv"
        raise MissingDelivery(f"{expected}: no delivery for {extract_name} {month}")
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
    )
    ledger = asdict(report)
    ledger["set_aside_by_reason"] = json.dumps(report.set_aside_by_reason, sort_keys=True)
    write_parquet(pa.Table.from_pylist([ledger]), manifest_path(settings, extract_name, month))
    return report


def previous_load(settings: Settings, extract_name: str, month: str) -> dict | None:
    """The manifest of the month's last successful load, if any."""
    path = manifest_path(settings, extract_name, month)
    return pq.read_table(path).to_pylist()[0] if path.exists() else None


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

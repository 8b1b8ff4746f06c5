"""Loading one extract-month: read the landing file, check its contract, write raw Parquet.

`load_partition` is what each monthly ingest asset runs. A delivery whose control file
(DESIGN §3) disagrees with it is rejected as a truncated or corrupted transfer; the extraction
time (control file, else the file's modification time, marked as assumed) goes into the load
ledger, where dbt reads it to decide when a case is final. Besides the raw Parquet and the
quarantine it writes the month's quality profile (orchestration/profiling.py) from every
delivered row. It never modifies the landing file, and it writes its outputs atomically
(temporary file, then rename), so a failure leaves the previous load of that month, and every
other month, as it was. Re-running it on the same file gives the same Parquet (idempotent).
"""

from __future__ import annotations

import io
import json
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd
import pandera.errors
import pyarrow as pa
import pyarrow.parquet as pq

from orchestration.atomic import write_parquet
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
from schemas.contracts import EXTRACTS, Extract, pandera_schema
from schemas.row_rules import set_aside_reasons

LINEAGE_COLUMNS = ("_month", "_source_file", "_source_revision", "_source_line")
ARROW_TYPES = {"str": pa.string(), "date": pa.date32(), "int": pa.int64(), "month": pa.string()}


def shorten(text: str, limit: int = 80) -> str:
    """A delivered value echoed in a message: one line, at most `limit` characters."""
    text = " ".join(str(text).split())
    return text if len(text) <= limit else f"{text[: limit - 25]}... ({len(text):,} characters)"


class ContractBreach(Exception):
    """A delivered file breaks the landing-zone contract: the whole partition is rejected."""

    def __init__(self, file: Path, rule: str, line: int | None = None, detail: str = ""):
        self.file, self.rule, self.line, self.detail = file, rule, line, detail
        where = f"line {line}" if line else "file"
        super().__init__(f"{file}: {where}: {rule}{': ' + detail if detail else ''}")


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


def read_as_text(delivery: LandingFile, extract: Extract) -> pd.DataFrame:
    """The file as text columns (null for an empty field), checking encoding and shape."""
    if delivery.path.suffix == ".parquet":
        try:
            frame = pd.read_parquet(delivery.path)
        except (pa.ArrowException, OSError, ValueError):
            size = delivery.path.stat().st_size
            raise ContractBreach(
                delivery.path,
                "must be a readable Parquet file",
                detail=f"{size:,} bytes that are not complete Parquet (empty or truncated?)",
            ) from None
        for name in frame.columns:
            column = frame[name]
            if pd.api.types.is_datetime64_any_dtype(column):
                frame[name] = column.dt.strftime("%Y-%m-%d")
            elif column.dtype == object and column.map(lambda v: hasattr(v, "isoformat")).any():
                frame[name] = column.map(lambda v: v.isoformat() if hasattr(v, "isoformat") else v)
        return frame.astype("string")

    raw = delivery.path.read_bytes()
    if b"\x00" in raw:  # rejected, never stripped: a delivered value is never altered
        at = raw.index(b"\x00")
        line = raw[:at].count(b"\n") + 1
        raise ContractBreach(delivery.path, "text must not contain NUL bytes", line, "byte 0x00")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = raw[: error.start].count(b"\n") + 1
        raise ContractBreach(
            delivery.path, "encoding must be UTF-8", line, f"byte 0x{raw[error.start]:02x}"
        ) from None
    if not text.strip():
        raise ContractBreach(delivery.path, "a header row is required", 1, "the file is empty")
    try:
        frame = pd.read_csv(
            io.StringIO(text),
            dtype=str,
            keep_default_na=False,
            na_values=[""],
            skipinitialspace=False,
        )
    except pd.errors.ParserError as error:
        raise ContractBreach(
            delivery.path,
            "comma separated with one field per column",
            detail=shorten(str(error).strip()),
        ) from None
    return frame.astype("string")


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


def check_contract(frame: pd.DataFrame, extract: Extract, delivery: LandingFile) -> None:
    """Raise ContractBreach naming the first offending row and rule."""
    expected = extract.column_names
    missing = [c for c in expected if c not in frame.columns]
    if missing:
        raise ContractBreach(delivery.path, "missing column", 1, ", ".join(missing))
    unexpected = [c for c in frame.columns if c not in expected]
    if unexpected:
        raise ContractBreach(
            delivery.path, "unexpected column", 1, shorten(", ".join(map(str, unexpected)))
        )
    try:
        pandera_schema(extract).validate(frame, lazy=True)
    except pandera.errors.SchemaErrors as errors:
        cases = errors.failure_cases.dropna(subset=["index"]).sort_values("index")
        if cases.empty:
            raise ContractBreach(delivery.path, "contract", detail=shorten(str(errors))) from None
        first = cases.iloc[0]
        line = int(first["index"]) + 2  # header is line 1
        more = len(cases) - 1
        value = shorten(repr(first["failure_case"]))
        detail = f"column {first['column']} = {value} is not {shorten(str(first['check']), 200)}"
        if more:
            detail += f" ({more} more failing value{'s' if more > 1 else ''})"
        raise ContractBreach(delivery.path, "bad value", line, detail) from None


def typed_table(frame: pd.DataFrame, extract: Extract, delivery: LandingFile) -> pa.Table:
    """Typed Arrow table in contract column order, with lineage columns."""
    arrays, fields = [], []
    for column in extract.columns:
        values = frame[column.name]
        if column.kind == "date":
            data = pd.to_datetime(values, format="%Y-%m-%d").dt.date
        elif column.kind == "int":
            data = pd.array(values, dtype="Int64")
        else:
            data = values
        arrow_type = ARROW_TYPES[column.kind]
        arrays.append(pa.array(data, type=arrow_type, from_pandas=True))
        fields.append(pa.field(column.name, arrow_type))
    n = len(frame)
    lineage = [
        pa.array([delivery.month] * n, pa.string()),
        pa.array([delivery.path.name] * n, pa.string()),
        pa.array([delivery.revision] * n, pa.int32()),
        pa.array((frame.index.to_numpy() + 2).tolist(), pa.int64()),
    ]
    lineage_types = (pa.string(), pa.string(), pa.int32(), pa.int64())
    arrays += lineage
    fields += [pa.field(n_, t) for n_, t in zip(LINEAGE_COLUMNS, lineage_types, strict=True)]
    return pa.Table.from_arrays(arrays, schema=pa.schema(fields))


def set_aside_rows(frame: pd.DataFrame, reasons: pd.Series, delivery: LandingFile) -> pd.DataFrame:
    """The rows a row rule sets aside, with their reason, line (the header is line 1) and file."""
    kept = reasons == ""
    set_aside = frame[~kept].astype(object).where(frame[~kept].notna(), None)
    set_aside.insert(0, "_reason", reasons[~kept])
    set_aside.insert(1, "_source_line", set_aside.index.to_numpy() + 2)
    set_aside.insert(2, "_source_file", delivery.path.name)
    return set_aside


def write_quarantine(set_aside: pd.DataFrame, path: Path) -> None:
    """Write the rows set aside (atomically), or remove an earlier quarantine when none are."""
    if len(set_aside):
        write_parquet(pa.Table.from_pandas(set_aside, preserve_index=False), path)
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
        frame = read_as_text(delivery, extract)
    except ContractBreach:
        rows = count_rows_quickly(delivery)
        if control is not None and rows is not None:
            check_control(control, delivery, sha, rows)  # a truncated transfer says so
        raise
    check_control(control, delivery, sha, len(frame))
    extracted = extraction(delivery, control)
    check_contract(frame, extract, delivery)
    frame = frame[extract.column_names]

    reasons = set_aside_reasons(frame, extract, month)
    kept = reasons == ""
    table = typed_table(frame[kept], extract, delivery)
    set_aside = set_aside_rows(frame, reasons, delivery)
    set_aside.insert(3, "_month", month)

    out = raw_path(settings, extract_name, month)
    write_parquet(table, out)
    write_quarantine(set_aside, quarantine_path(settings, extract_name, month))
    profile = profile_partition(frame, reasons, extract, month)
    write_parquet(profile_table(profile), profile_path(settings, extract_name, month))

    by_reason = reasons[~kept].value_counts().sort_index()
    report = LoadReport(
        extract=extract_name,
        month=month,
        source_file=str(delivery.path),
        source_revision=delivery.revision,
        source_sha256=sha,
        rows_delivered=len(frame),
        rows_loaded=int(kept.sum()),
        rows_set_aside=int((~kept).sum()),
        set_aside_by_reason={str(k): int(v) for k, v in by_reason.items()},
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

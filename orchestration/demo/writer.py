"""Writing the demo landing zone: the monthly deliveries, their control files, the inspections file.

`generate_landing` runs the simulation, cuts each delivery as it was known when extracted,
applies the defects (built-in unification defects and injected ones), and writes CSV (UTF-8,
header, ISO dates, empty = null, `\\n` line ends) or Parquet (dates as date32, strings as
string, integers as int64) with the columns of docs/methodology.md#landing-contract in order.

Deliveries (docs/methodology.md#landing-contract): month M's first delivery `<extract>_<M>.<fmt>`
is extracted on day 1 to
4 of M+1 between 02:00 and 05:59 Europe/London (`extraction_time`: seeded, never the clock).
Extracts with a field completed later (`X.LATE_FIELDS`) are re-delivered with the same rows:
`_r2` on day 1 to 4 of M+2, and `_r3` on day 1 to 4 of M+4 when a late field was recorded in
between. A delivery shows a late field only if it was recorded before the extraction date.
"As of" is the latest first-delivery extraction time of the END month: re-deliveries extracted
after it are not written yet. Beside each delivery goes a control file `<file>.ctl` (JSON:
`extracted_at`, `row_count`, `sha256`, sorted keys), and both files' modification time is the
extraction time.
"""

from __future__ import annotations

import hashlib
import json
import os
import zlib
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from orchestration.demo import extracts as X
from orchestration.demo.defects import (
    ROW_DEFECTS,
    UNIFICATION_DEFECTS,
    DefectSpec,
    apply_defect,
    drop_keys,
    truncated,
    vanished_keys,
)
from orchestration.demo.inspections import inspection_rows
from orchestration.demo.simulate import (
    STREAMS,
    Simulation,
    as_delivered,
    month_index,
    month_label,
    month_start,
)

FORMATS = ("csv", "parquet")
# CSV as docs/methodology.md#landing-contract has it: header, comma, `\n`, empty = null, quotes
# only where needed. The
# pyarrow writer (much faster than pandas) cannot quote "only where needed", so it is used
# unquoted and refuses values that would need quotes; those files go through pandas.
_PLAIN_CSV = pacsv.WriteOptions(quoting_style="none", quoting_header="none", eol="\n")
LONDON = ZoneInfo("Europe/London")
CONTROL_SUFFIX = ".ctl"
# Revision -> months after the data month in which it is extracted (day 1 to 4, 02:00-05:59).
DELIVERY_LAG_MONTHS = {1: 1, 2: 2, 3: 4}
EXTRACTION_DAYS = (1, 4)
EXTRACTION_HOURS = (2, 5)


def extraction_time(seed: int, extract: str, mi: int, revision: int) -> datetime:
    """When revision `revision` of an extract's month mi is extracted (Europe/London, to the
    minute): a day 1 to 4 of the month DELIVERY_LAG_MONTHS[revision] after mi, between 02:00
    and 05:59 (times that exist exactly once even on the days the clocks change). Drawn from
    the `extractions` stream of (seed, extract, month, revision), never the clock."""
    rng = np.random.default_rng(
        [int(seed), STREAMS["extractions"], zlib.crc32(extract.encode("utf-8")), mi, revision]
    )
    day = int(rng.integers(EXTRACTION_DAYS[0], EXTRACTION_DAYS[1] + 1))
    hour = int(rng.integers(EXTRACTION_HOURS[0], EXTRACTION_HOURS[1] + 1))
    minute = int(rng.integers(0, 60))
    target = mi + DELIVERY_LAG_MONTHS[revision]
    return datetime(target // 12, target % 12 + 1, day, hour, minute, tzinfo=LONDON)


def delivery_name(extract: str, mi: int, revision: int, fmt: str) -> str:
    """`<extract>_<YYYY-MM>[_rN].<fmt>` (no suffix for the first delivery)."""
    suffix = "" if revision == 1 else f"_r{revision}"
    return f"{extract}_{month_label(mi)}{suffix}.{fmt}"


def _csv_column(values: np.ndarray, kind: str):
    if kind == "date":
        text = np.datetime_as_string(values, unit="D")
        return np.where(np.isnat(values), "", text)
    if kind == "int":
        values = np.asarray(values, dtype=np.int64)
        return pd.arrays.IntegerArray(np.maximum(values, 0), values < 0)
    return values


def _arrow_column(values: np.ndarray, kind: str) -> pa.Array:
    if kind == "date":
        return pa.array(values.astype("datetime64[D]"), type=pa.date32(), mask=np.isnat(values))
    if kind == "int":
        values = np.asarray(values, dtype=np.int64)
        return pa.array(values, type=pa.int64(), mask=values < 0)
    values = np.asarray(values, dtype=str)
    return pa.array(values, type=pa.string(), mask=values == "")


def write_table(
    frame: dict[str, np.ndarray], columns: Sequence[tuple[str, str]], path: Path, fmt: str
) -> int:
    """Write the given columns of a frame to path (CSV or Parquet); return the row count."""
    table = pa.table({name: _arrow_column(frame[name], kind) for name, kind in columns})
    if fmt == "csv":
        try:  # fast path: no value needs quoting (codes, identifiers, dates, numbers)
            pacsv.write_csv(table, path, _PLAIN_CSV)
            return table.num_rows
        except pa.ArrowInvalid:  # a value with a comma, quote or line end: quote it minimally
            pass
        data = pd.DataFrame({name: _csv_column(frame[name], kind) for name, kind in columns})
        if data.empty:
            data = pd.DataFrame(columns=[name for name, _ in columns])
        data.to_csv(path, index=False, encoding="utf-8", lineterminator="\n")
        return len(data)
    pq.write_table(table, path)
    return table.num_rows


def write_control(path: Path, extracted_at: datetime, rows: int) -> Path:
    """Write `<path>.ctl` for the file as it is now: JSON with `extracted_at` (ISO 8601 with
    offset), `row_count` (data rows) and `sha256` (of the file's bytes), sorted keys, `\\n`."""
    control = path.with_name(path.name + CONTROL_SUFFIX)
    content = {
        "extracted_at": extracted_at.isoformat(),
        "row_count": int(rows),
        "sha256": hashlib.sha256(path.read_bytes()).hexdigest(),
    }
    control.write_text(json.dumps(content, sort_keys=True) + "\n", encoding="utf-8")
    return control


def _truncate(frame: dict, columns, path: Path, fmt: str) -> int:
    """Overwrite path with the first half of the rows; a file without rows loses half its
    bytes. Returns the data rows now in the file."""
    if len(frame["_region"]) == 0:
        data = path.read_bytes()
        path.write_bytes(data[: len(data) // 2])
        return 0
    return write_table(truncated(frame), columns, path, fmt)


def _missing(values: np.ndarray) -> np.ndarray:
    if values.dtype.kind == "M":
        return np.isnat(values)
    return values == "NOT_RECORDED"


def generate_landing(
    out_dir: Path,
    start: str = "2019-04",
    end: str = "2025-03",
    scale: float = 0.02,
    seed: int = 20190401,
    unification_defects: bool = True,
    inject: Sequence[DefectSpec] = (),
    fmt: str = "csv",
    control_files: bool = True,
) -> dict:
    """Write every delivery of every extract for months start..end (inclusive `YYYY-MM`).

    First deliveries `<out_dir>/<extract>/<extract>_<YYYY-MM>.<fmt>`, re-deliveries `_r2`/`_r3`
    of the extracts with fields completed later (those extracted by the "as of" time), each
    with a control file `<name>.ctl` unless control_files is False, and
    `<out_dir>/inspections/inspections.<fmt>`. scale 1.0 is national volume. Same arguments
    give byte-identical files, and a month's first deliveries do not depend on the range
    requested (which re-deliveries exist depends on end). Write into an empty folder (or one
    this function wrote): other files there are left alone. Injected defects must fall inside
    the range; truncated_transfer needs control files.

    Returns a summary: rows per extract (first deliveries, total), months, scale, seed, as_of,
    the defects applied (kind, extract, region, month, share, rows affected, source),
    `deliveries` (path relative to out_dir, extract, month, revision, extracted_at, rows) and
    `late` (per extract, records whose late field was missing at first delivery and filled in
    a later one; for events and requirements, backdated terminations written).
    """
    if fmt not in FORMATS:
        raise ValueError(f"unknown format {fmt!r}: expected one of {', '.join(FORMATS)}")
    first, last = month_index(start), month_index(end)
    if last < first:
        raise ValueError(f"end {end} is before start {start}")
    inject = tuple(inject)
    for spec in inject:
        if not isinstance(spec, DefectSpec):
            raise TypeError(f"inject takes DefectSpec values, got {spec!r}")
        if not first <= month_index(spec.month) <= last:
            raise ValueError(f"defect {spec.label} is outside the range {start}..{end}")
        if spec.kind == "truncated_transfer" and not control_files:
            raise ValueError(
                f"defect {spec.label} needs control files: without a .ctl file a truncated "
                "transfer cannot be told from a complete file"
            )
    defects: list[tuple[DefectSpec, str]] = []
    if unification_defects:
        defects += [(spec, "unification") for spec, _ in UNIFICATION_DEFECTS]
    defects += [(spec, "injected") for spec in inject]

    sim = Simulation(first, last, scale, seed)
    out_dir = Path(out_dir)
    as_of = max(extraction_time(seed, name, last, 1) for name in X.MONTHLY_EXTRACTS)
    vanishing = [
        (spec, source, vanished_keys(
            sim.frame(spec.extract, month_index(spec.month) - 1),
            sim.frame(spec.extract, month_index(spec.month)),
            spec,
            seed,
        ))
        for spec, source in defects
        if spec.kind == "vanished_record"
    ]  # fmt: skip
    rows = {name: 0 for name in X.MONTHLY_EXTRACTS}
    late = {name: 0 for name in (*X.LATE_FIELDS, "events", "requirements")}
    applied: list[dict] = []
    deliveries: list[dict] = []
    files = 0

    def record(spec: DefectSpec, source: str, affected: int) -> None:
        applied.append(
            {
                "kind": spec.kind,
                "extract": spec.extract,
                "region": spec.region,
                "month": spec.month,
                "share": spec.share,
                "rows_affected": int(affected),
                "source": source,
            }
        )

    for mi in range(first, last + 1):
        label = month_label(mi)
        for name, layout in X.LAYOUTS.items():
            truth = sim.frame(name, mi)
            # Which deliveries of this month exist by "as of", and when each was extracted.
            schedule = [(1, extraction_time(seed, name, mi, 1))]
            if name in X.LATE_FIELDS:
                r2, r3 = (extraction_time(seed, name, mi, r) for r in (2, 3))
                if r2 <= as_of:
                    schedule.append((2, r2))
                if r3 <= as_of:
                    recorded = truth["_recorded"]
                    on2, on3 = np.datetime64(r2.date()), np.datetime64(r3.date())
                    if ((recorded >= on2) & (recorded < on3)).any():
                        schedule.append((3, r3))
            frames = []
            for revision, extracted_at in schedule:
                frame = as_delivered(name, truth, np.datetime64(extracted_at.date()))
                for spec, source, keys in vanishing:
                    if spec.extract == name and month_index(spec.month) <= mi:
                        frame, dropped = drop_keys(frame, name, keys)
                        if revision == 1 and spec.month == label:
                            record(spec, source, dropped)
                for spec, source in defects:
                    if spec.extract == name and spec.month == label and spec.kind in ROW_DEFECTS:
                        frame, affected = apply_defect(frame, spec, seed)
                        if revision == 1:
                            record(spec, source, affected)
                frames.append(frame)
            missing = [
                (spec, source)
                for spec, source in defects
                if spec.extract == name and spec.month == label and spec.kind == "missing_month"
            ]
            if missing:  # nothing delivered for this extract-month, not even later
                for spec, source in missing:
                    record(spec, source, len(frames[0]["_region"]))
                continue
            truncate = [
                (spec, source)
                for spec, source in defects
                if spec.extract == name
                and spec.month == label
                and spec.kind == "truncated_transfer"
            ]

            folder = out_dir / name
            folder.mkdir(parents=True, exist_ok=True)
            for k, ((revision, extracted_at), frame) in enumerate(
                zip(schedule, frames, strict=True)
            ):
                path = folder / delivery_name(name, mi, revision, fmt)
                written = write_table(frame, layout.columns, path, fmt)
                control = path.with_name(path.name + CONTROL_SUFFIX)
                if control_files:
                    write_control(path, extracted_at, written)
                else:
                    control.unlink(missing_ok=True)  # never leave a stale one beside new data
                if truncate and k == len(schedule) - 1:  # the newest delivery arrives cut
                    kept = _truncate(frame, layout.columns, path, fmt)
                    for spec, source in truncate:
                        record(spec, source, written - kept)
                    written = kept
                stamp = extracted_at.timestamp()
                os.utime(path, (stamp, stamp))
                if control_files:
                    os.utime(control, (stamp, stamp))
                files += 1
                if revision == 1:
                    rows[name] += written
                deliveries.append(
                    {
                        "path": path.relative_to(out_dir).as_posix(),
                        "extract": name,
                        "month": label,
                        "revision": revision,
                        "extracted_at": extracted_at.isoformat(),
                        "rows": int(written),
                    }
                )
            if name in X.LATE_FIELDS and len(frames) > 1:
                field = X.LATE_FIELDS[name]
                filled = _missing(frames[0][field]) & ~_missing(frames[-1][field])
                late[name] += int(filled.sum())
            elif name in ("events", "requirements"):
                ended, ms = frames[0]["termination_date"], month_start(mi)
                backdated = (ended < ms) & (frames[0]["_term_recorded"] >= ms)  # NaT: False
                late[name] += int(backdated.sum())
    folder = out_dir / "inspections"
    folder.mkdir(parents=True, exist_ok=True)
    inspections = inspection_rows(seed)
    rows["inspections"] = write_table(
        inspections, X.INSPECTION_COLUMNS, folder / f"inspections.{fmt}", fmt
    )
    files += 1
    return {
        "out_dir": str(out_dir),
        "start": month_label(first),
        "end": month_label(last),
        "months": [month_label(mi) for mi in range(first, last + 1)],
        "scale": float(scale),
        "seed": int(seed),
        "fmt": fmt,
        "files": files,
        "rows": rows,
        "unification_defects": bool(unification_defects),
        "control_files": bool(control_files),
        "as_of": as_of.isoformat(),
        "defects": applied,
        "deliveries": deliveries,
        "late": late,
    }

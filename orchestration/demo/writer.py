"""Writing the demo landing zone: one file per extract and month, plus the inspections file.

`generate_landing` runs the simulation, applies the defects (built-in unification defects and
injected ones) to the named files, and writes CSV (UTF-8, header, ISO dates, empty = null, `\\n`
line ends) or Parquet (dates as date32, strings as string, integers as int64) with the columns
of DESIGN §3 in order.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from orchestration.demo import extracts as X
from orchestration.demo.defects import UNIFICATION_DEFECTS, DefectSpec, apply_defect
from orchestration.demo.inspections import inspection_rows
from orchestration.demo.simulate import Simulation, month_index, month_label

FORMATS = ("csv", "parquet")


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
    if fmt == "csv":
        data = pd.DataFrame({name: _csv_column(frame[name], kind) for name, kind in columns})
        if data.empty:
            data = pd.DataFrame(columns=[name for name, _ in columns])
        data.to_csv(path, index=False, encoding="utf-8", lineterminator="\n")
        return len(data)
    table = pa.table({name: _arrow_column(frame[name], kind) for name, kind in columns})
    pq.write_table(table, path)
    return table.num_rows


def generate_landing(
    out_dir: Path,
    start: str = "2019-04",
    end: str = "2025-03",
    scale: float = 0.02,
    seed: int = 20190401,
    unification_defects: bool = True,
    inject: Sequence[DefectSpec] = (),
    fmt: str = "csv",
) -> dict:
    """Write `<out_dir>/<extract>/<extract>_<YYYY-MM>.<fmt>` for every extract and month.

    start and end are inclusive `YYYY-MM`; scale 1.0 is national volume. Also writes
    `<out_dir>/inspections/inspections.<fmt>`. Same arguments give byte-identical files, and a
    month's files do not depend on the range requested. Injected defects must fall inside the
    range. Returns a summary: rows per extract (total), months, scale, seed, and the defects
    applied (kind, extract, region, month, share, rows affected, source).
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
    defects: list[tuple[DefectSpec, str]] = []
    if unification_defects:
        defects += [(spec, "unification") for spec, _ in UNIFICATION_DEFECTS]
    defects += [(spec, "injected") for spec in inject]

    sim = Simulation(first, last, scale, seed)
    out_dir = Path(out_dir)
    rows = {name: 0 for name in X.MONTHLY_EXTRACTS}
    applied: list[dict] = []
    files = 0
    for mi in range(first, last + 1):
        label = month_label(mi)
        for name, layout in X.LAYOUTS.items():
            frame = sim.frame(name, mi)
            for spec, source in defects:
                if spec.extract == name and spec.month == label:
                    frame, affected = apply_defect(frame, spec, seed)
                    applied.append(
                        {
                            "kind": spec.kind,
                            "extract": spec.extract,
                            "region": spec.region,
                            "month": spec.month,
                            "share": spec.share,
                            "rows_affected": affected,
                            "source": source,
                        }
                    )
            folder = out_dir / name
            folder.mkdir(parents=True, exist_ok=True)
            rows[name] += write_table(frame, layout.columns, folder / f"{name}_{label}.{fmt}", fmt)
            files += 1
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
        "defects": applied,
    }

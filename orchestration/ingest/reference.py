"""Loading a reference extract (one file, not monthly): today the HMIP inspections.

`load_reference` reads `<landing>/<name>/<name>.csv` (or `.parquet`), checks it against its
contract (schemas/contracts.py `REFERENCE_EXTRACTS`) with the same code as the monthly
extracts (orchestration/ingest/checked_file.py: a breach is one line naming the file, line and
rule),
sets aside rows that break a row rule (a null in a required field, a duplicate key) into
`<data>/quarantine/<name>/<name>.parquet` with their reason and line, and writes the rest to
`<data>/raw/<name>/<name>.parquet` with lineage columns `_source_file` and `_source_line`, and
the file it came from (`landing_file`, `<name>/<file name>`) and its SHA-256 as the Parquet's
metadata, which `reference_ledger` reads for an edition's `reference_loads.csv`.

When no file has been delivered it writes an empty Parquet with the same columns, so the models
that read it build empty tables. Writes are atomic (orchestration/atomic.py): a breach leaves the
previous load as it was. The landing file is only ever read.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pyarrow as pa

from orchestration.atomic import write_parquet
from orchestration.ingest.checked_file import CheckedFile, ContractBreach, read_delivery
from orchestration.ingest.extract_month import write_quarantine
from orchestration.ingest.landing import LandingFile
from orchestration.settings import Settings
from schemas.contracts import REFERENCE_EXTRACTS

REFERENCE_LINEAGE = ("_source_file", "_source_line")
SUFFIXES = (".csv", ".parquet")


@dataclass
class ReferenceLoadReport:
    """What one load of a reference extract did (the asset's materialisation metadata)."""

    extract: str
    delivered: bool
    source_file: str | None
    source_sha256: str | None
    rows_delivered: int
    rows_loaded: int
    rows_set_aside: int
    set_aside_by_reason: dict[str, int] = field(default_factory=dict)
    raw_path: str = ""
    quarantine_path: str | None = None


def reference_raw_path(settings: Settings, name: str) -> Path:
    return settings.raw_dir / name / f"{name}.parquet"


def reference_quarantine_path(settings: Settings, name: str) -> Path:
    return settings.quarantine_dir / name / f"{name}.parquet"


def reference_delivery(landing_dir: Path, name: str) -> LandingFile | None:
    """The delivered file of a reference extract, or None; both a CSV and a Parquet is a breach
    (which one is meant cannot be told)."""
    folder = landing_dir / name
    found = [
        folder / f"{name}{suffix}" for suffix in SUFFIXES if (folder / f"{name}{suffix}").is_file()
    ]
    if len(found) > 1:
        raise ContractBreach(
            folder, "one file per reference extract", detail=", ".join(p.name for p in found)
        )
    return LandingFile(found[0], name, month="", revision=1) if found else None


def load_reference(settings: Settings, name: str) -> ReferenceLoadReport:
    """Validate the delivered reference extract `name`; write its raw and quarantine Parquet.

    Raises ContractBreach (one line: file, line, rule) when the file breaks its contract; the
    previous raw Parquet then stays as it was.
    """
    extract = REFERENCE_EXTRACTS[name]
    out = reference_raw_path(settings, name)
    quarantine = reference_quarantine_path(settings, name)
    delivery = reference_delivery(settings.landing_dir, name)
    if delivery is None:
        expected = settings.landing_dir / name / f"{name}.csv"
        empty = pa.table({c: pa.array([], pa.string()) for c in [*extract.column_names, "_line"]})
        with CheckedFile(empty, extract, LandingFile(expected, name, "", 1), None) as checked:
            write_parquet(checked.raw_table(REFERENCE_LINEAGE), out)
        quarantine.unlink(missing_ok=True)
        return ReferenceLoadReport(name, False, None, None, 0, 0, 0, {}, str(out), None)

    sha = delivery.sha256()
    with CheckedFile(read_delivery(delivery), extract, delivery, None) as checked:
        loaded = {"landing_file": f"{name}/{delivery.path.name}", "source_sha256": sha}
        write_parquet(checked.raw_table(REFERENCE_LINEAGE).replace_schema_metadata(loaded), out)
        set_aside = checked.set_aside_table(with_month=False)
        write_quarantine(set_aside, quarantine)
        by_reason = checked.set_aside_by_reason()
        delivered = checked.rows
    return ReferenceLoadReport(
        extract=name,
        delivered=True,
        source_file=str(delivery.path),
        source_sha256=sha,
        rows_delivered=delivered,
        rows_loaded=delivered - set_aside.num_rows,
        rows_set_aside=set_aside.num_rows,
        set_aside_by_reason=by_reason,
        raw_path=str(out),
        quarantine_path=str(quarantine) if set_aside.num_rows else None,
    )


def reference_ledger(settings: Settings) -> list[dict[str, str]]:
    """The reference files the raw reference extracts were loaded from: extract, landing_file
    and source_sha256 of each one delivered (none when the extract was not delivered, or was
    loaded before the file was recorded)."""
    import pyarrow.parquet as pq

    rows = []
    for name in sorted(REFERENCE_EXTRACTS):
        path = reference_raw_path(settings, name)
        metadata = (pq.read_schema(path).metadata or {}) if path.exists() else {}
        if b"source_sha256" in metadata:
            rows.append(
                {
                    "extract": name,
                    "landing_file": metadata[b"landing_file"].decode(),
                    "source_sha256": metadata[b"source_sha256"].decode(),
                }
            )
    return rows

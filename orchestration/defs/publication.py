"""Publication assets: the candidate tables of an edition (with revisions against the latest
release), the quality gate on them, the staged edition (bulletin, workbook, CSV, Parquet, data
dictionary), built only when the gate passes, and the blocking Great Expectations validation of
what was staged.

The gate re-reads `publication_cells` and `period_quality` from the warehouse itself, so it
holds whatever produced the candidate tables (a full run, or a backfill that selects only the
publication assets). An unreviewed WARN on a cell the edition publishes holds the edition,
naming the flags: the check warns, and `edition_files`, which runs the same gate again before
writing anything, stages nothing, so even a selection without the check cannot stage a
suppressed or unreviewed cell. A held edition is the gate's decision, not a fault: the run
succeeds, and `edition_held_alert` (defs/automation.py) tells a person. Nothing is released here:
staging is what a person reviews before release (defs/release.py)."""

import hashlib
import json
import shutil
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path

import dagster as dg
import duckdb
import pandas as pd

from orchestration.asset_metadata import STATISTICS, tables_metadata
from orchestration.atomic import building
from orchestration.code_digest import code_digest
from orchestration.defs.warehouse import WAREHOUSE_POOL
from orchestration.ingest.reference import reference_ledger
from orchestration.publication.bulletin import build_bulletin
from orchestration.publication.dictionary import data_dictionary, dbt_column_docs
from orchestration.publication.gate import (
    gate_violations,
    unreviewed_flag_ids,
    warning_violations,
    window_holds,
)
from orchestration.publication.revisions import compare, read_published_tables
from orchestration.publication.tables import (
    MART_INPUTS,
    edition_tables,
    edition_window,
    measure_sources,
    table_note_keys,
    table_periods,
)
from orchestration.publication.validation import (
    VALIDATION_DIR,
    read_result,
    rule_checks,
    run_checks,
    table_checks,
    validate_edition,
    write_result,
)
from orchestration.publication.workbook import Cover, build_xlsx, convert_to_ods, find_soffice
from orchestration.release import edition_inputs
from orchestration.release.publish import content_digest, file_sha256, folder_hashes, latest_release
from orchestration.resources import PipelineResource
from orchestration.settings import Settings
from orchestration.warehouse.dbt_project import MANIFEST_PATH
from schemas.published import EDITION_TABLES, REVISABLE_TABLES, REVISIONS, pandera_schema

WORKBOOK_STEM = "probation-performance"
# The load ledger an edition keeps (loads.csv): what `rebuild` fetches from the landing zone.
LEDGER_COLUMNS = [
    "extract", "month_key", "source_revision", "source_sha256", "landing_file", "extracted_at",
    "extracted_at_source",
]  # fmt: skip


class EditionConfig(dg.Config):
    """Which edition to build: its last month `YYYY-MM`; empty means the newest month measured."""

    edition: str | None = None


def read_marts(settings: Settings, names: list[str]) -> dict[str, pd.DataFrame]:
    """The tables an asset or check reads, from one read-only connection opened and closed
    here (every caller is in the warehouse pool), so they come from one state of the warehouse."""
    with duckdb.connect(str(settings.warehouse_path), read_only=True) as con:
        return {name: con.sql(f"select * from {name}").df() for name in dict.fromkeys(names)}


@dg.asset(
    group_name="edition",
    owners=STATISTICS,
    deps=[*MART_INPUTS, "stg_loads"],
    pool=WAREHOUSE_POOL,
    kinds={"pandas", "parquet"},
    description=(
        "Candidate tables of an edition, tidy and validated: national figures by month, "
        "regional figures by quarter, target attainment, ratings, inspections, circumstances "
        "and quality, selected from publication_cells and the rating marts and rounded, with "
        "[r] and a revisions table against the latest release. Written to "
        "candidates/<edition>/ for the quality gate."
    ),
)
def publication_tables(
    context: dg.AssetExecutionContext, config: EditionConfig, pipeline: PipelineResource
) -> dg.MaterializeResult:
    settings = pipeline.settings()
    marts = read_marts(settings, [*MART_INPUTS, "stg_loads"])
    edition = _staged_edition(config, marts["publication_cells"])
    cells = marts["publication_cells"]
    measured = cells.loc[cells["period_type"].eq("MONTH"), "period"]
    if not (measured == edition).any():
        span = f"data runs from {measured.min()} to {measured.max()}" if len(measured) else "none"
        raise dg.Failure(
            description=f"edition {edition}: no data for that month ({span})", allow_retries=False
        )
    window = edition_window(edition)
    tables = edition_tables(window, marts)
    # Revisions against the last release (its tables and load ledger are in its folder).
    loads = ledger(marts["stg_loads"])
    previous = latest_release(settings)
    before, loads_before = None, None
    if previous:
        folder = Path(previous["folder"])  # where the release is now
        before = read_published_tables(folder, REVISABLE_TABLES)
        if (folder / "loads.csv").exists():
            loads_before = pd.read_csv(folder / "loads.csv", dtype=str)
    tables, revisions = compare(
        tables, before, loads.astype(str), loads_before,
        measure_sources(marts["dim_measures"]), EDITION_TABLES,
    )  # fmt: skip
    tables[REVISIONS.name] = pandera_schema(REVISIONS).validate(revisions)
    manifest = {
        "edition": edition,
        # the reference files (inspections) it was built from, for `rebuild` as loads.csv is
        "reference_loads": reference_ledger(settings),
        "compared_with": previous["version"] if previous else None,
        "periods": table_periods(window),
        "notes": table_note_keys(window, marts),
        "rows": {name: len(table) for name, table in tables.items()},
    }
    # The candidate's id is the digest of its content: the same tables, ledger and notes keep
    # the same id, so edition_files knows there is nothing to rebuild.
    manifest["candidate_id"] = candidate_digest(tables, loads, manifest)
    out = settings.candidates_dir / edition
    current = out / "candidate.json"
    if not (current.exists() and json.loads(current.read_text()) == manifest):
        with building(out) as tmp:
            tmp.mkdir()
            for name, table in tables.items():
                table.to_parquet(tmp / f"{name}.parquet", index=False)
            loads.to_csv(tmp / "loads.csv", index=False)
            reference_loads(manifest).to_csv(tmp / REFERENCE_LOADS, index=False)
            (tmp / "candidate.json").write_text(json.dumps(manifest, indent=2))
    statuses = pd.concat([t["cell_status"] for t in tables.values() if "cell_status" in t])
    return dg.MaterializeResult(
        metadata={
            **tables_metadata(tables),
            "edition": edition,
            "candidates_dir": dg.MetadataValue.path(str(out)),
            **{f"{n}_rows": len(t) for n, t in tables.items()},
            "compared_with": manifest["compared_with"] or "no earlier release",
            "revised_values": len(revisions),
            "suppressed_cells": int(statuses.eq("suppressed").sum()),
            "confidential_cells": int(statuses.eq("confidential").sum()),
        }
    )


REFERENCE_LOADS = "reference_loads.csv"


def reference_loads(manifest: dict) -> pd.DataFrame:
    """The reference files an edition was built from, as `reference_loads.csv`."""
    columns = ["extract", "landing_file", "source_sha256"]
    return pd.DataFrame(manifest["reference_loads"], columns=columns)


def ledger(stg_loads: pd.DataFrame) -> pd.DataFrame:
    """The ledger an edition keeps: each extract-month's landing file (`<extract>/<name>`,
    wherever the landing zone is), revision, SHA-256 and extraction time, in a fixed order."""
    names = stg_loads["source_file"].map(lambda f: Path(f).name)
    loads = stg_loads.assign(
        landing_file=stg_loads["extract"] + "/" + names,
        extracted_at=stg_loads["extracted_at"].astype(str),
    )
    return loads.sort_values(["extract", "month_key"])[LEDGER_COLUMNS].reset_index(drop=True)


def candidate_digest(tables: dict[str, pd.DataFrame], loads: pd.DataFrame, manifest: dict) -> str:
    """SHA-256 of a candidate's content: every table (columns, types and values, in order),
    the load ledger it was built from, and its manifest (periods, notes, compared_with)."""
    digest = hashlib.sha256(json.dumps(manifest, sort_keys=True, default=str).encode())
    for name, frame in sorted({**tables, "loads": loads}.items()):
        shape = [name, list(frame.columns), list(map(str, frame.dtypes))]
        digest.update(json.dumps(shape).encode())
        digest.update(pd.util.hash_pandas_object(frame, index=False).to_numpy().tobytes())
    return digest.hexdigest()


def _staged_edition(config: EditionConfig, cells: pd.DataFrame) -> str:
    """The edition publication_tables staged: the configured one, or the newest month measured
    in `publication_cells`."""
    if config.edition:
        return config.edition
    return cells.loc[cells["period_type"].eq("MONTH"), "period"].max()


GATE_INPUTS = ["publication_cells", "period_quality"]


def record_gate(settings: Settings, edition: str, problems: list[str]) -> None:
    """The gate's verdict on the current candidate, beside it: a release checks that the
    staged build comes from a candidate that passed."""
    folder = settings.candidates_dir / edition
    if folder.exists():
        (folder / "gate.json").write_text(
            json.dumps({"passed": not problems, "problems": problems})
        )


def run_gate(
    settings: Settings, edition: str, marts: dict[str, pd.DataFrame]
) -> tuple[list[str], list[str]]:
    """The gate on the candidate tables of an edition, against publication_cells and
    period_quality re-read from the warehouse (GATE_INPUTS in `marts`): (problems as
    sentences, unreviewed flag ids)."""
    folder = settings.candidates_dir / edition
    if not (folder / "candidate.json").exists():
        return [f"edition {edition}: no candidate tables in {folder} (run publication_tables)"], []
    tables = {n: pd.read_parquet(folder / f"{n}.parquet") for n in EDITION_TABLES}
    window = edition_window(edition)
    cells = marts["publication_cells"]
    problems = warning_violations(window, cells, settings.reviews_path)
    problems += gate_violations(tables, marts["period_quality"])
    return problems, unreviewed_flag_ids(window_holds(window, cells))


@dg.asset_check(
    asset=publication_tables,
    pool=WAREHOUSE_POOL,
    description=(
        "The quality gate: no cell the edition publishes holds it (an unreviewed quality flag "
        "on a cell that is not [z], publication_cells.holds_edition), and every national and "
        "regional cell in a period period_quality marks SUPPRESS publishes no value. Re-reads "
        "both from the warehouse. An edition it holds is a warning, not a failed run: "
        "edition_files runs the same gate and does not stage it, and the alert names the flags."
    ),
)
def publication_respects_quality_gate(
    config: EditionConfig, pipeline: PipelineResource
) -> dg.AssetCheckResult:
    settings = pipeline.settings()
    marts = read_marts(settings, GATE_INPUTS)
    edition = _staged_edition(config, marts["publication_cells"])
    problems, unreviewed = run_gate(settings, edition, marts)
    record_gate(settings, edition, problems)
    return dg.AssetCheckResult(
        passed=not problems,
        severity=dg.AssetCheckSeverity.WARN,  # held is the gate's decision, not a fault
        description=(
            f"edition {edition} held: " + "; ".join(problems[:10])
            if problems
            else "No unreviewed quality flag in the window; every suppressed period is masked."
        ),
        metadata={
            "edition": edition,
            "violations": len(problems),
            "unreviewed_flags": dg.MetadataValue.json(unreviewed),
            "reviews_file": dg.MetadataValue.path(str(settings.reviews_path)),
        },
    )


@dg.asset(
    group_name="edition",
    owners=STATISTICS,
    deps=[publication_tables],
    pool=WAREHOUSE_POOL,
    kinds={"csv", "parquet", "xlsx"},
    output_required=False,  # an edition the gate holds is not staged, and the run is not failed
    description=(
        "The staged edition in staging/<edition>/, built only when the quality gate passes (an "
        "edition it holds is not staged: no materialization, and the run still succeeds): "
        "the accessible workbook (XLSX from gptables, ODS from headless LibreOffice), every "
        "table as tidy CSV and Parquet, and a data dictionary generated from the dbt docs. "
        "Nothing is released here."
    ),
)
def edition_files(
    context: dg.AssetExecutionContext, config: EditionConfig, pipeline: PipelineResource
) -> Iterator[dg.MaterializeResult]:
    settings = pipeline.settings()
    marts = read_marts(settings, [*GATE_INPUTS, "publication_notes"])
    edition = _staged_edition(config, marts["publication_cells"])
    problems, _ = run_gate(settings, edition, marts)
    record_gate(settings, edition, problems)
    if problems:  # held: an outcome of the gate, not a fault; the staged files stay as they were
        context.log.warning(f"edition {edition} held, not staged: " + "; ".join(problems[:3]))
        return
    source = settings.candidates_dir / edition
    candidate = json.loads((source / "candidate.json").read_text())
    target = settings.staging_dir / edition
    inputs = edition_inputs_digest(settings, candidate, marts["publication_notes"])
    if staged_is_current(target, inputs):  # the same inputs: the staged files stand
        built = json.loads((target / "edition.json").read_text())
        since = datetime.fromtimestamp((target / "edition.json").stat().st_mtime, UTC)
        context.log.info(f"edition {edition} unchanged since {since:%Y-%m-%d %H:%M} UTC")
        yield dg.MaterializeResult(
            metadata={
                "edition": edition,
                "folder": dg.MetadataValue.path(str(target)),
                "unchanged_since": since.isoformat(timespec="seconds"),
                "ods": built["ods"],
                "bulletin": dg.MetadataValue.path(str(target / "bulletin.html")),
            }
        )
        return
    tables = {
        name: pandera_schema(spec).validate(pd.read_parquet(source / f"{name}.parquet"))
        for name, spec in EDITION_TABLES.items()
    }
    threshold = settings.disclosure_threshold
    notes_text = {
        key: text.replace("{threshold_below}", str(threshold - 1)).replace(
            "{min_final_share}", f"{settings.min_final_share:.0%}"
        )
        for key, text in marts["publication_notes"].itertuples(index=False)
    }
    cover = Cover.read(settings.publication_file, threshold, edition)
    seconds: dict[str, float] = {}

    def timed(name, function, *args, **kwargs):
        began = time.perf_counter()
        try:
            return function(*args, **kwargs)
        finally:
            seconds[name] = round(time.perf_counter() - began, 2)

    with building(target) as tmp:
        tmp.mkdir()
        for folder in ("csv", "parquet"):
            (tmp / folder).mkdir()
        for name, table in tables.items():
            table.to_csv(tmp / "csv" / f"{name}.csv", index=False)
            table.to_parquet(tmp / "parquet" / f"{name}.parquet", index=False)
        dictionary = data_dictionary(list(EDITION_TABLES.values()), dbt_column_docs(MANIFEST_PATH))
        dictionary.to_csv(tmp / "data_dictionary.csv", index=False)
        shutil.copy2(source / "loads.csv", tmp / "loads.csv")
        shutil.copy2(source / REFERENCE_LOADS, tmp / REFERENCE_LOADS)
        edition_inputs.write(tmp, settings)  # what `rebuild` builds it again from
        xlsx = tmp / f"{WORKBOOK_STEM}-{edition}.xlsx"
        ods_name = xlsx.with_suffix(".ods").name if find_soffice(settings.soffice) else xlsx.name
        # The independent parts at once: the workbook and its ODS (LibreOffice, a process of
        # its own), the bulletin, and the validation of the tidy tables just written.
        with ThreadPoolExecutor(max_workers=2) as pool:

            def workbook():
                timed(
                    "workbook_xlsx_seconds", build_xlsx, xlsx,
                    edition_name=_month_words(edition), tables=tables, specs=EDITION_TABLES,
                    table_notes=candidate["notes"], periods=candidate["periods"],
                    notes_text=notes_text, cover=cover,
                )  # fmt: skip
                return timed("workbook_ods_seconds", convert_to_ods, xlsx,
                             find_soffice(settings.soffice))  # fmt: skip

            converting = pool.submit(workbook)
            validating = pool.submit(
                timed, "validation_seconds", run_checks,
                edition_checks(settings, edition, tables, candidate["notes"]),
                tmp / VALIDATION_DIR / "data_docs", cover.announced,
            )  # fmt: skip
            timed(
                "bulletin_seconds", build_bulletin, tmp / "bulletin.html",
                edition_name=_month_words(edition), tables=tables, cover=cover,
                workbook_name=ods_name,
            )  # fmt: skip
            ods, notice = converting.result()
            outcome = validating.result()
        if (ods or xlsx).name != ods_name:  # LibreOffice was found but did not convert
            build_bulletin(
                tmp / "bulletin.html", edition_name=_month_words(edition), tables=tables,
                cover=cover, workbook_name=(ods or xlsx).name,
            )  # fmt: skip
        files = sorted(p for p in tmp.rglob("*") if p.is_file() and VALIDATION_DIR not in p.parts)
        (tmp / "edition.json").write_text(
            json.dumps(
                {
                    "edition": edition,
                    "gate": "passed",
                    "candidate_id": candidate["candidate_id"],
                    "inputs_digest": inputs,
                    "compared_with": candidate["compared_with"],
                    "tables": candidate["rows"],
                    "ods": notice,
                    "files": {str(p.relative_to(tmp)): file_sha256(p) for p in files},
                },
                indent=2,
            )
        )
        write_result(tmp, outcome, content_digest(tmp))
    context.log.info(f"{notice} (staged in {target})")
    staged = sorted(p for p in target.rglob("*") if p.is_file() and VALIDATION_DIR not in p.parts)
    yield dg.MaterializeResult(
        metadata={
            **tables_metadata(tables),
            "edition": edition,
            "folder": dg.MetadataValue.path(str(target)),
            "files": dg.MetadataValue.md(
                "\n".join(f"- `{p}` ({p.stat().st_size:,} bytes)" for p in staged)
            ),
            "ods": notice,
            **seconds,
            "bulletin": dg.MetadataValue.path(str(target / "bulletin.html")),
            "validated": outcome["success"],
            **{f"rows_{n}": len(t) for n, t in tables.items()},
            **{
                f"preview_{n}": dg.MetadataValue.md(t.head(5).to_markdown(index=False))
                for n, t in tables.items()
            },
        }
    )


def edition_inputs_digest(settings: Settings, candidate: dict, notes: pd.DataFrame) -> str:
    """Everything the staged files are made from: the candidate (its id is its content's
    digest), the notes' text, the cover settings, the disclosure and provisional settings,
    whether LibreOffice is there, and the code."""
    cover = settings.publication_file
    parts = [
        candidate["candidate_id"],
        notes.to_json(orient="values"),
        hashlib.sha256(cover.read_bytes()).hexdigest() if cover.is_file() else "-",
        settings.disclosure_threshold,
        settings.min_final_share,
        find_soffice(settings.soffice) or "-",
        edition_inputs.digest(settings),
        code_digest(),
    ]
    return hashlib.sha256(json.dumps(parts, default=str).encode()).hexdigest()


def staged_is_current(folder: Path, inputs: str) -> bool:
    """The staged edition was built from the same inputs, its files are as written, and its
    validation result is for them."""
    try:
        built = json.loads((folder / "edition.json").read_text())
    except (OSError, ValueError):
        return False
    if built.get("inputs_digest") != inputs:
        return False
    files = folder_hashes(folder, skip=(VALIDATION_DIR,))
    files.pop("edition.json", None)
    result = read_result(folder)
    return (
        files == built["files"]
        and result is not None
        and result.get("content_digest") == content_digest(folder)
    )


def edition_checks(settings: Settings, edition: str, tables, notes) -> list:
    """The Great Expectations checks of an edition's tables
    (orchestration/publication/validation.py),
    with the quality and disclosure marts they are checked against."""
    marts = read_marts(
        settings,
        [
            "publication_cells",
            "period_quality",
            "int_circumstance_disclosure_audit",
            "publication_notes",
        ],
    )
    return table_checks(tables) + rule_checks(
        tables,
        marts["period_quality"],
        marts["int_circumstance_disclosure_audit"],
        settings.disclosure_threshold,
        notes,
        set(marts["publication_notes"]["note_key"]),
    )


def _month_words(month: str) -> str:
    return datetime.strptime(month, "%Y-%m").strftime("%B %Y")


@dg.asset_check(
    asset=edition_files,
    blocking=True,
    pool=WAREHOUSE_POOL,
    description=(
        "Blocking: Great Expectations validation of the staged edition: percentages in range, "
        "numerators never above denominators, England and Wales equal to the sum of the "
        "regions, no value in a period period_quality suppresses, every [c] justified, every "
        "note referenced exists. The Data Docs and the result (with the digest of the staged "
        "files it validated, which the release checks) go to staging/<edition>/validation/."
    ),
)
def published_edition_is_valid(
    config: EditionConfig, pipeline: PipelineResource
) -> dg.AssetCheckResult:
    settings = pipeline.settings()
    marts = read_marts(settings, ["publication_cells"])
    edition = _staged_edition(config, marts["publication_cells"])
    folder = settings.staging_dir / edition
    outcome = read_result(folder)
    digest = content_digest(folder)
    if not outcome or outcome.get("content_digest") != digest:
        # not validated with the build (a staged folder changed since): validate it now
        tables = {
            name: pd.read_parquet(folder / "parquet" / f"{name}.parquet") for name in EDITION_TABLES
        }
        candidate = json.loads((settings.candidates_dir / edition / "candidate.json").read_text())
        checks = edition_checks(settings, edition, tables, candidate["notes"])
        cover = Cover.read(settings.publication_file, settings.disclosure_threshold, edition)
        outcome = validate_edition(folder, checks, digest, cover.announced)
    failed = [f for check in outcome["checks"] for f in check["failed"]]
    return dg.AssetCheckResult(
        passed=outcome["success"],
        severity=dg.AssetCheckSeverity.ERROR,
        description="; ".join(failed[:5]) or f"{len(outcome['checks'])} validations passed.",
        metadata={
            "edition": edition,
            "data_docs": dg.MetadataValue.path(str(folder / "validation" / "data_docs")),
            "validations": len(outcome["checks"]),
            "failed": len(failed),
        },
    )

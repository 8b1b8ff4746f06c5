"""Publication assets: the candidate tables of an edition, the blocking quality gate on them,
and the edition's files, written only when the gate passes.

The gate re-reads `period_quality` from the warehouse itself, so it holds whatever produced the
candidate tables (a full run, or a backfill that selects only the publication assets). An
unreviewed WARN in the edition's window fails it, naming the flags. `edition_files` runs the same
gate again before writing anything, so even a selection without the check cannot publish a
suppressed or unreviewed cell."""

import json
import os
import shutil
from datetime import UTC, datetime

import dagster as dg
import duckdb
import pandas as pd

from orchestration.defs.warehouse import WAREHOUSE_POOL
from orchestration.gate import (
    gate_violations,
    unreviewed_flag_ids,
    warning_violations,
    window_warnings,
)
from orchestration.publication import edition_window, national_monthly, regional_quarterly
from orchestration.resources import PipelineResource
from orchestration.settings import Settings
from schemas.published import PUBLISHED_TABLES, SHORTHAND

MART_INPUTS = ["measure_monthly", "measure_quarterly", "period_quality", "dim_measures"]


class EditionConfig(dg.Config):
    """Which edition to build: its last month `YYYY-MM`; empty means the newest month measured."""

    edition: str | None = None


def read_marts(settings: Settings, names: list[str]) -> dict[str, pd.DataFrame]:
    with duckdb.connect(str(settings.warehouse_path), read_only=True) as con:
        return {name: con.sql(f"select * from {name}").df() for name in names}


def staging_dir(settings: Settings, edition: str):
    return settings.data_dir / "staging" / edition


@dg.asset(
    group_name="publication",
    deps=MART_INPUTS,
    pool=WAREHOUSE_POOL,
    kinds={"pandas", "parquet"},
    description=(
        "Candidate tables of an edition: national figures by month and regional figures by "
        "quarter, rounded, with [x] in suppressed cells and notes from period_quality."
    ),
)
def publication_tables(
    context: dg.AssetExecutionContext, config: EditionConfig, pipeline: PipelineResource
) -> dg.MaterializeResult:
    settings = pipeline.settings()
    marts = read_marts(settings, MART_INPUTS)
    edition = _staged_edition(settings, config)
    measured = marts["measure_monthly"]["month"].dt.strftime("%Y-%m")
    if not (measured == edition).any():
        span = f"data runs from {measured.min()} to {measured.max()}" if len(measured) else "none"
        raise dg.Failure(
            description=f"edition {edition}: no data for that month ({span})", allow_retries=False
        )
    window = edition_window(edition)
    catalogue = marts["dim_measures"]
    tables = {
        "national_monthly": national_monthly(
            window, marts["measure_monthly"], marts["period_quality"], catalogue
        ),
        "regional_quarterly": regional_quarterly(
            window, marts["measure_quarterly"], marts["period_quality"], catalogue
        ),
    }
    out = staging_dir(settings, edition)
    out.mkdir(parents=True, exist_ok=True)
    for name, table in tables.items():
        table.to_parquet(out / f"{name}.parquet", index=False)
    (out / "edition.json").write_text(json.dumps({"edition": edition}))
    return dg.MaterializeResult(
        metadata={
            "edition": edition,
            "staging_dir": dg.MetadataValue.path(str(out)),
            **{f"{n}_rows": len(t) for n, t in tables.items()},
            "suppressed_cells": int(
                sum((t["status"] == "suppressed").sum() for t in tables.values())
            ),
        }
    )


def _staged_edition(settings: Settings, config: EditionConfig) -> str:
    """The edition publication_tables staged: the configured one, or the newest month measured."""
    if config.edition:
        return config.edition
    with duckdb.connect(str(settings.warehouse_path), read_only=True) as con:
        newest = con.execute("select max(month) from measure_monthly").fetchone()[0]
    return newest.strftime("%Y-%m")


def run_gate(settings: Settings, edition: str) -> tuple[list[str], list[str]]:
    """The gate on the staged candidate tables of an edition, against period_quality re-read
    from the warehouse: (problems as sentences, unreviewed flag ids in the window)."""
    marts = read_marts(settings, ["period_quality", "dim_measures"])
    quality, catalogue = marts["period_quality"], marts["dim_measures"]
    folder = staging_dir(settings, edition)
    tables = {n: pd.read_parquet(folder / f"{n}.parquet") for n in PUBLISHED_TABLES}
    window = edition_window(edition)
    problems = warning_violations(window, quality, catalogue, settings.reviews_path)
    problems += gate_violations(tables, quality)
    return problems, unreviewed_flag_ids(window_warnings(window, quality, catalogue))


@dg.asset_check(
    asset=publication_tables,
    blocking=True,
    description=(
        "Blocking: no published cell in the edition's window is WARN (an unreviewed quality "
        "flag), every cell in a period period_quality marks SUPPRESS publishes [x], and every "
        "cell has a quality status. Re-reads period_quality from the warehouse."
    ),
)
def publication_respects_quality_gate(
    config: EditionConfig, pipeline: PipelineResource
) -> dg.AssetCheckResult:
    settings = pipeline.settings()
    edition = _staged_edition(settings, config)
    problems, unreviewed = run_gate(settings, edition)
    return dg.AssetCheckResult(
        passed=not problems,
        severity=dg.AssetCheckSeverity.ERROR,
        description="; ".join(problems[:10])
        or "No unreviewed quality flag in the window; every suppressed period is masked.",
        metadata={
            "edition": edition,
            "violations": len(problems),
            "unreviewed_flags": dg.MetadataValue.json(unreviewed),
            "reviews_file": dg.MetadataValue.path(str(settings.reviews_path)),
        },
    )


@dg.asset(
    group_name="publication",
    deps=[publication_tables],
    kinds={"csv"},
    description=(
        "The edition's tidy CSV tables, written to editions/<edition>/ only after the quality "
        "gate passed, with a notes table explaining every shorthand symbol."
    ),
)
def edition_files(
    context: dg.AssetExecutionContext, config: EditionConfig, pipeline: PipelineResource
) -> dg.MaterializeResult:
    settings = pipeline.settings()
    edition = _staged_edition(settings, config)
    problems, _ = run_gate(settings, edition)
    if problems:  # the blocking check stops a normal run first; this holds any other selection
        raise dg.Failure(
            description=f"edition {edition} not written: " + "; ".join(problems[:3]),
            allow_retries=False,
        )
    source = staging_dir(settings, edition)
    target = settings.editions_dir / edition
    building = target.with_name(f".{edition}.building")
    shutil.rmtree(building, ignore_errors=True)
    building.mkdir(parents=True)
    written = {}
    for name, schema in PUBLISHED_TABLES.items():
        table = schema.validate(pd.read_parquet(source / f"{name}.parquet"))
        table.to_csv(building / f"{name}.csv", index=False)
        written[name] = len(table)
    pd.DataFrame([{"symbol": s, "meaning": m} for s, m in SHORTHAND.items()]).to_csv(
        building / "shorthand.csv", index=False
    )
    (building / "edition.json").write_text(
        json.dumps(
            {
                "edition": edition,
                "built_at": datetime.now(UTC).isoformat(timespec="seconds"),
                "tables": written,
            },
            indent=2,
        )
    )
    old = target.with_name(f".{edition}.old")
    shutil.rmtree(old, ignore_errors=True)
    if target.exists():
        os.replace(target, old)
    os.replace(building, target)
    shutil.rmtree(old, ignore_errors=True)
    return dg.MaterializeResult(
        metadata={"edition": edition, "folder": dg.MetadataValue.path(str(target)), **written}
    )

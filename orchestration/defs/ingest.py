"""Ingest: one monthly-partitioned multi-asset loading every landing-zone extract of a month.

Each extract is its own asset (`raw/<extract>`); the load ledger (`raw/loads`, one row per
extract-month loaded, which dbt reads as the source `raw.loads`) and the quality profiles
(`raw/profiles`, dbt's source `quality.profiles`) are produced by the same step.
Any subset can be selected (the command line selects the extracts that need loading). For each
selected extract the month's delivery is checked against its contract (schemas/contracts.py,
checked in DuckDB by orchestration/ingest/checked_file.py), implausible rows are set aside with a
reason, and raw Parquet and the month's quality profile are written. A breach fails that
extract-month only, with the file, line and rule in the error: the other extracts of the month
are still loaded (and reported) before the step fails, and earlier loads stay as they were.
So does a file loaded before and edited in place since
(orchestration.ingest.extract_month.changed_since_load:
a correction must be a new revision), which is not loaded again.

Each extract also carries one partitioned asset check, `quality_rules`: every data-quality rule
of schemas/quality.py that applies to it, evaluated once the run's months are loaded, each month
against the earlier months' profiles on disk (one pass of the rules per extract, not one per
extract-month; one check evaluation per extract-month, not one per rule). It has severity WARN:
a flagged month is loaded all the same, and the check's metadata says which rules flagged which
regions, and the figures found. Whether a flag holds back publication is decided
over the whole history by the dbt models `data_quality_flags` and `period_quality`.

A run may cover one month (a UI backfill runs one run per month, queued with bounded
concurrency by dagster.yaml's `run_queue`) or a range of months (the command line loads every
month it needs in one run, naming the extract-months in `IngestConfig`): either way each
extract-month is reported as its own partition's materialisation, with its own check
evaluations, and a bad file fails only its own extract-month (the step fails once the rest
of the run's extract-months are loaded).
"""

import dagster as dg
import pyarrow.parquet as pq

from orchestration.asset_metadata import DATA_ENGINEERING, arrow_schema, table_metadata
from orchestration.ingest.extract_month import (
    ContractBreach,
    MissingDelivery,
    changed_since_load,
    load_partition,
    manifest_path,
    profile_path,
)
from orchestration.partitions import monthly_partitions
from orchestration.resources import PipelineResource
from orchestration.warehouse.quality import CheckOutcome, months_checks, rules_for
from schemas.contracts import EXTRACTS, Extract
from schemas.quality import RULES, ThresholdsError

LEDGER_KEY = dg.AssetKey(["raw", "loads"])
PROFILES_KEY = dg.AssetKey(["raw", "profiles"])
EXTRACT_KEYS = {name: dg.AssetKey(["raw", name]) for name in EXTRACTS}


QUALITY_CHECK = "quality_rules"


def _check_evaluation(
    extract: str, month: str, outcomes: list[CheckOutcome]
) -> dg.AssetCheckEvaluation:
    """One extract-month's verdict under every quality rule that applies to the extract: one
    check evaluation, not one per rule (each is a write to the instance's event log, which
    would cost a bulk load more than its rows)."""
    flagged = [o for o in outcomes if not o.passed]
    rules = "\n".join(
        ["| rule | verdict | regions flagged | found |", "|---|---|---|---|"]
        + [
            f"| {o.rule} | {'flagged' if not o.passed else 'passed'} | "
            f"{', '.join(o.regions) or 'none'} | "
            + ("; ".join(f"{r}: {d}" for r, d in o.details.items()) or o.description)
            + " |"
            for o in outcomes
        ]
    )
    description = (
        " | ".join(o.description for o in flagged)
        if flagged
        else f"No region flagged by any rule ({', '.join(o.rule for o in outcomes)})."
    )
    return dg.AssetCheckEvaluation(
        asset_key=EXTRACT_KEYS[extract],
        check_name=QUALITY_CHECK,
        passed=not flagged,
        severity=dg.AssetCheckSeverity.WARN,
        description=description[:4000],
        partition=month,
        metadata={
            "rules_flagged": ", ".join(o.rule for o in flagged) or "none",
            "regions_flagged": dg.MetadataValue.json({o.rule: o.regions for o in flagged}),
            "rules": dg.MetadataValue.md(rules),
            **{
                f"{o.rule}.{name}": value
                for o in outcomes
                for name, value in o.figures.items()
                if value is not None
            },
        },
    )


def _extract_spec(extract: Extract) -> dg.AssetSpec:
    return dg.AssetSpec(
        key=EXTRACT_KEYS[extract.name],
        group_name="ingest",
        owners=DATA_ENGINEERING,
        kinds={"pandera", "parquet"},
        skippable=True,
        description=f"{extract.description} Validated against its landing-zone contract.",
        metadata={
            "grain": extract.grain,
            "key": ", ".join(extract.key),
            "columns": dg.MetadataValue.md(
                "\n".join(
                    f"- `{c.name}` {c.kind}{'' if c.required else ' (may be empty)'}"
                    for c in extract.columns
                )
            ),
        },
    )


def _by_ingest_spec(key: dg.AssetKey, description: str) -> dg.AssetSpec:
    """An asset the ingest step writes with the extracts it loads (the ledger, the profiles)."""
    return dg.AssetSpec(
        key=key,
        group_name="ingest",
        owners=DATA_ENGINEERING,
        kinds={"parquet"},
        skippable=True,
        description=description,
    )


# Built where the multi-asset is declared, never as module-level specs: the definitions folder
# loader would take a module-level spec for an asset of its own.
LEDGER_DESCRIPTION = (
    "The load ledger: one row per extract-month loaded (source file and revision, its sha256, "
    "extraction time, rows delivered, loaded and set aside), written by the ingest step with "
    "each load. dbt reads it as the source raw.loads to decide when a case is final."
)
PROFILES_DESCRIPTION = (
    "The quality profile of each extract-month loaded (one row per extract, region and month: "
    "rows delivered, loaded and set aside by rule, nulls, the in-person share), written by the "
    "ingest step with each load. dbt reads it as the source quality.profiles, where the "
    "data-quality rules of schemas/quality.py run over it (model data_quality_flags)."
)


CHECK_SPECS = [
    dg.AssetCheckSpec(
        QUALITY_CHECK,
        asset=EXTRACT_KEYS[extract],
        description=(
            "The data-quality rules of schemas/quality.py on the extract-month (WARN; "
            "thresholds in schemas/quality_thresholds.toml): "
            + " ".join(f"{rule}: {RULES[rule]}" for rule in rules_for(extract))
        ),
        partitions_def=monthly_partitions,
    )
    for extract in EXTRACTS
]


def _load(settings, extract: str, month: str) -> dg.AssetMaterialization:
    """Load one extract-month: its materialisation (of that partition)."""
    report = load_partition(settings, extract, month)
    return dg.AssetMaterialization(
        asset_key=EXTRACT_KEYS[extract],
        partition=month,
        metadata={
            **table_metadata(report.rows_loaded, arrow_schema(pq.read_schema(report.raw_path))),
            "source_file": dg.MetadataValue.path(report.source_file),
            "source_revision": report.source_revision,
            "source_sha256": report.source_sha256,
            "extracted_at": report.extracted_at,
            "extracted_at_source": report.extracted_at_source,
            "rows_delivered": report.rows_delivered,
            "rows_loaded": report.rows_loaded,
            "rows_set_aside": report.rows_set_aside,
            "set_aside_by_reason": dg.MetadataValue.json(report.set_aside_by_reason),
            "raw_path": dg.MetadataValue.path(report.raw_path),
        },
    )


def _evaluations(settings, extract: str, months: list[str], selected_checks) -> list:
    """The rules check of an extract's months just loaded (when selected), judged in one pass."""
    if dg.AssetCheckKey(EXTRACT_KEYS[extract], QUALITY_CHECK) not in selected_checks:
        return []
    by_month = months_checks(settings, extract, months)
    return [_check_evaluation(extract, month, outcomes) for month, outcomes in by_month.items()]


def _profiles_materialization(settings, month: str, loaded: list[str]) -> dg.AssetMaterialization:
    """The month's profiles (every extract profiled so far, not only this run's)."""
    files = [profile_path(settings, e, month) for e in EXTRACTS]
    files = [f for f in files if f.exists()]
    rows = sum(pq.read_metadata(f).num_rows for f in files)
    schema = pq.read_schema(files[0]) if files else None
    return dg.AssetMaterialization(
        asset_key=PROFILES_KEY,
        partition=month,
        metadata={
            **table_metadata(rows, arrow_schema(schema) if schema else None),
            "profiled_this_run": ", ".join(loaded) or "none",
        },
    )


def _ledger_materialization(settings, month: str, loaded: list[str]) -> dg.AssetMaterialization:
    """The month's ledger rows (every extract loaded so far, not only this run's)."""
    files = [manifest_path(settings, e, month) for e in EXTRACTS]
    rows = [pq.read_table(f).to_pylist()[0] for f in files if f.exists()]
    schema = pq.read_schema(next(f for f in files if f.exists())) if rows else None
    return dg.AssetMaterialization(
        asset_key=LEDGER_KEY,
        partition=month,
        metadata={
            **table_metadata(len(rows), arrow_schema(schema) if schema else None),
            "loaded_this_run": ", ".join(loaded) or "none",
            "ledger": dg.MetadataValue.md(
                "\n".join(
                    ["| extract | revision | extracted at | rows loaded | set aside |"]
                    + ["|---|---|---|---|---|"]
                    + [
                        f"| {r['extract']} | {r['source_revision']} | {r['extracted_at']} "
                        f"| {r['rows_loaded']:,} | {r['rows_set_aside']:,} |"
                        for r in rows
                    ]
                )
            ),
        },
    )


class IngestConfig(dg.Config):
    """Which extract-months a run loads: month (YYYY-MM) to extracts. Empty (the default, as
    in a UI run): every selected extract of every month of the run."""

    extract_months: dict[str, list[str]] = {}


@dg.multi_asset(
    name="ingest_month",
    specs=[
        *(_extract_spec(e) for e in EXTRACTS.values()),
        _by_ingest_spec(LEDGER_KEY, LEDGER_DESCRIPTION),
        _by_ingest_spec(PROFILES_KEY, PROFILES_DESCRIPTION),
    ],
    check_specs=CHECK_SPECS,
    partitions_def=monthly_partitions,
    backfill_policy=dg.BackfillPolicy.multi_run(max_partitions_per_run=1),
    can_subset=True,
    description=(
        "Load the selected extracts of the run's months into raw Parquet, with their quality "
        "profiles, rule checks and load-ledger rows; each extract-month is its own partition's "
        "materialisation."
    ),
)
def ingest_month(
    context: dg.AssetExecutionContext, config: IngestConfig, pipeline: PipelineResource
):
    settings = pipeline.settings()
    selected = [e for e, key in EXTRACT_KEYS.items() if key in context.selected_asset_keys]
    selected_checks = context.selected_asset_check_keys
    loaded_months, failures = [], []
    months_of: dict[str, list[str]] = {}  # extract -> months loaded by this run
    for month in context.partition_keys:
        chosen = config.extract_months.get(month, []) if config.extract_months else selected
        loaded = []
        for extract in [e for e in selected if e in chosen]:
            if changed := changed_since_load(settings, extract, month):
                failures.append(changed)  # edited in place since loaded: not loaded again
                continue
            try:
                yield _load(settings, extract, month)
            except (ContractBreach, MissingDelivery, ValueError) as error:
                failures.append(str(error))
                continue
            loaded.append(extract)
            months_of.setdefault(extract, []).append(month)
        if not loaded and not any(e in chosen for e in selected):
            continue  # nothing of this month was asked for
        loaded_months.append(month)
        if LEDGER_KEY in context.selected_asset_keys:
            yield _ledger_materialization(settings, month, loaded)
        if PROFILES_KEY in context.selected_asset_keys:
            yield _profiles_materialization(settings, month, loaded)
    # The rule checks of everything loaded, one pass per extract: a month is judged against
    # the months before it, which are all on disk by now
    # (orchestration.warehouse.quality.months_checks)
    for extract, months in months_of.items():
        try:
            evaluations = _evaluations(settings, extract, months, selected_checks)
        except ThresholdsError as error:
            failures.append(str(error))
            continue
        for evaluation in evaluations:
            context.log_event(evaluation)
    yield from ()  # the logged evaluations are flushed with the step's end
    if failures:  # what loaded is recorded above; these extract-months failed
        raise dg.Failure(
            description="\n".join(failures),
            metadata={"months": ", ".join(loaded_months), "failed": len(failures)},
            allow_retries=False,
        )


def ingest_selection(extracts: list[str]) -> dict:
    """What a load of `extracts` selects: their assets, the ledger, the profiles, and their rule
    checks (not the freshness checks, which their own sensor evaluates), as
    `JobDefinition.get_subset` takes them."""
    assets = {EXTRACT_KEYS[e] for e in extracts} | {LEDGER_KEY, PROFILES_KEY}
    checks = {spec.key for spec in CHECK_SPECS if spec.asset_key in assets}
    return {"asset_selection": assets, "asset_check_selection": checks}

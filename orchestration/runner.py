"""Running the pipeline in process, as the command line and the tests do.

`run_pipeline` loads each month that needs it (one Dagster run per month, so a bad file fails
only its own partition), then, if every load succeeded, rebuilds everything downstream in one
run. A quality gate that holds an edition back is reported, not raised: the marts and the
analyst snapshot are still built. An extract-month not delivered (yet) between the first and
the last month delivered is a gap (DESIGN §9): reported, not a failure; the cells that need it
stay provisional (int_case_window_holds).
"""

from __future__ import annotations

import contextlib
import os
import re
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import dagster as dg

from orchestration.configuration import configuration_problems
from orchestration.ingest import needs_load
from orchestration.landing import (
    AmbiguousDelivery,
    delivered_months,
    landing_problems,
    latest_delivery,
)
from orchestration.partitions import month_range
from orchestration.settings import Settings
from orchestration.warehouse_lock import warehouse_lock_problem
from schemas.contracts import MONTHLY_EXTRACTS

GATE_CHECKS = ("publication_respects_quality_gate", "published_edition_is_valid")
EDITION_OPS = (
    "publication_tables",
    "edition_files",
    "publication_tables_publication_respects_quality_gate",
    "edition_files_published_edition_is_valid",
)


@dataclass
class RunSummary:
    """What a pipeline run did, for the command line to print."""

    months: list[str] = field(default_factory=list)
    loaded: list[tuple[str, str]] = field(default_factory=list)
    up_to_date: int = 0
    failures: list[str] = field(default_factory=list)
    gaps: dict[str, list[str]] = field(default_factory=dict)  # extract -> months not delivered
    refreshed: bool = False
    held: list[str] = field(default_factory=list)
    edition: str | None = None
    notices: list[str] = field(default_factory=list)
    log_file: Path | None = None

    @property
    def ok(self) -> bool:
        return not self.failures and self.refreshed


def load_definitions() -> dg.Definitions:
    from orchestration.definitions import defs

    return defs()


ANSI = re.compile(r"\x1b\[[0-9;]*m")


CLASS_PREFIX = re.compile(r"^(?:[A-Za-z_][\w.]*(?:Error|Exception|Failure|Interrupt)[:,]\s*)+")


def plain(text: str) -> str:
    """The first line of an error message without Python class names in front of it."""
    lines = [line.strip() for line in ANSI.sub("", text or "").splitlines() if line.strip()]
    return CLASS_PREFIX.sub("", lines[0]) if lines else ""


def _failure_messages(result: dg.ExecuteInProcessResult) -> list[str]:
    """One line per failed step: the description of the dg.Failure it raised (the one-line
    reason), else the step and the first line of the innermost error (the real cause, not
    Dagster's wrapper), without class names."""
    messages = []
    for event in result.all_events:
        if not event.is_step_failure:
            continue
        data = event.step_failure_data
        if data.user_failure_data is not None and data.user_failure_data.description:
            messages.append(plain(data.user_failure_data.description))
            continue
        error = data.error
        while error is not None and error.cause is not None:
            error = error.cause
        messages.append(
            f"{event.step_key}: {plain(error.message if error else '') or 'step failed'}"
        )
    return messages


def _delivery_state(settings: Settings, extract: str, month: str) -> str:
    """delivered, missing, or ambiguous (two files claim it: landing_problems says so)."""
    try:
        found = latest_delivery(settings.landing_dir, extract, month)
    except AmbiguousDelivery:
        return "ambiguous"
    return "missing" if found is None else "delivered"


def months_to_run(settings: Settings, start: str | None, end: str | None) -> list[str]:
    """Every month from the first to the last delivered in [start, end], including months in
    between with no delivery at all (they are gaps to report)."""
    months = delivered_months(settings.landing_dir, MONTHLY_EXTRACTS)
    months = [m for m in months if (start is None or m >= start) and (end is None or m <= end)]
    return month_range(months[0], months[-1]) if months else []


def gap_lines(gaps: dict[str, list[str]], limit: int = 6) -> list[str]:
    """One line per extract with months not delivered, the months listed (the first few)."""
    lines = []
    for extract, months in sorted(gaps.items()):
        more = f" and {len(months) - limit} more" if len(months) > limit else ""
        lines.append(f"{extract}: {', '.join(months[:limit])}{more}")
    return lines


def run_pipeline(
    settings: Settings,
    start: str | None = None,
    end: str | None = None,
    edition: str | None = None,
    force: bool = False,
    instance: dg.DagsterInstance | None = None,
    log_level: str = "INFO",
    quiet: bool = False,
) -> RunSummary:
    """Ingest the months in [start, end] that need it, then refresh everything downstream.

    With `quiet`, what the steps print (dbt's log among it) goes to a file under
    `<data>/logs/` instead of the terminal; the summary names the file.
    """
    if not quiet:
        return _run(settings, start, end, edition, force, instance, log_level)
    log_dir = settings.data_dir / "logs"
    log_dir.mkdir(parents=True, exist_ok=True)
    log_file = log_dir / f"run-{datetime.now():%Y%m%d-%H%M%S-%f}.log"
    for old in sorted(log_dir.glob("run-*.log"))[: -settings.keep_logs + 1 or None]:
        old.unlink(missing_ok=True)  # keep the newest logs only: nothing grows without bound
    with log_file.open("w") as handle, contextlib.redirect_stdout(handle):
        summary = _run(settings, start, end, edition, force, instance, log_level)
    summary.log_file = log_file
    return summary


def _run(settings, start, end, edition, force, instance, log_level) -> RunSummary:
    os.environ["PROBATION_LANDING_DIR"] = str(settings.landing_dir)
    os.environ["PROBATION_DATA_DIR"] = str(settings.data_dir)
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    instance = instance or dg.DagsterInstance.ephemeral()
    defs = load_definitions()
    summary = RunSummary(months=months_to_run(settings, start, end))
    summary.failures += configuration_problems(settings)  # before any work starts
    lock = warehouse_lock_problem(settings)
    summary.failures += [lock] if lock else []
    if summary.failures:
        return summary
    # files that cannot feed a month: named now; the valid months still load
    summary.failures += landing_problems(settings.landing_dir, MONTHLY_EXTRACTS)
    if not summary.months:
        summary.failures.append(f"{settings.landing_dir}: no deliveries found for the months asked")
        return summary

    logging = {"loggers": {"console": {"config": {"log_level": log_level}}}}
    ingest_job = defs.resolve_job_def("ingest_job")
    for month in summary.months:
        state = {e: _delivery_state(settings, e, month) for e in MONTHLY_EXTRACTS}
        missing = [e for e, found in state.items() if found == "missing"]
        for extract in missing:
            summary.gaps.setdefault(extract, []).append(month)
        targets = [
            e
            for e, found in state.items()
            if found == "delivered" and (force or needs_load(settings, e, month))
        ]
        summary.up_to_date += sum(found == "delivered" for found in state.values()) - len(targets)
        if not targets:
            continue
        result = ingest_job.execute_in_process(
            partition_key=month,
            asset_selection=[dg.AssetKey(["raw", e]) for e in targets],
            instance=instance,
            run_config=logging,
            raise_on_error=False,
        )
        failed = {event.step_key for event in result.all_events if event.is_step_failure}
        summary.failures += _failure_messages(result)
        summary.loaded += [(e, month) for e in targets if not any(e in s for s in failed)]

    if summary.failures:
        return summary

    run_config = dict(logging)
    if edition:
        run_config["ops"] = {op: {"config": {"edition": edition}} for op in EDITION_OPS}
    result = defs.resolve_job_def("refresh_job").execute_in_process(
        run_config=run_config, instance=instance, raise_on_error=False
    )
    held = [
        evaluation.description or evaluation.check_name
        for evaluation in result.get_asset_check_evaluations()
        if not evaluation.passed
        and evaluation.severity == dg.AssetCheckSeverity.ERROR
        and evaluation.check_name in GATE_CHECKS
    ]
    summary.held = held
    blocking_failures = [
        m
        for m in _failure_messages(result)
        if not (held and m.split(":")[0].startswith(("publication_tables", "edition_files")))
    ]
    summary.failures += blocking_failures
    summary.refreshed = not blocking_failures
    for materialization in result.asset_materializations_for_node("publication_tables"):
        summary.edition = str(materialization.metadata["edition"].value)
    for materialization in result.asset_materializations_for_node("edition_files"):
        notice = str(materialization.metadata["ods"].value)
        if notice.startswith("ODS not produced"):
            summary.notices.append(notice)
    return summary

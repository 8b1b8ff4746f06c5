"""Running the pipeline in process, as the command line and the tests do.

`run_pipeline` loads every extract-month that needs it in one Dagster run over the months'
partition range (each extract-month its own partition's materialisation; a bad file fails only
its own extract-month), then, if every load succeeded, rebuilds everything downstream in one
run. A quality gate that holds an edition back is reported, not raised: the marts and the
analyst snapshot are still built. An extract-month not delivered (yet) between the first and
the last month delivered is a gap (docs/methodology.md#operations): reported, not a failure; the
cells that need it
stay provisional (int_case_window_holds). When nothing was loaded and nothing the refresh
reads has changed (orchestration/running/refresh_state.py), the outputs are current and the refresh
is
skipped. A landing file changed in place since it was loaded (orchestration/ingest/extract_month.py,
`changed_landing_files`) stops the run before anything is loaded or built, as a configuration
problem does. Runs are tagged as started from the command line; one whose process died is marked
failed at the next start (orchestration/running/instance.py), freeing its warehouse pool slot.
"""

from __future__ import annotations

import contextlib
import functools
import os
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import dagster as dg
import pandas as pd
from dagster._core.utils import make_new_run_id

from orchestration.defs.ingest import LEDGER_KEY, PROFILES_KEY, ingest_selection
from orchestration.ingest.extract_month import changed_landing_files, needs_load
from orchestration.ingest.landing import (
    AmbiguousDelivery,
    delivered_months,
    landing_problems,
    latest_delivery,
)
from orchestration.partitions import month_range
from orchestration.publication.tables import edition_window
from orchestration.running.instance import command_line_tags, reclaim_abandoned_runs
from orchestration.running.refresh_state import (
    current_state,
    forget_state,
    record_state,
    refresh_digest,
)
from orchestration.running.run_report import failure_lines, stage_of, stage_seconds
from orchestration.running.warehouse_lock import warehouse_lock_problem
from orchestration.settings import Settings
from orchestration.warehouse.configuration import configuration_problems
from orchestration.warehouse.quality import read_flags
from schemas.contracts import MONTHLY_EXTRACTS

RANGE_START, RANGE_END = "dagster/asset_partition_range_start", "dagster/asset_partition_range_end"
WATCHED_EVENTS = {dg.DagsterEventType.STEP_START, dg.DagsterEventType.ASSET_MATERIALIZATION}
GATE_CHECKS = ("publication_respects_quality_gate", "published_edition_is_valid")
HELD_PREFIX = re.compile(r"^edition \S+ held: ")
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
    set_aside: int = 0  # rows set aside by the loads of this run
    stages: dict[str, float] = field(default_factory=dict)  # seconds per stage
    flags: dict[str, int] = field(default_factory=dict)  # raised, unreviewed in the window
    current_since: str | None = None  # nothing to refresh: outputs current since then
    run_ids: list[str] = field(default_factory=list)  # the Dagster runs, in order

    @property
    def ok(self) -> bool:
        return not self.failures and self.refreshed


@functools.cache
def load_definitions() -> dg.Definitions:
    """The code location's definitions, the dbt project parsed first if it changed (loaded
    only by a run with something to do: a run with nothing new never imports dbt)."""
    from orchestration.warehouse.dbt_project import ensure_manifest

    ensure_manifest()
    from orchestration.definitions import defs

    return defs()


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
    instance: dg.DagsterInstance | Callable[[], dg.DagsterInstance] | None = None,
    log_level: str = "INFO",
    quiet: bool = False,
    progress: Callable[[str], None] | None = None,
    full_refresh: bool = False,
) -> RunSummary:
    """Ingest the months in [start, end] that need it, then refresh everything downstream
    (unless nothing it reads has changed since the last refresh and `force` is not set).
    The warehouse is refreshed incrementally (docs/methodology.md#incremental-refresh) unless
    `full_refresh` or `force`.

    With `quiet`, what the steps print (dbt's log among it) goes to a file under
    `<data>/logs/` instead of the terminal; the summary names the file. `progress` is called
    with a short line as each month and each step starts. `instance` may be a function that
    opens one: it is called only when there is work to do.
    """
    if not quiet:
        return _run(
            settings, start, end, edition, force, instance, log_level, progress, full_refresh
        )
    log_dir = settings.data_dir / "logs"
    log_dir.mkdir(parents=True, exist_ok=True)
    log_file = log_dir / f"run-{datetime.now():%Y%m%d-%H%M%S-%f}.log"
    for old in sorted(log_dir.glob("run-*.log"))[: -settings.keep_logs + 1 or None]:
        old.unlink(missing_ok=True)  # keep the newest logs only: nothing grows without bound
    with log_file.open("w") as handle, contextlib.redirect_stdout(handle):
        summary = _run(
            settings, start, end, edition, force, instance, log_level, progress, full_refresh
        )
    summary.log_file = log_file
    return summary


def _execute(
    job, instance, progress=None, months: list[str] | None = None, tags=None, **kwargs
) -> dg.ExecuteInProcessResult:
    """Execute a job in process; with `progress`, report each step as it starts and, for a
    load of `months`, each month as its ledger rows are written (read back from the
    instance's event log by a watcher thread)."""
    run_id = make_new_run_id()
    done = threading.Event()

    def watch() -> None:
        seen: set[str] = set()
        while not done.wait(0.5):
            try:
                records = instance.all_logs(run_id, of_type=WATCHED_EVENTS)
            except Exception:  # noqa: BLE001 - progress is a courtesy: never fail a run over it
                continue
            for record in records:
                event = record.dagster_event
                if event.is_step_start and record.step_key not in seen:
                    seen.add(record.step_key)
                    progress(f"{stage_of(record.step_key) or 'step'}: {record.step_key}")
                elif months and event.asset_key == LEDGER_KEY and event.partition not in seen:
                    seen.add(event.partition)
                    done_months = sum(m in seen for m in months)
                    progress(f"loaded {event.partition} ({done_months} of {len(months)} months)")

    watcher = threading.Thread(target=watch, daemon=True)
    if progress is not None:
        watcher.start()
    try:
        return job.execute_in_process(
            instance=instance,
            run_id=run_id,
            raise_on_error=False,
            tags={**command_line_tags(), **(tags or {})},
            **kwargs,
        )
    finally:
        done.set()
        if watcher.is_alive():
            watcher.join()


def _load(defs, instance, to_load: dict[str, list[str]], logging: dict, progress):
    """One ingest run over every month that needs loading (a partition range), loading only
    the extract-months named in `to_load`; says each month as its ledger rows are written."""
    months = sorted(to_load)
    extract_months = sum(len(v) for v in to_load.values())
    (progress or (lambda _: None))(
        f"loading {extract_months} extract-month{'s' if extract_months > 1 else ''} "
        f"of {len(months)} month{'s' if len(months) > 1 else ''} ({months[0]} to {months[-1]})"
    )
    extracts = sorted({e for v in to_load.values() for e in v})
    job = defs.resolve_job_def("ingest_job").get_subset(**ingest_selection(extracts))
    run_config = {**logging, "ops": {"ingest_month": {"config": {"extract_months": to_load}}}}
    tags = {RANGE_START: months[0], RANGE_END: months[-1]}
    return _execute(job, instance, progress, months, tags, run_config=run_config)


def _loaded(result: dg.ExecuteInProcessResult) -> list[tuple[str, str]]:
    """Extract-months whose raw asset partition was materialised by an ingest run."""
    by_ingest = (LEDGER_KEY, PROFILES_KEY)  # written with the extracts, not extracts
    return [
        (event.asset_key.path[1], event.partition)
        for event in result.all_events
        if event.is_step_materialization
        and event.asset_key.path[0] == "raw"
        and event.asset_key not in by_ingest
    ]


def _set_aside(result: dg.ExecuteInProcessResult) -> int:
    return sum(
        int(m.metadata["rows_set_aside"].value)
        for event in result.all_events
        if event.is_step_materialization
        for m in [event.step_materialization_data.materialization]
        if "rows_set_aside" in m.metadata
    )


def _run(
    settings, start, end, edition, force, instance, log_level, progress, full_refresh
) -> RunSummary:
    say = progress or (lambda _: None)
    os.environ["PROBATION_LANDING_DIR"] = str(settings.landing_dir)
    os.environ["PROBATION_DATA_DIR"] = str(settings.data_dir)
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    opened: list[dg.DagsterInstance] = []

    def ready_instance() -> dg.DagsterInstance:
        """The instance, opened when there is work to do (a run with nothing new opens none):
        a killed run's pool slot reclaimed first, so it cannot hold this one."""
        if not opened:
            found = instance() if callable(instance) else instance
            opened.append(found or dg.DagsterInstance.ephemeral())
            reclaim_abandoned_runs(opened[0])
        return opened[0]

    def locked() -> str | None:
        return warehouse_lock_problem(settings, ready_instance())

    summary = RunSummary(months=months_to_run(settings, start, end))
    summary.failures += configuration_problems(settings)  # before any work starts
    # a loaded landing file edited in place: nothing is loaded or built until it is put right
    summary.failures += changed_landing_files(settings)
    if summary.failures:
        return summary
    # files that cannot feed a month: named now; the valid months still load
    summary.failures += landing_problems(settings.landing_dir, MONTHLY_EXTRACTS)
    if not summary.months:
        summary.failures.append(f"{settings.landing_dir}: no deliveries found for the months asked")
        return summary

    logging = {"loggers": {"console": {"config": {"log_level": log_level}}}}
    to_load: dict[str, list[str]] = {}  # month -> extracts that need loading
    for month in summary.months:
        state = {e: _delivery_state(settings, e, month) for e in MONTHLY_EXTRACTS}
        for extract in [e for e, found in state.items() if found == "missing"]:
            summary.gaps.setdefault(extract, []).append(month)
        targets = [
            e
            for e, found in state.items()
            if found == "delivered" and (force or needs_load(settings, e, month))
        ]
        summary.up_to_date += sum(found == "delivered" for found in state.values()) - len(targets)
        if targets:
            to_load[month] = targets
    run_ids = summary.run_ids
    if to_load:
        if lock := locked():
            summary.failures.append(lock)
            return summary
        result = _load(load_definitions(), ready_instance(), to_load, logging, progress)
        run_ids.append(result.run_id)
        summary.failures += failure_lines(result.all_events)
        summary.loaded += _loaded(result)
        summary.set_aside += _set_aside(result)

    if summary.failures:
        summary.stages = stage_seconds(ready_instance(), run_ids) if run_ids else {}
        return summary

    digest = refresh_digest(settings, edition)
    current = None if force or full_refresh else current_state(settings, digest)
    if current is not None:  # nothing it reads has changed: the outputs are current
        summary.refreshed, summary.current_since = True, current["at"]
        summary.edition, summary.held = current["edition"], current["held"]
        summary.notices, summary.flags = current["notices"], current["flags"]
        summary.stages = stage_seconds(ready_instance(), run_ids) if run_ids else {}
        return summary
    if lock := locked():
        summary.failures.append(lock)
        return summary
    forget_state(settings)

    say("refreshing the warehouse, the quality flags, the edition and the snapshot")
    run_config = dict(logging)
    if edition:
        run_config["ops"] = {op: {"config": {"edition": edition}} for op in EDITION_OPS}
    if full_refresh or force:
        run_config.setdefault("ops", {})["warehouse_models"] = {"config": {"full_refresh": True}}
    refresh = load_definitions().resolve_job_def("refresh_job")
    result = _execute(refresh, ready_instance(), progress, run_config=run_config)
    run_ids.append(result.run_id)
    summary.stages = stage_seconds(ready_instance(), run_ids)
    # the gate holding the edition (a warning) or the staged edition failing validation (an
    # error): either way it is not staged for release
    held = [
        HELD_PREFIX.sub("", evaluation.description or evaluation.check_name)
        for evaluation in result.get_asset_check_evaluations()
        if not evaluation.passed and evaluation.check_name in GATE_CHECKS
    ]
    summary.held = held
    blocking_failures = [
        m
        for m in failure_lines(result.all_events)
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
    if summary.refreshed:
        summary.flags = window_flags(settings, summary.edition)
        record_state(
            settings,
            digest,
            {
                "edition": summary.edition,
                "held": summary.held,
                "notices": summary.notices,
                "flags": summary.flags,
            },
        )
    return summary


def window_flags(settings: Settings, edition: str | None) -> dict[str, int]:
    """Quality flags raised in the months of the edition's window, and how many of them await
    a review (status WARN), from the flags the refresh wrote."""
    if not edition:
        return {"raised": 0, "unreviewed": 0}
    try:
        flags = read_flags(settings)
    except FileNotFoundError:
        return {"raised": 0, "unreviewed": 0}
    months = set(edition_window(edition).months)
    in_window = flags[pd.to_datetime(flags["month"]).dt.strftime("%Y-%m").isin(months)]
    return {
        "raised": len(in_window),
        "unreviewed": int(in_window["status"].eq("WARN").sum()),
    }

"""What a pipeline run's steps took, read back from the Dagster event log: step windows and
the stage each step belongs to (the command line's closing summary and the benchmark), and the
one-line reason of each failed step (the command line and the failure alert)."""

from __future__ import annotations

import re
from collections.abc import Iterable

import dagster as dg

# Stage of each step, by the step key's start (one dbt step, warehouse_models, whose build
# includes the quality flags).
STEP_STAGES = {
    "ingest_month": "loading",
    "raw__inspections": "loading",
    "warehouse_models": "dbt",
    "publication_tables": "publication",
    "edition_files": "publication",
    "analyst_snapshot": "snapshot",
}
STAGES = ("loading", "dbt", "publication", "snapshot")
STEP_END = (dg.DagsterEventType.STEP_SUCCESS, dg.DagsterEventType.STEP_FAILURE)


def stage_of(step_key: str) -> str | None:
    return next((s for prefix, s in STEP_STAGES.items() if step_key.startswith(prefix)), None)


def step_windows(
    instance: dg.DagsterInstance, run_ids: Iterable[str]
) -> list[tuple[str, float, float]]:
    """(step key, start, end) of every finished step of the runs, in order."""
    windows = []
    for run_id in run_ids:
        starts: dict[str, float] = {}
        for entry in instance.all_logs(run_id):
            event = entry.dagster_event
            if event is None or not entry.step_key:
                continue
            if event.event_type == dg.DagsterEventType.STEP_START:
                starts[entry.step_key] = entry.timestamp
            elif event.event_type in STEP_END and entry.step_key in starts:
                windows.append((entry.step_key, starts.pop(entry.step_key), entry.timestamp))
    return windows


def stage_seconds(instance: dg.DagsterInstance, run_ids: Iterable[str]) -> dict[str, float]:
    """Seconds spent in each stage's steps over the runs (stages without a step are left out)."""
    seconds: dict[str, float] = {}
    for step, began, ended in step_windows(instance, run_ids):
        stage = stage_of(step)
        if stage:
            seconds[stage] = seconds.get(stage, 0.0) + ended - began
    return {stage: seconds[stage] for stage in STAGES if stage in seconds}


ANSI = re.compile(r"\x1b\[[0-9;]*m")


CLASS_PREFIX = re.compile(r"^(?:[A-Za-z_][\w.]*(?:Error|Exception|Failure|Interrupt)[:,]\s*)+")


def plain(text: str) -> str:
    """The first line of an error message without Python class names in front of it."""
    lines = [line.strip() for line in ANSI.sub("", text or "").splitlines() if line.strip()]
    return CLASS_PREFIX.sub("", lines[0]) if lines else ""


def failure_lines(events: Iterable[dg.DagsterEvent]) -> list[str]:
    """One line per failed step: the description of the dg.Failure it raised (the one-line
    reason), else the step and the first line of the innermost error (the real cause, not
    Dagster's wrapper), without class names."""
    messages = []
    for event in events:
        if not event.is_step_failure:
            continue
        data = event.step_failure_data
        if data.user_failure_data is not None and data.user_failure_data.description:
            lines = data.user_failure_data.description.splitlines()  # one per failed file
            messages += [plain(line) for line in lines if line.strip()]
            continue
        error = data.error
        while error is not None and error.cause is not None:
            error = error.cause
        messages.append(
            f"{event.step_key}: {plain(error.message if error else '') or 'step failed'}"
        )
    return messages

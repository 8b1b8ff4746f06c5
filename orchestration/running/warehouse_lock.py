"""Whether the pipeline can write the DuckDB warehouse, checked before any work starts.

DuckDB allows one writer per file, and a process holding even a read-only connection on
`warehouse.duckdb` blocks it. `warehouse_lock_problem` opens the file for writing for an
instant and, when another process holds it, says which (program and PID, from DuckDB's own
message) and that analysts should read the analyst snapshot `analytics.duckdb` instead. A
pipeline step holding it (a slot of the `warehouse` pool is claimed in the Dagster instance) is
not a problem: this run's warehouse steps wait for the pool.
"""

from __future__ import annotations

import re

import dagster as dg
import duckdb

from orchestration.settings import Settings

WAREHOUSE_POOL = "warehouse"

HOLDER = re.compile(r"Conflicting lock is held in (?P<program>.+?) \(PID (?P<pid>\d+)\)")


def lock_message(settings: Settings, error_text: str) -> str | None:
    """The one-line explanation of a DuckDB lock error on the warehouse, or None when the
    text is not one."""
    if "lock" not in error_text.lower():
        return None
    found = HOLDER.search(error_text)
    holder = f"{found['program']} (PID {found['pid']})" if found else "another process"
    return (
        f"{settings.warehouse_path}: in use by {holder}; close that connection and run again "
        f"(analysts read {settings.analytics_path}, which the pipeline never locks)"
    )


def pipeline_holds_warehouse(instance: dg.DagsterInstance | None) -> bool:
    """True when a step of a run in this instance holds the warehouse pool."""
    if instance is None:
        return False
    info = instance.event_log_storage.get_concurrency_info(WAREHOUSE_POOL)
    return bool(info.claimed_slots)


def warehouse_lock_problem(
    settings: Settings, instance: dg.DagsterInstance | None = None
) -> str | None:
    """None when the warehouse can be written (or does not exist yet, or a pipeline step of
    this instance holds it), else one line."""
    if not settings.warehouse_path.exists() or pipeline_holds_warehouse(instance):
        return None
    try:
        duckdb.connect(str(settings.warehouse_path)).close()
    except duckdb.Error as error:
        return lock_message(settings, str(error)) or (
            f"{settings.warehouse_path}: cannot be opened: {str(error).splitlines()[0][:200]}"
        )
    return None

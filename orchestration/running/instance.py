"""The Dagster instance command-line runs are recorded in: the one `make ui` shows.

Its home is DAGSTER_HOME when set, else `<data>/dagster_home`. A home without a dagster.yaml
gets the project's (SQLite storage under the home, telemetry off, run queue and retries); an
operator's own dagster.yaml there (PostgreSQL, say) is never overwritten.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import dagster as dg

from orchestration.settings import PROJECT_ROOT, Settings

INSTANCE_CONFIG = PROJECT_ROOT / "dagster.yaml"
LAUNCHED_BY, COMMAND_LINE, PID_TAG = "probation/launched_by", "command line", "probation/pid"


def dagster_home(settings: Settings) -> Path:
    home = os.environ.get("DAGSTER_HOME")
    return Path(home).resolve() if home else settings.data_dir / "dagster_home"


def prepare_home(home: Path) -> Path:
    """Create the home and its dagster.yaml (the project's) when missing."""
    home.mkdir(parents=True, exist_ok=True)
    if not (home / "dagster.yaml").exists():
        shutil.copyfile(INSTANCE_CONFIG, home / "dagster.yaml")
    return home


def recorded_instance(settings: Settings) -> dg.DagsterInstance:
    """The persistent instance at the pipeline's Dagster home (created on first use)."""
    home = prepare_home(dagster_home(settings))
    os.environ["DAGSTER_HOME"] = str(home)  # dagster.yaml reads it ({env: DAGSTER_HOME})
    return dg.DagsterInstance.from_config(str(home))


def reclaim_abandoned_runs(instance: dg.DagsterInstance) -> list[str]:
    """Command-line runs of this instance whose process is gone (killed, machine restarted)
    are marked failed and their pool slots freed, so no later step waits for them forever.
    Runs launched by the daemon are left to Dagster's run monitoring."""
    reclaimed = []
    for run in instance.get_runs(
        filters=dg.RunsFilter(
            statuses=[dg.DagsterRunStatus.STARTED, dg.DagsterRunStatus.STARTING],
            tags={LAUNCHED_BY: COMMAND_LINE},
        )
    ):
        pid = run.tags.get(PID_TAG, "")
        if pid.isdigit() and _alive(int(pid)):
            continue
        instance.event_log_storage.free_concurrency_slots_for_run(run.run_id)
        instance.report_run_failed(run, "the process running it ended without finishing")
        reclaimed.append(run.run_id)
    return reclaimed


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def command_line_tags() -> dict[str, str]:
    """Tags of a run started by `probation-pipeline run` (reclaim_abandoned_runs reads them)."""
    return {LAUNCHED_BY: COMMAND_LINE, PID_TAG: str(os.getpid())}

"""Helpers the test modules share (fixtures are in conftest.py)."""

from __future__ import annotations

import shutil
from pathlib import Path

from orchestration.settings import Settings


def run_assets_on_a_copy(loaded: Settings, tmp_path: Path, monkeypatch, assets, run_config=None):
    """Run the named refresh_job assets in process on a private copy of a run's data folder
    (its staged editions removed), as a UI run of those assets would; return the result."""
    import dagster as dg

    from orchestration.running.runner import load_definitions

    shutil.copytree(loaded.data_dir, tmp_path / "data")
    shutil.rmtree(tmp_path / "data" / "staging", ignore_errors=True)
    monkeypatch.setenv("PROBATION_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("PROBATION_LANDING_DIR", str(loaded.landing_dir))
    return (
        load_definitions()
        .resolve_job_def("refresh_job")
        .execute_in_process(
            asset_selection=[dg.AssetKey(name) for name in assets],
            run_config=run_config,
            instance=dg.DagsterInstance.ephemeral(),
            raise_on_error=False,
        )
    )

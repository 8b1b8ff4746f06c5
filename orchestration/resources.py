"""Dagster resources: the pipeline's folders and where failed runs are notified (the dbt
command line bound to its project is `orchestration.warehouse.dbt_project.dbt_cli`, kept apart so
that
what only loads data never imports dbt)."""

from __future__ import annotations

import os

import dagster as dg

from orchestration.settings import Settings


class PipelineResource(dg.ConfigurableResource):
    """The landing zone and data folder; unset fields fall back to the environment."""

    landing_dir: str | None = None
    data_dir: str | None = None

    def settings(self) -> Settings:
        return Settings.from_env(self.landing_dir, self.data_dir)


class NotifierResource(dg.ConfigurableResource):
    """Where the run-failure sensor posts a failed run (JSON): `webhook_url`, else the
    environment variable PROBATION_FAILURE_WEBHOOK; neither set, it only logs."""

    webhook_url: str | None = None

    def url(self) -> str | None:
        return self.webhook_url or os.environ.get("PROBATION_FAILURE_WEBHOOK") or None

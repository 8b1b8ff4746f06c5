"""Dagster resources: the pipeline's folders and where alerts go (the dbt command line bound to
its project is `orchestration.warehouse.dbt_project.dbt_cli`, kept apart so that what only loads
data never imports dbt)."""

from __future__ import annotations

import os

import dagster as dg

from orchestration.alerts import Channels
from orchestration.settings import Settings


class PipelineResource(dg.ConfigurableResource):
    """The landing zone and data folder; unset fields fall back to the environment."""

    landing_dir: str | None = None
    data_dir: str | None = None

    def settings(self) -> Settings:
        return Settings.from_env(self.landing_dir, self.data_dir)


class NotifierResource(dg.ConfigurableResource):
    """Where alerts go (orchestration/alerts.py): a webhook (`webhook_url`, else
    PROBATION_ALERT_WEBHOOK, else the older PROBATION_FAILURE_WEBHOOK) and email through SMTP
    (`smtp_host`/PROBATION_ALERT_SMTP_HOST, `smtp_port`/PROBATION_ALERT_SMTP_PORT (25),
    `email_from`/PROBATION_ALERT_EMAIL_FROM, `email_to`/PROBATION_ALERT_EMAIL_TO: addresses
    separated by commas). With none set, alerts are only logged."""

    webhook_url: str | None = None
    smtp_host: str | None = None
    smtp_port: int | None = None
    email_from: str | None = None
    email_to: str | None = None

    def url(self) -> str | None:
        return (
            self.webhook_url
            or os.environ.get("PROBATION_ALERT_WEBHOOK")
            or os.environ.get("PROBATION_FAILURE_WEBHOOK")
            or None
        )

    def channels(self) -> Channels:
        to = self.email_to or os.environ.get("PROBATION_ALERT_EMAIL_TO") or ""
        port = self.smtp_port or int(os.environ.get("PROBATION_ALERT_SMTP_PORT") or 25)
        return Channels(
            webhook_url=self.url(),
            smtp_host=self.smtp_host or os.environ.get("PROBATION_ALERT_SMTP_HOST") or None,
            smtp_port=port,
            sender=self.email_from
            or os.environ.get("PROBATION_ALERT_EMAIL_FROM")
            or Channels.sender,
            recipients=tuple(a.strip() for a in to.split(",") if a.strip()),
        )

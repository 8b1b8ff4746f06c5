"""Alerts that reach a person, by one path for every kind: a run that failed, data that is late
(a failed freshness check) and an edition the quality gate holds, with the flags that hold it.

An alert is one line a person reads first, with its details. Each is appended to
`<data>/logs/alerts.jsonl`, posted as JSON to the webhook when one is configured, and emailed
through SMTP when a server and recipients are configured. A channel that cannot be reached is
reported back in one line; it never stops the other channels or the sensor that raised it."""

from __future__ import annotations

import json
import smtplib
import urllib.request
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.message import EmailMessage
from pathlib import Path
from typing import Any

KINDS = ("run_failed", "late_data", "edition_held")


@dataclass(frozen=True)
class Alert:
    """What happened, in one line, and the details a receiver may act on."""

    kind: str
    line: str
    details: dict[str, Any] = field(default_factory=dict)

    def entry(self, at: datetime | None = None) -> dict[str, Any]:
        when = (at or datetime.now(UTC)).isoformat(timespec="seconds")
        return {"kind": self.kind, "at": when, "line": self.line, **self.details}


@dataclass(frozen=True)
class Channels:
    """Where alerts go besides the log: a webhook, and email through an SMTP server."""

    webhook_url: str | None = None
    smtp_host: str | None = None
    smtp_port: int = 25
    sender: str = "probation-pipeline@localhost"
    recipients: tuple[str, ...] = ()

    @property
    def email(self) -> bool:
        return bool(self.smtp_host and self.recipients)


def deliver(alert: Alert, channels: Channels, log: Path) -> list[str]:
    """Log the alert and send it on every configured channel; one line per channel that
    failed (an empty list when every configured channel took it)."""
    if alert.kind not in KINDS:
        raise ValueError(f"unknown alert kind {alert.kind!r}: expected one of {KINDS}")
    entry = alert.entry()
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("a") as handle:
        handle.write(json.dumps(entry) + "\n")
    problems = []
    if channels.webhook_url:
        try:
            _post(channels.webhook_url, entry)
        except OSError as error:
            problems.append(f"alert not posted to the webhook {channels.webhook_url}: {error}")
    if channels.email:
        try:
            _email(channels, entry)
        except (OSError, smtplib.SMTPException) as error:
            problems.append(f"alert not emailed through {channels.smtp_host}: {error}")
    return problems


def _post(url: str, entry: dict[str, Any]) -> None:
    request = urllib.request.Request(
        url, data=json.dumps(entry).encode(), headers={"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=10):
        pass


def _email(channels: Channels, entry: dict[str, Any]) -> None:
    message = EmailMessage()
    message["Subject"] = f"[probation pipeline] {entry['line']}"[:200]
    message["From"] = channels.sender
    message["To"] = ", ".join(channels.recipients)
    details = {k: v for k, v in entry.items() if k != "line"}
    message.set_content(entry["line"] + "\n\n" + json.dumps(details, indent=2) + "\n")
    assert channels.smtp_host is not None  # checked by Channels.email
    with smtplib.SMTP(channels.smtp_host, channels.smtp_port, timeout=10) as server:
        server.send_message(message)

"""One alerting path (orchestration/alerts.py): an alert is logged, posted to the webhook and
emailed through SMTP when each is configured; a receiver that cannot be reached is one line
back, and the other channels still get the alert."""

from __future__ import annotations

import json

import pytest

from orchestration.alerts import Alert, Channels, deliver
from orchestration.resources import NotifierResource
from tests.receivers import smtp_receiver, webhook_receiver

pytestmark = pytest.mark.unit

HELD = Alert(
    "edition_held",
    "edition 2021-06 held: 2 unreviewed quality flags",
    {
        "edition": "2021-06",
        "flags": ["row_count:contacts:N07:2021-04", "row_count:events:N03:2021-05"],
    },
)


def test_an_alert_is_logged_posted_and_emailed(tmp_path):
    log = tmp_path / "logs" / "alerts.jsonl"
    with webhook_receiver() as (url, posted), smtp_receiver() as (port, mails):
        channels = Channels(url, "127.0.0.1", port, "pipeline@example.org", ("stats@example.org",))
        assert deliver(HELD, channels, log) == []
    (logged,) = [json.loads(line) for line in log.open()]
    assert posted == [logged]
    assert logged["kind"] == "edition_held" and logged["line"] == HELD.line
    assert logged["flags"] == HELD.details["flags"]
    (mail,) = mails
    assert mail["Subject"] == f"[probation pipeline] {HELD.line}"
    assert mail["To"] == "stats@example.org"
    assert "row_count:events:N03:2021-05" in mail.get_payload()


def test_an_unreachable_webhook_is_one_line_and_email_still_goes(tmp_path):
    with webhook_receiver() as (url, _):
        dead = url  # the receiver is stopped when the block ends: nothing listens there now
    with smtp_receiver() as (port, mails):
        channels = Channels(dead, "127.0.0.1", port, recipients=("stats@example.org",))
        problems = deliver(HELD, channels, tmp_path / "alerts.jsonl")
    assert len(problems) == 1 and problems[0].startswith(f"alert not posted to the webhook {dead}")
    assert len(mails) == 1
    assert len((tmp_path / "alerts.jsonl").read_text().splitlines()) == 1


def test_without_a_channel_an_alert_is_only_logged(tmp_path):
    assert deliver(HELD, Channels(), tmp_path / "alerts.jsonl") == []
    with pytest.raises(ValueError, match="unknown alert kind"):
        deliver(Alert("bad_kind", "x"), Channels(), tmp_path / "alerts.jsonl")


def test_the_notifier_reads_its_channels_from_the_environment(monkeypatch):
    monkeypatch.setenv("PROBATION_ALERT_WEBHOOK", "http://hooks.example/x")
    monkeypatch.setenv("PROBATION_ALERT_SMTP_HOST", "smtp.example")
    monkeypatch.setenv("PROBATION_ALERT_SMTP_PORT", "2525")
    monkeypatch.setenv("PROBATION_ALERT_EMAIL_TO", "a@example.org, b@example.org")
    channels = NotifierResource().channels()
    assert channels == Channels(
        "http://hooks.example/x", "smtp.example", 2525, Channels.sender,
        ("a@example.org", "b@example.org"),
    )  # fmt: skip
    assert NotifierResource(webhook_url="http://set/").channels().webhook_url == "http://set/"

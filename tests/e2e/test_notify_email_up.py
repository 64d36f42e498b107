"""Notification email under `kafkagram up`: settings through the HTTP API, a follow → outbox → relay →
Kafka → notify → notification-created → notify-email → the SMTP sink `up` starts → a .eml file."""

from __future__ import annotations

import subprocess
import sys
from email import message_from_bytes, policy

import pytest

from tests.support.repo import REPO
from tests.support.services import free_port
from tests.support.up import api_call, read_log, register_users, running_up, up_environment
from tests.support.waiting import wait_for


@pytest.mark.slow
def test_a_follow_emails_the_followee_through_the_local_sink(fresh_database, tmp_path, monkeypatch):
    monkeypatch.delenv("SMTP_URL", raising=False)  # unset: `up` starts its sink
    monkeypatch.setenv("SMTP_PORT", str(free_port()))
    with running_up(fresh_database, tmp_path) as ports:
        mail_dir = tmp_path / "run" / "mail"
        with (tmp_path / "up.log").open() as log:
            assert f"a .eml per message in {mail_dir}" in read_log(log)
        sessions = register_users(ports["http"], "ada", "bob")
        tokens = {name: session["access_token"] for name, session in sessions.items()}
        status, body = api_call(ports["http"], "GET", "/api/me/settings", token=tokens["ada"])
        assert (status, body) == (200, {"email_notifications": ["comment", "follow", "mention"]})
        status, body = api_call(ports["http"], "PATCH", "/api/me/settings", {"email_notifications": ["follow"]},
                                token=tokens["ada"])
        assert (status, body) == (200, {"email_notifications": ["follow"]})

        status, _ = api_call(ports["http"], "PUT", "/api/users/ada/follow", token=tokens["bob"])
        assert status == 204

        [path] = wait_for(lambda: sorted(mail_dir.glob("*.eml")), timeout=120, message="ada's email in the sink")
        message = message_from_bytes(path.read_bytes(), policy=policy.default)
        assert message["To"] == "ada@example.org"
        assert message["Subject"] == "bob started following you"
        assert str(message["Message-ID"]).startswith("<notification-")


def test_an_unreachable_smtp_url_fails_fast_with_one_line(fresh_database, tmp_path):
    url = f"smtp://127.0.0.1:{free_port()}"  # nothing listens there
    _ports, env = up_environment(fresh_database, tmp_path)
    result = subprocess.run([sys.executable, "-m", "kafkagram_local.cli", "up"], cwd=REPO,
                            env={**env, "SMTP_URL": url}, capture_output=True, text=True, timeout=120)
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert f"SMTP is not reachable at {url.removeprefix('smtp://')}" in lines[0]
    assert "unset SMTP_URL to use the local sink" in lines[0]

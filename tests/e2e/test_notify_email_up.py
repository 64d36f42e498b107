"""Notification email under `kafkagram up`: registration → user-registered → notify-email → the link that
verifies the address, confirmed through the HTTP API; settings through the HTTP API, a follow → outbox →
relay → Kafka → notify → notification-created → notify-email → the SMTP sink `up` starts → a .eml file."""

from __future__ import annotations

import re
import subprocess
import sys
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from urllib.parse import unquote

import pytest

from tests.support.repo import REPO
from tests.support.services import free_port
from tests.support.up import api_call, read_log, register_users, running_up, up_environment
from tests.support.waiting import wait_for


def mail_to(mail_dir: Path, address: str, subject: str) -> list[EmailMessage]:
    messages = [message_from_bytes(path.read_bytes(), policy=policy.default) for path in sorted(mail_dir.glob("*.eml"))]
    return [m for m in messages if m["To"] == address and m["Subject"] == subject]  # type: ignore[misc]


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
        # Ada confirms her address with the link mailed at registration: only a verified address gets
        # notification emails.
        [welcome] = wait_for(lambda: mail_to(mail_dir, "ada@example.org", "Confirm your email address for kafkagram"),
                             timeout=120, message="ada's verification email in the sink")
        link = re.search(r"http://\S+/verify-email#token=(\S+)", welcome.get_content())
        assert link, welcome.get_content()
        status, body = api_call(ports["http"], "POST", "/api/auth/verify-email", {"token": unquote(link.group(1))})
        assert (status, body) == (200, {"email": "ada@example.org"})
        status, body = api_call(ports["http"], "GET", "/api/me/settings", token=tokens["ada"])
        assert (status, body) == (200, {"email_notifications": ["comment", "follow", "mention"]})
        status, body = api_call(ports["http"], "PATCH", "/api/me/settings", {"email_notifications": ["follow"]},
                                token=tokens["ada"])
        assert (status, body) == (200, {"email_notifications": ["follow"]})

        status, _ = api_call(ports["http"], "PUT", "/api/users/ada/follow", token=tokens["bob"])
        assert status == 204

        [message] = wait_for(lambda: mail_to(mail_dir, "ada@example.org", "bob started following you"), timeout=120,
                             message="ada's email in the sink")
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

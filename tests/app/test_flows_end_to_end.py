"""A person's action crosses the whole system under `kafkagram up`: HTTP API → PostgreSQL + outbox
(one transaction) → relay → Kafka → event source mapping (with its filter) → handler → PostgreSQL."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import urllib.error
import urllib.request
from typing import Any

import pytest

from kafkagram.db import connect
from tests.app.up_support import REPO, read_log, up_environment
from tests.waiting import wait_for


def call(port: int, method: str, path: str, body: dict[str, Any] | None = None,
         token: str | None = None) -> tuple[int, Any]:
    request = urllib.request.Request(f"http://127.0.0.1:{port}{path}", method=method,
                                     data=None if body is None else json.dumps(body).encode(),
                                     headers={"Content-Type": "application/json",
                                              **({"Authorization": f"Bearer {token}"} if token else {})})
    try:
        with urllib.request.urlopen(request, timeout=90) as response:
            text = response.read()
            return response.status, json.loads(text) if text else None
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"null")


@pytest.mark.slow
def test_a_follow_through_the_api_notifies_the_followee(fresh_database, tmp_path):
    ports, env = up_environment(fresh_database, tmp_path)
    log = (tmp_path / "up.log").open("w+")
    up = subprocess.Popen([sys.executable, "-m", "kafkagram_local.cli", "up"], cwd=REPO, env=env,
                          stdout=log, stderr=subprocess.STDOUT, text=True)
    try:
        wait_for(lambda: "ready in" in read_log(log) or up.poll() is not None, timeout=120, message="ready")
        assert "ready in" in read_log(log), read_log(log)
        tokens = {}
        for name in ("ada", "bob"):
            status, body = call(ports["http"], "POST", "/api/auth/register",
                                {"username": name, "email": f"{name}@example.org", "password": "correct horse"})
            assert status == 201, body
            tokens[name] = body["access_token"]
        status, _ = call(ports["http"], "PUT", "/api/users/ada/follow", token=tokens["bob"])
        assert status == 204

        database = connect(fresh_database)
        try:
            rows = wait_for(lambda: database.run(
                "SELECT n.kind, n.actor_count FROM notifications n JOIN users u ON u.id = n.recipient_id "
                "WHERE u.username = 'ada'"), timeout=90, message="ada's follow notification")
        finally:
            database.close()
        assert rows == [["follow", 1]]
        status, profile = call(ports["http"], "GET", "/api/users/ada", token=tokens["bob"])
        assert status == 200 and profile["followers_count"] == 1 and profile["is_following"] is True
    finally:
        up.send_signal(signal.SIGINT)
        up.wait(timeout=60)

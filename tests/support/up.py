"""Running `kafkagram up` from tests: free ports, a fresh database, its own run directory."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any

from tests.support.repo import REPO
from tests.support.services import free_port
from tests.support.waiting import wait_for

TEST_DATABASE = "kafkagram_up_test"


def up_environment(database_url: str, tmp_path: Path,
                   kafka_bootstrap: str | None = None) -> tuple[dict[str, int], dict[str, str]]:
    """Free ports, a fresh database and our own run directory; S3 started by `up`, and the broker too
    unless the test runs its own (`kafka_bootstrap`)."""
    ports = {name: free_port() for name in ("kafka", "s3", "http", "ws", "status", "smtp")}
    env = {**os.environ, "DATABASE_URL": database_url, "KAFKA_PORT": str(ports["kafka"]),
           "S3_PORT": str(ports["s3"]), "HTTP_PORT": str(ports["http"]), "WEBSOCKET_PORT": str(ports["ws"]),
           "STATUS_PORT": str(ports["status"]), "SMTP_PORT": str(ports["smtp"]),
           "KAFKAGRAM_RUN_DIR": str(tmp_path / "run"),
           # The bucket's CORS rule names the web app's origin: the gateway on its free port.
           "WEB_ORIGIN": f"http://127.0.0.1:{ports['http']}"}
    env.pop("SMTP_URL", None)  # the sink `up` starts
    env.pop("KAFKA_BOOTSTRAP_SERVERS", None)
    if kafka_bootstrap is not None:
        env["KAFKA_BOOTSTRAP_SERVERS"] = kafka_bootstrap
    env.pop("AWS_ENDPOINT_URL_S3", None)
    return ports, env


def status(port: int) -> dict:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/status", timeout=5) as response:
        return json.load(response)


def read_log(log: IO[str]) -> str:
    log.flush()
    log.seek(0)
    return log.read()


TROUBLE = re.compile(r"ERROR|WARNING|CRITICAL|Traceback|failed|timed out", re.IGNORECASE)


def trouble_in(log_text: str, most: int = 80) -> str:
    """The last `most` lines of `up`'s log that report a problem (a function's error, a timeout...)."""
    lines = [line for line in log_text.splitlines() if TROUBLE.search(line)]
    return "\n".join(["--- problems in the log of `kafkagram up` ---", *lines[-most:]])


@contextmanager
def running_up(database_url: str, tmp_path: Path, kafka_bootstrap: str | None = None) -> Iterator[dict[str, int]]:
    """`kafkagram up` in a subprocess until ready; yields its ports and stops it with Ctrl-C."""
    ports, env = up_environment(database_url, tmp_path, kafka_bootstrap)
    log = (tmp_path / "up.log").open("w+")
    up = subprocess.Popen([sys.executable, "-m", "kafkagram_local.cli", "up"], cwd=REPO, env=env,
                          stdout=log, stderr=subprocess.STDOUT, text=True)
    try:
        wait_for(lambda: "ready in" in read_log(log) or up.poll() is not None, timeout=120, message="ready")
        assert "ready in" in read_log(log), read_log(log)
        yield ports
    except BaseException:
        print(trouble_in(read_log(log)))  # pytest shows it with the failure: why a call got a 502, say
        raise
    finally:
        up.send_signal(signal.SIGINT)
        up.wait(timeout=60)


# The first request to each function pays a cold start, several at once on 2 cores.
API_CALL_TIMEOUT_S = 120


def api_call(port: int, method: str, path: str, body: dict[str, Any] | None = None,
             token: str | None = None) -> tuple[int, Any]:
    """One JSON request to the HTTP API: (status, decoded body)."""
    headers = {"Content-Type": "application/json", **({"Authorization": f"Bearer {token}"} if token else {})}
    request = urllib.request.Request(f"http://127.0.0.1:{port}{path}", method=method, headers=headers,
                                     data=None if body is None else json.dumps(body).encode())
    try:
        with urllib.request.urlopen(request, timeout=API_CALL_TIMEOUT_S) as response:
            text = response.read()
            return response.status, json.loads(text) if text else None
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"null")


def register_users(port: int, *names: str) -> dict[str, dict[str, Any]]:
    """New users through the running API, by username: each one's session (access token, user...)."""
    sessions = {}
    for name in names:
        status, body = api_call(port, "POST", "/api/auth/register",
                                {"username": name, "email": f"{name}@example.org", "password": "correct horse"})
        assert status == 202, body  # registration does not log in (it must not reveal taken emails)
        status, body = api_call(port, "POST", "/api/auth/login", {"username": name, "password": "correct horse"})
        assert status == 200, body
        sessions[name] = body
    return sessions

"""Nothing a person did is lost when `make up` dies: an event published to the (memory-only) local
broker but not yet handled when `kafkagram up` is killed with SIGKILL is published again from the
event log at the next start, and handled once."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys

import pytest

from kafkagram.db import connect
from tests.support.repo import REPO
from tests.support.up import api_call, read_log, register_users, status, up_environment
from tests.support.waiting import wait_for

NOTIFY_FOLLOWS = "NotifyFunction.UserEvents"


def start_up(env: dict[str, str], log_path) -> tuple[subprocess.Popen[str], object]:
    log = log_path.open("w+")
    up = subprocess.Popen([sys.executable, "-m", "kafkagram_local.cli", "up"], cwd=REPO, env=env,
                          stdout=log, stderr=subprocess.STDOUT, text=True)
    wait_for(lambda: "ready in" in read_log(log) or up.poll() is not None, timeout=120, message="ready")
    assert "ready in" in read_log(log), read_log(log)
    return up, log


@pytest.mark.slow
def test_an_event_published_but_not_handled_before_sigkill_is_handled_once_after_restart(fresh_database, tmp_path):
    ports, env = up_environment(fresh_database, tmp_path)
    up, _log = start_up(env, tmp_path / "first.log")
    frozen: list[int] = []
    database = connect(fresh_database)
    try:
        sessions = register_users(ports["http"], "ada", "bob")
        # The follow notification's poller stops handling (as if the crash came before it got there).
        frozen = wait_for(lambda: status(ports["status"])[NOTIFY_FOLLOWS]["workers"], message="notify's poller")
        for pid in frozen:
            os.kill(pid, signal.SIGSTOP)
        code, _ = api_call(ports["http"], "PUT", "/api/users/ada/follow", token=sessions["bob"]["access_token"])
        assert code == 204
        wait_for(lambda: database.run("SELECT 1 FROM outbox WHERE payload->>'type' = 'user-followed' "
                                      "AND published_at IS NOT NULL"), timeout=60, message="the follow published")
        up.kill()
        up.wait(timeout=30)
    finally:
        for pid in frozen:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)  # a stopped process cannot notice its parent is gone
        if up.poll() is None:
            up.kill()
            up.wait(timeout=30)
    assert database.run("SELECT count(*) FROM notifications")[0][0] == 0  # it really was not handled

    again, log = start_up(env, tmp_path / "second.log")
    try:
        assert "events re-published" in read_log(log), read_log(log)
        rows = wait_for(lambda: database.run(
            "SELECT n.kind, n.actor_count FROM notifications n JOIN users u ON u.id = n.recipient_id "
            "WHERE u.username = 'ada'"), timeout=90, message="ada's follow notification")
        assert rows == [["follow", 1]]
        # Re-published events others had handled already changed nothing: still one follow.
        assert database.run("SELECT count(*) FROM follows")[0][0] == 1
    finally:
        again.send_signal(signal.SIGINT)
        again.wait(timeout=90)
    # Ctrl-C drained everything, so the next start has nothing to re-publish.
    assert "drained" in read_log(log), read_log(log)
    third, log = start_up(env, tmp_path / "third.log")
    try:
        assert "re-published" not in read_log(log), read_log(log)
        assert database.run("SELECT count(*) FROM outbox WHERE published_at IS NULL")[0][0] == 0
    finally:
        third.send_signal(signal.SIGINT)
        third.wait(timeout=90)
        database.close()

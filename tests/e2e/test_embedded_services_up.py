"""`kafkagram up` on a machine that runs neither PostgreSQL nor Redis: with DATABASE_URL and REDIS_URL unset
and nothing answering where it looks for them (POSTGRES_PORT and REDIS_PORT, free ports here, since this
machine's own servers answer on the defaults), it starts embedded ones with their data under the run
directory. A user registered through the API, and a Redis key, are still there after `up` is killed with
-9 and started again, and no embedded server (nor its keeper) outlives either run."""

from __future__ import annotations

import contextlib
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import IO

import pytest
import redis

from kafkagram.db import connect
from tests.support.embedded import embedded_processes, enterable_run_dir
from tests.support.repo import REPO
from tests.support.services import free_port
from tests.support.up import API_CALL_TIMEOUT_S, api_call, read_log, register_users, up_environment
from tests.support.waiting import wait_for

USER = "embedded_ada"


@pytest.fixture
def run_dir() -> Iterator[Path]:
    with enterable_run_dir() as path:
        yield path


def usernames(database_url: str) -> list[str]:
    connection = connect(database_url)
    try:
        return [row[0] for row in connection.run("SELECT username FROM users ORDER BY id")]
    finally:
        connection.close()


def log_in(port: int) -> tuple[int, object]:
    """The user's login, again while the gateway answers that the function timed out or failed: the first
    call of a fresh run pays a cold start, which a loaded 2-core machine can stretch past the gateway's
    timeout. A missing user answers 401, which ends the wait."""
    answer: list[tuple[int, object]] = []

    def answered() -> bool:
        answer.append(api_call(port, "POST", "/api/auth/login", {"username": USER, "password": "correct horse"}))
        return answer[-1][0] not in (502, 504)

    wait_for(answered, timeout=API_CALL_TIMEOUT_S, message="a login the gateway did not time out", interval=0.5)
    return answer[-1]


def start_up(env: dict[str, str], log: IO[str]) -> subprocess.Popen[str]:
    up = subprocess.Popen([sys.executable, "-m", "kafkagram_local.cli", "up"], cwd=REPO, env=env,
                          stdout=log, stderr=subprocess.STDOUT, text=True)
    wait_for(lambda: "ready in" in read_log(log) or up.poll() is not None, timeout=90, message="`up` ready")
    assert "ready in" in read_log(log), read_log(log)
    return up


@pytest.mark.slow
def test_embedded_postgres_and_redis_keep_their_data_across_kill_9(run_dir: Path, tmp_path: Path) -> None:
    ports, env = up_environment("", tmp_path)
    ports.update(postgres=free_port(), redis=free_port())
    for name in ("DATABASE_URL", "REDIS_URL"):
        env.pop(name, None)
    env.update(POSTGRES_PORT=str(ports["postgres"]), REDIS_PORT=str(ports["redis"]), KAFKAGRAM_RUN_DIR=str(run_dir))
    database_url = f"postgresql://postgres@127.0.0.1:{ports['postgres']}/kafkagram"
    redis_url = f"redis://127.0.0.1:{ports['redis']}/0"
    up: subprocess.Popen[str] | None = None
    try:
        log = (tmp_path / "up-1.log").open("w+")
        up = start_up(env, log)
        output = read_log(log)
        assert f"{database_url} (embedded PostgreSQL 18, migrations: " in output, output
        assert f"data in {run_dir / 'pg'}" in output, output
        assert f"{redis_url} (embedded Valkey " in output, output
        assert f"data in {run_dir / 'redis'}" in output, output
        assert (run_dir / "pg" / "PG_VERSION").is_file()

        register_users(ports["http"], USER)
        assert usernames(database_url) == [USER]  # the functions were given the embedded server's URL
        with contextlib.closing(redis.Redis.from_url(redis_url)) as client:
            client.set("kafkagram:test:embedded", "kept")
        servers = [int((run_dir / f"{name}.pid").read_text()) for name in ("postgres", "redis")]
        assert set(servers) <= set(embedded_processes(run_dir))

        up.send_signal(signal.SIGKILL)
        up.wait(timeout=30)
        wait_for(lambda: not embedded_processes(run_dir), timeout=30,
                 message="the killed run's embedded servers and keepers to exit")

        log = (tmp_path / "up-2.log").open("w+")
        up = start_up(env, log)
        assert f"{database_url} (embedded PostgreSQL 18, migrations: up to date)" in read_log(log), read_log(log)
        status, body = log_in(ports["http"])
        assert status == 200, (status, body, read_log(log)[-4000:])
        assert usernames(database_url) == [USER]
        with contextlib.closing(redis.Redis.from_url(redis_url)) as client:
            assert client.get("kafkagram:test:embedded") == b"kept"
        assert embedded_processes(run_dir)

        up.send_signal(signal.SIGINT)
        code = up.wait(timeout=60)
        assert code == 0, read_log(log)
        assert not embedded_processes(run_dir)
        assert not (run_dir / "postgres.pid").exists() and not (run_dir / "redis.pid").exists()
    finally:
        if up is not None and up.poll() is None:
            up.kill()
            up.wait(timeout=30)
        wait_for(lambda: not embedded_processes(run_dir), timeout=30, message="no embedded server left")

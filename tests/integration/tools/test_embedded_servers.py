"""The embedded servers of `kafkagram up` (kafkagram_local/embedded.py) on their own: a keeper killed with -9
takes its server with it, a server left running is stopped before a new one starts on the same data, and
data that cannot be used is refused with one clear sentence. (`tests/e2e/test_embedded_services_up.py`
runs them under `kafkagram up`, killed with -9 and restarted.)"""

from __future__ import annotations

import contextlib
import os
import signal
import sys
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlparse

import pytest
import redis

from kafkagram.config import Settings
from kafkagram_local.embedded import EmbeddedPostgres, EmbeddedRedis
from kafkagram_local.services import LocalServices
from tests.support.embedded import embedded_processes, enterable_run_dir
from tests.support.services import POSTGRES_SERVER_URL, REDIS_TEST_URL, free_port
from tests.support.waiting import wait_for


@pytest.fixture
def run_dir() -> Iterator[Path]:
    with enterable_run_dir() as path:
        path.mkdir()
        yield path


def redis_server(run_dir: Path) -> EmbeddedRedis:
    return EmbeddedRedis(run_dir, run_dir / "redis", "127.0.0.1", free_port())


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the parent-death signal is Linux's")
def test_a_keeper_killed_with_minus_9_takes_its_server_with_it(run_dir: Path) -> None:
    server = redis_server(run_dir)
    server.start()
    try:
        assert server.keeper is not None and server.pid in embedded_processes(run_dir)
        os.kill(server.keeper.pid, signal.SIGKILL)
        wait_for(lambda: not embedded_processes(run_dir), timeout=15, message="the server to stop")
    finally:
        server.stop()
    assert not server.pid_file.exists()


def test_a_server_left_running_is_stopped_before_another_starts_on_its_data(run_dir: Path) -> None:
    first, second = redis_server(run_dir), redis_server(run_dir)
    try:
        first.start()
        with contextlib.closing(redis.Redis(host="127.0.0.1", port=first.port)) as client:
            client.set("kept", "yes")
        left = first.pid
        second.start()  # the first one's pid file names a live server of ours: it is stopped, cleanly
        assert left not in embedded_processes(run_dir)
        with contextlib.closing(redis.Redis(host="127.0.0.1", port=second.port)) as client:
            assert client.get("kept") == b"yes"
    finally:
        second.stop()
        first.stop()
    assert not embedded_processes(run_dir)


def test_a_cluster_of_another_major_version_is_refused(run_dir: Path) -> None:
    data = run_dir / "pg"
    data.mkdir(mode=0o700)
    (data / "PG_VERSION").write_text("15\n")
    server = EmbeddedPostgres(run_dir, data, "127.0.0.1", free_port())
    with pytest.raises(ConnectionError, match=r"holds a PostgreSQL 15 cluster and the embedded server is "
                                              r"PostgreSQL 18: move it away"):
        server.start()
    assert not embedded_processes(run_dir)


def test_a_directory_that_is_no_cluster_is_left_alone(run_dir: Path) -> None:
    data = run_dir / "pg"
    data.mkdir()
    (data / "notes.txt").write_text("mine")
    with pytest.raises(ConnectionError, match="is not empty and holds no PostgreSQL cluster"):
        EmbeddedPostgres(run_dir, data, "127.0.0.1", free_port()).start()
    assert (data / "notes.txt").read_text() == "mine"


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() != 0, reason="PostgreSQL runs as nobody for root only")
def test_as_root_a_run_directory_nobody_can_enter_is_named(tmp_path: Path) -> None:
    closed = tmp_path / "closed"
    closed.mkdir(mode=0o700)
    run_dir = closed / "run"
    run_dir.mkdir()
    with pytest.raises(ConnectionError, match=r"runs as `nobody`, which cannot enter .*: allow it \(chmod o\+x "):
        EmbeddedPostgres(run_dir, run_dir / "pg", "127.0.0.1", free_port()).start()
    assert not (run_dir / "pg").exists()


def test_a_server_that_answers_wins_and_one_is_embedded_where_none_does(run_dir: Path,
                                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    """DATABASE_URL and REDIS_URL unset: this machine's servers answer on their ports and are used as they are;
    on free ports, embedded ones start there (the environment `up` passes on names them)."""
    for name in ("DATABASE_URL", "REDIS_URL"):
        monkeypatch.delenv(name, raising=False)  # restored afterwards, whatever the services set
    machine = LocalServices(Settings(), run_dir, postgres_port=urlparse(POSTGRES_SERVER_URL).port,
                            redis_port=urlparse(REDIS_TEST_URL).port)
    machine._start_postgres()
    machine._start_redis()
    assert machine.postgres is None and machine.redis is None
    assert machine.settings.redis_url == f"redis://127.0.0.1:{urlparse(REDIS_TEST_URL).port}/0"
    assert not (run_dir / "pg").exists() and not (run_dir / "redis").exists()

    for name in ("DATABASE_URL", "REDIS_URL"):
        monkeypatch.delenv(name)  # set for the processes `up` starts: unset again, for a second `up`
    ports = {"postgres": free_port(), "redis": free_port()}
    embedded = LocalServices(Settings(), run_dir, postgres_port=ports["postgres"], redis_port=ports["redis"])
    try:
        embedded._start_postgres()
        embedded._start_redis()
        assert embedded.postgres is not None and embedded.redis is not None
        assert embedded.settings.database_url == os.environ["DATABASE_URL"] == (
            f"postgresql://postgres@127.0.0.1:{ports['postgres']}/kafkagram")
        assert embedded.settings.redis_url == os.environ["REDIS_URL"] == f"redis://127.0.0.1:{ports['redis']}/0"
        postgres_line, redis_line = embedded.describe()[:2]
        assert f"(embedded PostgreSQL 18, migrations: up to date), data in {run_dir / 'pg'}" in postgres_line
        assert f"(embedded Valkey 9.1.2), data in {run_dir / 'redis'}" in redis_line
    finally:
        embedded.stop()
    assert not embedded_processes(run_dir)

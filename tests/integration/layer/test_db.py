"""PostgreSQL sessions against the real server: TLS as `sslmode` asks, and the sandbox's `Database`
(one connection kept, replaced when it died, transactions that commit or roll back whole)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pg8000.exceptions
import pytest

from kafkagram.db import Database, changes, connect, transaction
from tests.support.services import POSTGRES_SERVER_URL


def test_a_plain_url_connects_without_tls():
    for url in (f"{POSTGRES_SERVER_URL}/postgres", f"{POSTGRES_SERVER_URL}/postgres?sslmode=disable"):
        connection = connect(url)
        try:
            assert connection.run("SELECT 1") == [[1]]
        finally:
            connection.close()


def test_sslmode_require_asks_the_server_for_tls():
    # The machine's PostgreSQL has ssl = off: a client that asks for TLS is refused, one that does not is not.
    with pytest.raises(pg8000.exceptions.InterfaceError, match=r"(?i)ssl"):
        connect(f"{POSTGRES_SERVER_URL}/postgres?sslmode=require")


@pytest.fixture
def database(database_url: str) -> Iterator[Database]:
    made = Database(database_url)
    yield made
    made.close()


def _backend(database: Database) -> int:
    return int(database.read(lambda conn: conn.run("SELECT pg_backend_pid()"))[0][0])


def test_the_connection_is_kept_and_replaced_once_it_died(database: Database, db: Any) -> None:
    pid = _backend(database)
    with database.transaction() as conn:
        assert conn.run("SELECT pg_backend_pid()")[0][0] == pid  # kept across uses
    db.run("SELECT pg_terminate_backend(:pid)", pid=pid)  # as a restart or an idle timeout would
    with database.transaction() as conn:  # BEGIN failed on the dead one: retried on a new connection
        assert conn.run("SELECT pg_backend_pid()")[0][0] != pid
    replaced = _backend(database)
    db.run("SELECT pg_terminate_backend(:pid)", pid=replaced)
    assert _backend(database) != replaced  # reads are retried once too


def test_a_transaction_commits_whole_or_not_at_all(database: Database, db: Any) -> None:
    with database.transaction() as conn:
        conn.run("CREATE TABLE IF NOT EXISTS db_probe (n int)")
        conn.run("TRUNCATE db_probe")
    with pytest.raises(RuntimeError), database.transaction() as conn:
        conn.run("INSERT INTO db_probe VALUES (1)")
        raise RuntimeError("fails after a write")
    with database.transaction() as conn:  # the connection is usable after the ROLLBACK
        conn.run("INSERT INTO db_probe VALUES (2)")
    assert db.run("SELECT n FROM db_probe") == [[2]]
    db.run("DROP TABLE db_probe")


def test_each_transaction_starts_with_no_changes(db: Any) -> None:
    with transaction(db):
        changes(db).posts.add(1)
        assert changes(db).posts == {1}
    with transaction(db):
        assert changes(db).posts == set()

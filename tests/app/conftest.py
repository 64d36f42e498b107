"""The application's database for tests: a fresh, migrated `kafkagram_test` per session."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pg8000.native
import pytest

from kafkagram.db import connect
from kafkagram.migrations import migrate

POSTGRES_SERVER_URL = os.environ.get("TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432")
TEST_DATABASE = os.environ.get("KAFKAGRAM_TEST_DATABASE", "kafkagram_test")


@pytest.fixture(scope="session")
def database_url() -> str:
    """A new database (any left by an earlier run is dropped) with every migration applied."""
    admin = connect(f"{POSTGRES_SERVER_URL}/postgres")
    try:
        admin.run(f'DROP DATABASE IF EXISTS "{TEST_DATABASE}" WITH (FORCE)')
        admin.run(f'CREATE DATABASE "{TEST_DATABASE}"')
    finally:
        admin.close()
    url = f"{POSTGRES_SERVER_URL}/{TEST_DATABASE}"
    connection = connect(url)
    try:
        migrate(connection)
    finally:
        connection.close()
    return url


@pytest.fixture
def db(database_url: str) -> Iterator[pg8000.native.Connection]:
    """A connection of one test (autocommit until the test says BEGIN); tests truncate what they touch."""
    connection = connect(database_url)
    yield connection
    connection.close()


# A fresh (empty, unmigrated) database for the tests that run `kafkagram up` itself.
from tests.app.up_support import fresh_database  # noqa: E402, F401

"""Fixtures of the application tests. The database (`database_url`, `db`) comes from tests/conftest.py."""

from __future__ import annotations

# A fresh (empty, unmigrated) database for the tests that run `kafkagram up` itself.
from tests.app.up_support import fresh_database  # noqa: F401

"""Ordered SQL migrations with a version table.

Files are named `NNNN_description.sql` and applied in order, each in its own transaction, exactly
once; the applied versions are recorded in `schema_migrations`. An advisory lock keeps two
processes from migrating at the same time.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import pg8000.native

MIGRATIONS_DIR = Path(__file__).parent
_NAME = re.compile(r"^(\d{4})_[a-z0-9_]+\.sql$")
_ADVISORY_LOCK_KEY = 0x6B6166  # "kaf"


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    sql: str


def available_migrations(directory: Path = MIGRATIONS_DIR) -> list[Migration]:
    migrations = []
    for path in sorted(directory.glob("*.sql")):
        match = _NAME.match(path.name)
        if not match:
            raise ValueError(f"migration file {path.name} must be named NNNN_description.sql")
        migrations.append(Migration(int(match.group(1)), path.stem, path.read_text()))
    versions = [m.version for m in migrations]
    if len(set(versions)) != len(versions):
        raise ValueError("two migrations share a version number")
    return migrations


def migrate(connection: pg8000.native.Connection, directory: Path = MIGRATIONS_DIR) -> list[str]:
    """Apply pending migrations; returns the names applied (empty when up to date)."""
    connection.run("SELECT pg_advisory_lock(:key)", key=_ADVISORY_LOCK_KEY)
    try:
        connection.run("CREATE TABLE IF NOT EXISTS schema_migrations ("
                       "version integer PRIMARY KEY, name text NOT NULL, "
                       "applied_at timestamptz NOT NULL DEFAULT now())")
        applied = {row[0] for row in connection.run("SELECT version FROM schema_migrations")}
        done = []
        for migration in available_migrations(directory):
            if migration.version in applied:
                continue
            connection.run("BEGIN")
            try:
                connection.execute_simple(migration.sql)
                connection.run("INSERT INTO schema_migrations (version, name) VALUES (:v, :n)",
                               v=migration.version, n=migration.name)
                connection.run("COMMIT")
            except Exception:
                connection.run("ROLLBACK")
                raise
            done.append(migration.name)
        return done
    finally:
        connection.run("SELECT pg_advisory_unlock(:key)", key=_ADVISORY_LOCK_KEY)

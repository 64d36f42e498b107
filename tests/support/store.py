"""Rows made through the store (unique users, ready media, posts), outbox reads, and a statement
counter around the connection's `run` (our own wrapper: the database is real)."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from typing import Any

from kafkagram.db import transaction
from kafkagram.store import media, posts, users
from kafkagram.store.models import Post, User

BLURHASH = "LEHV6nWB2yk8pyo0adR*.7kCMdnj"
BUCKET = "kafkagram-media"


class CountingConnection:
    """Counts the statements a repository function sends; everything else goes to the connection."""

    def __init__(self, connection: Any) -> None:
        self._connection = connection
        self.statements: list[str] = []

    def run(self, sql: str, **params: Any) -> Any:
        self.statements.append(sql)
        return self._connection.run(sql, **params)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._connection, name)

    def reset(self) -> None:
        self.statements.clear()


def unique_name(prefix: str = "u") -> str:
    return f"{prefix}{uuid.uuid4().hex[:12]}"


def make_user(db: Any, prefix: str = "u") -> User:
    name = unique_name(prefix)
    with transaction(db):
        return users.create_user(db, name, f"{name}@example.test", "scrypt$hash", display_name=name.title())


def make_media(db: Any, owner_id: int, *, ready: bool = True, purpose: str = "post") -> int:
    with transaction(db):
        item = media.create_media(db, owner_id, purpose, "image/jpeg", 1000)
        media.mark_uploaded(db, item.id, owner_id, BUCKET, "image/jpeg", 1000)
        if ready:
            media.mark_ready(db, item.id, 1080, 810, variant(item.id), BLURHASH)
    return item.id


def variant(media_id: int) -> list[dict[str, Any]]:
    return [{"width": 1080, "height": 810, "object_key": f"media/{media_id}/1080.jpg",
             "content_type": "image/jpeg", "size_bytes": 500}]


def make_post(db: Any, author_id: int, caption: str = "", media_count: int = 1) -> Post:
    media_ids = [make_media(db, author_id) for _ in range(media_count)]
    with transaction(db):
        return posts.create_post(db, author_id, caption, media_ids)


def events(db: Any, type_name: str, key: int | str) -> list[dict[str, Any]]:
    """The outbox events of one type and Kafka key, oldest first."""
    rows = db.run("SELECT payload FROM outbox WHERE key = :key AND payload->>'type' = :type ORDER BY id",
                  key=str(key), type=type_name)
    return [row[0] for row in rows]


def counters(db: Any, user_id: int) -> tuple[int, int, int]:
    """(followers, following, posts) as stored."""
    [[followers, following, posts_count]] = db.run(
        "SELECT followers_count, following_count, posts_count FROM users WHERE id = :id", id=user_id)
    return followers, following, posts_count


def one_event(db: Any, type_name: str, key: int | str) -> dict[str, Any]:
    """The one outbox event of this type and key."""
    [event] = events(db, type_name, key)
    return event


class _RolledBack(Exception):
    pass


@contextmanager
def rolled_back(connection: Any) -> Iterator[Any]:
    """A transaction that ends in ROLLBACK, as when the code that holds it fails after its writes."""
    with suppress(_RolledBack), transaction(connection):
        yield connection
        raise _RolledBack


def timeline_updates(db: Any, user_id: int) -> list[dict[str, Any]]:
    """The outbox's timeline-updated events that name the user among their recipients, oldest first."""
    rows = db.run("SELECT payload FROM outbox WHERE payload->>'type' = 'timeline-updated' "
                  "AND payload->'data'->'recipient_ids' @> CAST(:id AS jsonb) ORDER BY id",
                  id=json.dumps([str(user_id)]))
    return [row[0] for row in rows]

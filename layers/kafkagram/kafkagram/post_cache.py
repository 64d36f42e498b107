"""Posts as timelines show them, cached in Redis: a page is hydrated with one MGET, and PostgreSQL is
asked only for the misses, in one query.

An entry is the whole post (author summary, caption, media, counters) as JSON under `post:<id>`. The
API forgets a post once a write that changes what it shows has committed (likes, comments, deletion;
a deleted post also leaves every timeline through fan-out, so it is not asked for again). A reader
that loaded a post just before such a commit may put the older copy back: `POST_CACHE_TTL_S` bounds
how long that, or an author's renamed profile, can show.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import asdict
from datetime import datetime
from typing import Any

import pg8000.native
import redis

from kafkagram.store import posts as posts_store
from kafkagram.store.models import Post, PostMedia, UserSummary

POST_CACHE_TTL_S = 60


class PostCache:
    def __init__(self, client: redis.Redis, prefix: str = "") -> None:
        self._redis = client
        self._prefix = prefix  # tests isolate their keys with it

    def _key(self, post_id: int) -> str:
        return f"{self._prefix}post:{post_id}"

    def get_many(self, conn: pg8000.native.Connection, post_ids: Iterable[int]) -> list[Post]:
        """Published posts in the order asked; missing or deleted ones are skipped."""
        ids = list(dict.fromkeys(post_ids))
        if not ids:
            return []
        found: dict[int, Post] = {}
        missing: list[int] = []
        for post_id, raw in zip(ids, self._redis.mget([self._key(post_id) for post_id in ids]), strict=True):
            if raw is None:
                missing.append(post_id)
            else:
                found[post_id] = decode_post(raw)
        if missing:
            loaded = posts_store.get_posts_by_ids(conn, missing)
            if loaded:
                pipe = self._redis.pipeline(transaction=False)
                for post in loaded:
                    pipe.set(self._key(post.id), encode_post(post), ex=POST_CACHE_TTL_S)
                pipe.execute()
            found.update((post.id, post) for post in loaded)
        return [found[post_id] for post_id in ids if post_id in found]

    def forget(self, *post_ids: int) -> None:
        if post_ids:
            self._redis.delete(*(self._key(post_id) for post_id in post_ids))


def encode_post(post: Post) -> str:
    return json.dumps(asdict(post), default=_datetime_to_text, separators=(",", ":"))


def decode_post(raw: bytes | str) -> Post:
    value: dict[str, Any] = json.loads(raw)
    return Post(**{**value, "author": UserSummary(**value["author"]),
                   "media": [PostMedia(**media) for media in value["media"]],
                   "created_at": datetime.fromisoformat(value["created_at"]),
                   "published_at": None if value["published_at"] is None
                   else datetime.fromisoformat(value["published_at"])})


def _datetime_to_text(value: object) -> str:
    if isinstance(value, datetime):
        return value.isoformat()
    raise TypeError(f"{type(value).__name__} is not JSON serializable")

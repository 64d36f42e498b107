"""`kafkagram rebuild counters | timelines`: derived state recomputed from PostgreSQL."""

from __future__ import annotations

import uuid

import pytest

from kafkagram.db import transaction
from kafkagram.store import follows
from kafkagram.store.posts import publish_post_when_media_ready
from kafkagram.timeline import FeedManager
from kafkagram_local.rebuild import rebuild_counters, rebuild_timelines
from tests.support.store import counters, make_post, make_user


@pytest.fixture
def prefix(redis_client):
    prefix = f"test:{uuid.uuid4().hex[:10]}:"
    yield prefix
    keys = list(redis_client.scan_iter(f"{prefix}*"))
    if keys:
        redis_client.delete(*keys)


def test_counters_are_set_to_what_the_rows_say(db):
    author, reader = make_user(db), make_user(db)
    with transaction(db):
        follows.follow(db, reader.id, author.id)
    post = make_post(db, author.id)
    with transaction(db):
        publish_post_when_media_ready(db, post.id)
    right = counters(db, author.id), counters(db, reader.id)
    db.run("UPDATE users SET followers_count = 7, posts_count = 0 WHERE id = :id", id=author.id)
    db.run("UPDATE users SET following_count = 3 WHERE id = :id", id=reader.id)
    db.run("UPDATE posts SET likes_count = 5, comments_count = 2 WHERE id = :id", id=post.id)

    corrected = rebuild_counters(db)

    assert all(corrected[name] >= 1 for name in ("users.followers_count", "users.following_count",
                                                 "users.posts_count", "posts.likes_count", "posts.comments_count"))
    assert (counters(db, author.id), counters(db, reader.id)) == right == ((1, 0, 1), (0, 1, 0))
    assert db.run("SELECT likes_count, comments_count FROM posts WHERE id = :id", id=post.id) == [[0, 0]]
    assert set(rebuild_counters(db).values()) == {0}  # nothing left to correct


def test_active_users_timelines_are_rebuilt_from_postgres(db, redis_client, prefix):
    author, reader, away = make_user(db), make_user(db), make_user(db)
    with transaction(db):
        follows.follow(db, reader.id, author.id)
        follows.follow(db, away.id, author.id)
    post = make_post(db, author.id)
    with transaction(db):
        publish_post_when_media_ready(db, post.id)
    db.run("UPDATE users SET last_seen_at = now() WHERE id = :id", id=reader.id)
    db.run("UPDATE users SET last_seen_at = now() - interval '30 days' WHERE id = :id", id=away.id)

    assert rebuild_timelines(db, redis_client, prefix) >= 1

    feeds = FeedManager(redis_client, prefix=prefix)
    page = feeds.read(reader.id)
    assert page is not None and post.id in page.ids
    assert feeds.read(away.id) is None  # fan-out skips inactive users; their first read rebuilds

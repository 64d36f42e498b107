"""The post cache against real Redis and PostgreSQL: one MGET per page, PostgreSQL only for misses."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
import redis

from kafkagram.db import transaction
from kafkagram.post_cache import POST_CACHE_TTL_S, PostCache, decode_post, encode_post
from kafkagram.store import interactions, posts
from tests.support.store import CountingConnection, make_post, make_user


@pytest.fixture
def cache(redis_client: redis.Redis) -> PostCache:
    return PostCache(redis_client, prefix=f"test:{uuid.uuid4().hex}:")


def test_a_post_survives_the_round_trip_through_json(db: Any) -> None:
    ada = make_user(db)
    post = make_post(db, ada.id, "#sea with @nobody", media_count=2)
    assert decode_post(encode_post(post)) == post


def test_misses_are_loaded_in_one_query_then_served_from_redis(db: Any, cache: PostCache,
                                                               redis_client: redis.Redis) -> None:
    ada, bob = make_user(db), make_user(db)
    first, second = make_post(db, ada.id), make_post(db, bob.id)
    gone = make_post(db, bob.id)
    with transaction(db):
        posts.delete_post(db, gone.id, bob.id)
    asked = [second.id, gone.id, first.id]

    counting = CountingConnection(db)
    assert [p.id for p in cache.get_many(counting, asked)] == [second.id, first.id]
    assert len(counting.statements) == 1
    assert 0 < redis_client.ttl(f"{cache._prefix}post:{first.id}") <= POST_CACHE_TTL_S

    counting.statements.clear()
    again = cache.get_many(counting, [second.id, first.id])
    assert counting.statements == []  # every one a hit
    assert again[1] == posts.get_post(db, first.id)
    assert [p.id for p in cache.get_many(counting, asked)] == [second.id, first.id]
    assert len(counting.statements) == 1  # only the deleted post is asked for again


def test_forget_shows_a_committed_change_at_the_next_read(db: Any, cache: PostCache) -> None:
    ada, bob = make_user(db), make_user(db)
    post = make_post(db, ada.id)
    assert cache.get_many(db, [post.id])[0].likes_count == 0
    with transaction(db):
        interactions.like(db, bob.id, post.id)
    assert cache.get_many(db, [post.id])[0].likes_count == 0  # cached until forgotten (or the TTL)
    cache.forget(post.id)
    assert cache.get_many(db, [post.id])[0].likes_count == 1

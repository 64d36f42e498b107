"""Live post stats against the emulator's real WebSocket gateway: the repo template's route functions
(the watch/unwatch routes among them) run in Lambda sandboxes on the test database and Redis, clients are
`websockets` clients, and the post-stats handler posts through the gateway's management API.

Routes: watch answers the current counts of the posts the user may see, refuses bad messages and a watch
past the cap, unwatch and $disconnect end watches, ping renews them. Handler: a like or a comment reaches
every connection watching the post and nobody else, a burst is throttled and still ends with the final
counts, a post nobody watches costs no database read, gone connections stop watching."""

from __future__ import annotations

import asyncio
import itertools
import json
import random
import time
import uuid
from collections.abc import Iterator, Sequence
from contextlib import ExitStack
from typing import Any

import pytest
import redis
from jsonschema import Draft202012Validator
from websockets.sync.client import ClientConnection

from handlers import post_stats
from kafkagram.auth import AccessTokens
from kafkagram.auth.tokens import LOCAL_DEVELOPMENT_SECRET
from kafkagram.clients import Clients
from kafkagram.connections import ConnectionRegistry
from kafkagram.db import transaction
from kafkagram.events import Event
from kafkagram.events.live import BY_NAME
from kafkagram.flows.post_stats import push_post_stats
from kafkagram.store import interactions, posts
from kafkagram.store.pagination import MAX_ID
from kafkagram.store.posts import PostStats
from kafkagram.store.posts import post_stats as read_post_stats
from kafkagram.watchers import MAX_POST_IDS_PER_MESSAGE, MAX_WATCHED_POSTS, STATS_INTERVAL_MS, PostWatchers
from tests.support.invocations import OK, invoke, kafka_record
from tests.support.services import REDIS_TEST_URL
from tests.support.store import events, make_media, make_post, make_user
from tests.support.websocket import (
    LOCAL_CREDENTIALS,
    Served,
    open_client,
    recv_json,
    template_websocket_api,
    wait_for,
)

STAGE = "/local"


@pytest.fixture(scope="module")
def gateway(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    """On the test database and Redis (no key prefix: the sandboxes' keys are the ones the handler reads)."""
    with template_websocket_api(tmp_path_factory.mktemp("ws"), DATABASE_URL=database_url) as served:
        yield served


@pytest.fixture
def redis_keys() -> Iterator[redis.Redis]:
    client = redis.Redis.from_url(REDIS_TEST_URL)
    yield client
    client.close()


@pytest.fixture
def registry(redis_keys: redis.Redis) -> ConnectionRegistry:
    return ConnectionRegistry(redis_keys)


@pytest.fixture
def watchers(redis_keys: redis.Redis) -> PostWatchers:
    return PostWatchers(redis_keys)


@pytest.fixture
def stats_handler(gateway: Served, sandbox: pytest.MonkeyPatch, database_url: str) -> Iterator[Any]:
    """handlers/post_stats.py with the environment the runtime gives it (endpoint rewritten to the gateway)."""
    sandbox.setenv("WEBSOCKET_ENDPOINT", f"http://{gateway.host}{STAGE}")
    for name, value in LOCAL_CREDENTIALS.items():
        sandbox.setenv(name, value)
    sandbox.setattr(post_stats, "clients", Clients(database_url, REDIS_TEST_URL))
    post_stats.reset_management_api()
    yield post_stats.handler
    post_stats.clients.close()
    post_stats.reset_management_api()


def token(user: int) -> str:
    return AccessTokens(LOCAL_DEVELOPMENT_SECRET).issue(user)


def viewer() -> int:
    return random.randrange(10**15, 10**16)  # no row needed: $connect checks the token, posts are public


def connect_as(gateway: Served, registry: ConnectionRegistry, user: int) -> tuple[ClientConnection, str]:
    """An open client and its connection id, once $connect has registered it."""
    client = open_client(gateway, url=gateway.url(STAGE, token=token(user)))
    [connection_id] = wait_for(lambda: registry.connections_of([user]).get(user), f"user {user}'s connection")
    return client, connection_id


def send(client: ClientConnection, action: str, post_ids: Sequence[Any]) -> None:
    client.send(json.dumps({"action": action, "post_ids": [str(p) if isinstance(p, int) else p for p in post_ids]}))


def watch(client: ClientConnection, *post_ids: int) -> dict[str, Any]:
    """Watch the posts; the reply frame."""
    send(client, "watch", post_ids)
    return recv_json(client)


def counts(frame: dict[str, Any]) -> dict[int, tuple[int, int]]:
    assert frame["type"] == "post-stats-updated" and frame["version"] == 1, frame
    return {int(p["post_id"]): (p["likes_count"], p["comments_count"]) for p in frame["data"]["posts"]}


def like(db: Any, post_id: int, user_id: int | None = None) -> Event:
    """A like through the store (row, counter and outbox event in one transaction); its event."""
    liker = user_id or make_user(db).id
    with transaction(db):
        assert interactions.like(db, liker, post_id)
    return Event.model_validate(events(db, "like-given", post_id)[-1])


def no_frame(client: ClientConnection) -> None:
    with pytest.raises(TimeoutError):
        client.recv(timeout=0.5)


def valid(frame: dict[str, Any]) -> dict[str, Any]:
    """The frame, checked against its schema in docs/asyncapi.yaml (kafkagram.events.live)."""
    Draft202012Validator(BY_NAME[frame["type"]].schema).validate(frame)
    return frame


# --- the watch and unwatch routes ------------------------------------------------------------------------

def test_watch_answers_the_current_counts_of_the_posts_the_user_may_see(gateway, registry, watchers, db):
    author = make_user(db)
    seen = make_post(db, author.id)
    like(db, seen.id)
    with transaction(db):
        interactions.add_comment(db, author.id, seen.id, "first")
    pending = make_post_pending(db, author.id)
    user = viewer()
    client, connection_id = connect_as(gateway, registry, user)
    with client:
        frame = valid(watch(client, seen.id, pending, MAX_ID))  # someone else's pending post; no such post
        assert counts(frame) == {seen.id: (1, 1)}
        assert watchers.watched_by(connection_id) == {seen.id}
        assert watchers.watchers_of([seen.id, pending, MAX_ID]) == {seen.id: [connection_id]}
        assert 0 < watchers._redis.ttl(watchers.post_key(seen.id)) <= watchers.ttl_s
    # Its author sees a pending post, and may watch it.
    client, connection_id = connect_as(gateway, registry, author.id)
    with client:
        assert counts(watch(client, pending)) == {pending: (0, 0)}


def make_post_pending(db: Any, author_id: int) -> int:
    """A post waiting for its media (only its author sees it)."""
    media_id = make_media(db, author_id, ready=False)
    with transaction(db):
        return posts.create_post(db, author_id, "", [media_id]).id


@pytest.mark.parametrize("body", [
    {"action": "watch"},
    {"action": "watch", "post_ids": []},
    {"action": "watch", "post_ids": "1"},
    {"action": "watch", "post_ids": [1]},  # a JSON number: above 2**53 it is not the id the client meant
    {"action": "watch", "post_ids": ["01"]},
    {"action": "watch", "post_ids": [str(MAX_ID + 1)]},
    {"action": "watch", "post_ids": [str(n) for n in range(1, MAX_POST_IDS_PER_MESSAGE + 2)]},
])
def test_a_bad_watch_is_refused_and_stores_nothing(gateway, registry, watchers, body):
    client, connection_id = connect_as(gateway, registry, viewer())
    with client:
        client.send(json.dumps(body))
        frame = valid(recv_json(client))
        assert frame["data"]["code"] == "invalid-message"
        assert watchers.count_of(connection_id) == 0


def test_a_watch_past_the_cap_adds_none_of_its_posts(gateway, registry, watchers, db):
    author = make_user(db)
    first, second = make_post(db, author.id), make_post(db, author.id)
    client, connection_id = connect_as(gateway, registry, viewer())
    with client:
        # The connection already watches all but one of what it may (ids of no post: the cap counts keys).
        assert watchers.watch(connection_id, list(range(1, MAX_WATCHED_POSTS))) == MAX_WATCHED_POSTS - 1
        refused = valid(watch(client, first.id, second.id))
        assert (refused["type"], refused["data"]["code"]) == ("watch-refused", "too-many-watched")
        assert watchers.count_of(connection_id) == MAX_WATCHED_POSTS - 1
        assert counts(watch(client, first.id)) == {first.id: (0, 0)}
        assert counts(watch(client, first.id)) == {first.id: (0, 0)}  # watched already: not counted twice
        assert watchers.count_of(connection_id) == MAX_WATCHED_POSTS


def test_unwatch_and_disconnect_end_watches_and_ping_renews_them(gateway, registry, watchers, db):
    author = make_user(db)
    first, second = make_post(db, author.id), make_post(db, author.id)
    client, connection_id = connect_as(gateway, registry, viewer())
    with client:
        watch(client, first.id, second.id)
        send(client, "unwatch", [first.id])
        wait_for(lambda: watchers.watched_by(connection_id) == {second.id}, "the unwatch")
        assert watchers.watchers_of([first.id]) == {}
        shortened = watchers.ttl_s // 2
        watchers._redis.expire(watchers.post_key(second.id), shortened)
        watchers._redis.expire(watchers.connection_key(connection_id), shortened)
        client.send(json.dumps({"action": "ping"}))
        assert recv_json(client) == {"type": "pong"}
        assert watchers._redis.ttl(watchers.post_key(second.id)) > shortened
        assert watchers._redis.ttl(watchers.connection_key(connection_id)) > shortened
    wait_for(lambda: not watchers._redis.exists(watchers.connection_key(connection_id)), "$disconnect")
    assert watchers.watchers_of([first.id, second.id]) == {}


def test_a_connection_the_registry_forgot_may_not_watch(gateway, registry, watchers, db):
    post = make_post(db, make_user(db).id)
    client, connection_id = connect_as(gateway, registry, viewer())
    with client:
        registry._redis.delete(registry.connection_key(connection_id))  # as if its TTL ran out
        assert valid(watch(client, post.id))["data"]["code"] == "unknown-connection"
        assert watchers.count_of(connection_id) == 0


# --- the post-stats handler ------------------------------------------------------------------------------

def test_a_like_and_a_comment_reach_every_watcher_of_the_post_and_nobody_else(
        gateway, registry, db, stats_handler):
    author = make_user(db)
    post, other = make_post(db, author.id), make_post(db, author.id)
    with ExitStack() as stack:
        first, second, bystander = (stack.enter_context(connect_as(gateway, registry, viewer())[0]) for _ in range(3))
        for client in (first, second):
            assert counts(watch(client, post.id)) == {post.id: (0, 0)}
        watch(bystander, other.id)
        liked = like(db, post.id)
        assert invoke(stats_handler, kafka_record(liked)) == OK
        for client in (first, second):
            assert counts(valid(recv_json(client))) == {post.id: (1, 0)}
        no_frame(bystander)
        with transaction(db):
            comment = interactions.add_comment(db, author.id, post.id, "thanks")
        # Throttled (the like went out just now): sent once the window ends, with the counts then.
        added = Event.model_validate(events(db, "comment-added", post.id)[-1])
        assert invoke(stats_handler, kafka_record(added)) == OK
        for client in (first, second):
            assert counts(recv_json(client)) == {post.id: (1, 1)}
        with transaction(db):
            interactions.delete_comment(db, comment.id, author.id)
        deleted = Event.model_validate(events(db, "comment-deleted", post.id)[-1])
        assert invoke(stats_handler, kafka_record(deleted)) == OK
        assert counts(recv_json(first)) == {post.id: (1, 0)}


def test_a_burst_is_coalesced_throttled_and_ends_with_the_final_counts(gateway, registry, db, stats_handler):
    post = make_post(db, make_user(db).id)
    client, _ = connect_as(gateway, registry, viewer())
    with client:
        watch(client, post.id)
        # Five likes in one batch (as under load): one frame, with the counts after all of them.
        burst = [like(db, post.id) for _ in range(5)]
        assert invoke(stats_handler, *(kafka_record(event) for event in burst)) == OK
        arrivals = [(time.monotonic(), counts(recv_json(client)))]
        # Then a like per batch, each batch right after the one before: one frame per window at most,
        # each with the counts at its window's end, the last one included.
        for _ in range(3):
            assert invoke(stats_handler, kafka_record(like(db, post.id))) == OK
            arrivals.append((time.monotonic(), counts(recv_json(client))))
        assert [frame[post.id] for _, frame in arrivals] == [(5, 0), (6, 0), (7, 0), (8, 0)]
        gaps = [later - earlier for (earlier, _), (later, _) in itertools.pairwise(arrivals[1:])]
        assert all(gap >= STATS_INTERVAL_MS / 1000 * 0.8 for gap in gaps), gaps
        no_frame(client)


def test_the_last_change_of_a_burst_arrives_though_it_came_within_the_window(
        gateway, registry, watchers, db, stats_handler):
    post = make_post(db, make_user(db).id)
    client, _ = connect_as(gateway, registry, viewer())
    with client:
        watch(client, post.id)
        assert invoke(stats_handler, kafka_record(like(db, post.id))) == OK
        assert counts(recv_json(client)) == {post.id: (1, 0)}
        assert watchers._redis.pttl(watchers.sent_key(post.id)) > 0  # the window is open: the next is held
        assert invoke(stats_handler, kafka_record(like(db, post.id))) == OK
        assert counts(recv_json(client)) == {post.id: (2, 0)}  # held to the window's end, not dropped


def test_a_post_nobody_watches_costs_no_database_read_and_no_send(db, stats_handler):
    post = make_post(db, make_user(db).id)
    reads: list[Sequence[int]] = []
    sent: list[str] = []

    def read(post_ids: Sequence[int]) -> list[PostStats]:
        reads.append(post_ids)
        return read_post_stats(db, post_ids)

    async def record(connection_id: str, frame: bytes) -> bool:
        sent.append(connection_id)
        return True

    report = asyncio.run(push_post_stats(post_stats.clients.watchers, read, record, [post.id], 4))
    assert (report.watched, reads, sent) == (0, [], [])
    assert invoke(stats_handler, kafka_record(like(db, post.id))) == OK


def test_connections_the_gateway_calls_gone_stop_watching(gateway, registry, watchers, db, stats_handler):
    post = make_post(db, make_user(db).id)
    stale = uuid.uuid4().hex  # watching, but the gateway has no such connection: 410
    watchers.watch(stale, [post.id])
    client, connection_id = connect_as(gateway, registry, viewer())
    with client:
        watch(client, post.id)
        assert invoke(stats_handler, kafka_record(like(db, post.id))) == OK
        assert counts(recv_json(client)) == {post.id: (1, 0)}
        assert watchers.watchers_of([post.id]) == {post.id: [connection_id]}
        assert not watchers._redis.exists(watchers.connection_key(stale))


def test_a_deleted_post_is_not_reported(gateway, registry, db, stats_handler):
    author = make_user(db)
    post = make_post(db, author.id)
    client, _ = connect_as(gateway, registry, viewer())
    with client:
        watch(client, post.id)
        event = like(db, post.id)
        with transaction(db):
            posts.delete_post(db, post.id, author.id)
        assert invoke(stats_handler, kafka_record(event)) == OK
        no_frame(client)

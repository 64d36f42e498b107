"""Fan-out and follow-graph handlers against real PostgreSQL and Redis: the events are the ones the
store functions put in the outbox, delivered (and redelivered) in AWS's Kafka invocation shape."""

from __future__ import annotations

import itertools
import json
import time
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pg8000.native
import pytest
import redis

from emulator.context import LambdaContext
from emulator.kafka.records import KafkaRecord, invocation_event
from handlers import fan_out, follow_graph
from kafkagram import timeline
from kafkagram.clients import Clients
from kafkagram.db import connect
from kafkagram.events import key_for, topic_for, validate
from kafkagram.store import follows, posts
from kafkagram.timeline import MAX_ITEMS, FeedManager
from tests.app.test_store_support import events, make_post, make_user, transaction
from tests.conftest import REDIS_TEST_URL, create_test_database

EVENT_SOURCE_ARN = "arn:aws:kafka:us-east-1:000000000000:cluster/kafkagram-local/00000000-0000-0000-0000-000000000000-1"
Handler = Callable[[dict[str, Any], Any], dict[str, Any]]
_offsets = itertools.count(1)


# --- helpers shared with test_flows_notify ------------------------------------------------------------

def fresh_database(name: str) -> str:
    """A new migrated database of these tests' own."""
    return create_test_database(name)


def lambda_context(function_name: str) -> LambdaContext:
    return LambdaContext(
        function_name=function_name, function_version="$LATEST",
        invoked_function_arn=f"arn:aws:lambda:us-east-1:000000000000:function:{function_name}",
        memory_limit_in_mb="512", aws_request_id=str(uuid.uuid4()), log_group_name=f"/aws/lambda/{function_name}",
        log_stream_name="test", deadline_ms=int(time.time() * 1000) + 30_000)


def record(payload: dict[str, Any] | bytes, partition: int = 0, topic: str | None = None) -> KafkaRecord:
    """A record as the outbox relay publishes it: the event's topic, its aggregate id as key."""
    if isinstance(payload, bytes):
        return KafkaRecord(topic or "post-events", partition, next(_offsets), int(time.time() * 1000), False,
                           b"poison", payload, None)
    return KafkaRecord(topic_for(payload["type"]), partition, next(_offsets), int(time.time() * 1000), False,
                       key_for(payload).encode(), json.dumps(payload).encode(), None)


def invoke(handler: Handler, *records: KafkaRecord) -> dict[str, Any]:
    event = invocation_event(list(records), event_source="aws:kafka", event_source_arn=EVENT_SOURCE_ARN,
                             bootstrap_servers="b-1.kafkagram.local:9098,b-2.kafkagram.local:9098")
    return handler(event, lambda_context(handler.__module__))


def one_event(db: Any, type_name: str, key: int) -> dict[str, Any]:
    [event] = events(db, type_name, key)
    return event


OK: dict[str, Any] = {"batchItemFailures": []}


# --- fixtures ------------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def flow_database_url() -> str:
    return fresh_database("kafkagram_flows_fanout_test")


@pytest.fixture
def pg(flow_database_url: str) -> Iterator[pg8000.native.Connection]:
    connection = connect(flow_database_url)
    yield connection
    connection.close()


@pytest.fixture
def clients(flow_database_url: str, unique: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[Clients]:
    """What the handlers use, on the test database and under this test's own Redis key prefix."""
    made = Clients(flow_database_url, REDIS_TEST_URL, key_prefix=f"test:{unique}:")
    monkeypatch.setattr(fan_out, "clients", made)
    monkeypatch.setattr(follow_graph, "clients", made)
    yield made
    for key in made.redis.scan_iter(match=f"{made.key_prefix}*", count=1000):
        made.redis.delete(key)
    made.close()


@pytest.fixture
def feeds(clients: Clients) -> FeedManager:
    return clients.feeds


def online(feeds: FeedManager, *user_ids: int) -> None:
    """Users seen just now, with a built (empty) home timeline."""
    for user_id in user_ids:
        feeds.mark_active(user_id)
        feeds.rebuild(user_id, [])


def connect_socket(clients: Clients, user_id: int) -> None:
    clients.registry.register(user_id, f"conn-{uuid.uuid4().hex[:8]}")


def home(feeds: FeedManager, user_id: int) -> list[int] | None:
    page = feeds.read(user_id, limit=MAX_ITEMS)
    return None if page is None else page.ids


# --- fan-out -------------------------------------------------------------------------------------------

def test_a_post_reaches_its_author_and_every_active_follower_and_only_theirs(pg: Any, feeds: FeedManager) -> None:
    author, ada, bob, idle, stranger = (make_user(pg) for _ in range(5))
    for follower in (ada, bob, idle):
        with transaction(pg):
            follows.follow(pg, follower.id, author.id)
    online(feeds, author.id, ada.id, bob.id, stranger.id)
    feeds.rebuild(idle.id, [])  # a timeline, but not seen for ACTIVE_DAYS: rebuilt when they return
    post = make_post(pg, author.id, "hello")

    assert invoke(fan_out.handler, record(one_event(pg, "post-created", post.id))) == OK

    assert home(feeds, ada.id) == [post.id] and home(feeds, bob.id) == [post.id] and home(feeds, author.id) == [post.id]
    assert home(feeds, idle.id) == [] and home(feeds, stranger.id) == []


def test_post_deleted_removes_it_from_the_timelines(pg: Any, feeds: FeedManager) -> None:
    author, ada, bob = (make_user(pg) for _ in range(3))
    for follower in (ada, bob):
        with transaction(pg):
            follows.follow(pg, follower.id, author.id)
    online(feeds, ada.id, bob.id)
    kept, deleted = make_post(pg, author.id), make_post(pg, author.id)
    invoke(fan_out.handler, record(one_event(pg, "post-created", kept.id)),
           record(one_event(pg, "post-created", deleted.id)))
    assert home(feeds, ada.id) == [deleted.id, kept.id]

    with transaction(pg):
        posts.delete_post(pg, deleted.id, author.id)
    assert invoke(fan_out.handler, record(one_event(pg, "post-deleted", deleted.id))) == OK

    assert home(feeds, ada.id) == [kept.id] and home(feeds, bob.id) == [kept.id]


def test_the_same_events_twice_give_one_entry_and_one_update(pg: Any, clients: Clients,
                                                             feeds: FeedManager) -> None:
    author, ada = make_user(pg), make_user(pg)
    with transaction(pg):
        follows.follow(pg, ada.id, author.id)
    online(feeds, ada.id)
    connect_socket(clients, ada.id)
    post = make_post(pg, author.id)
    created = one_event(pg, "post-created", post.id)

    invoke(fan_out.handler, record(created), record(created))  # twice in one batch
    invoke(fan_out.handler, record(created))  # and once more later (a retry, a rebalance)

    assert home(feeds, ada.id) == [post.id]
    assert clients.redis.zcard(feeds.timeline_key(ada.id)) == 2  # the marker and one entry
    assert len(events(pg, "timeline-updated", ada.id)) == 1

    with transaction(pg):
        posts.delete_post(pg, post.id, author.id)
    deleted = one_event(pg, "post-deleted", post.id)
    invoke(fan_out.handler, record(deleted))
    invoke(fan_out.handler, record(deleted))
    assert home(feeds, ada.id) == []
    assert [e["data"]["action"] for e in events(pg, "timeline-updated", ada.id)] == ["added", "removed"]


def test_a_failed_attempt_is_retried_whole_and_still_emits_once(pg: Any, clients: Clients,
                                                               feeds: FeedManager,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    author, ada = make_user(pg), make_user(pg)
    with transaction(pg):
        follows.follow(pg, ada.id, author.id)
    online(feeds, ada.id)
    connect_socket(clients, ada.id)
    post = make_post(pg, author.id)
    created = record(one_event(pg, "post-created", post.id))

    def unreachable(user_ids: Any) -> list[int]:
        raise redis.ConnectionError("registry unreachable")

    with monkeypatch.context() as patched:  # the timeline is written, then the attempt fails
        patched.setattr(clients.registry, "connected", unreachable)
        assert invoke(fan_out.handler, created)["batchItemFailures"][0]["itemIdentifier"]["offset"] == created.offset
    assert home(feeds, ada.id) == [post.id] and events(pg, "timeline-updated", ada.id) == []

    assert invoke(fan_out.handler, created) == OK  # the retry: no marker was committed
    assert home(feeds, ada.id) == [post.id]
    assert len(events(pg, "timeline-updated", ada.id)) == 1


def test_timeline_updated_goes_only_to_connected_followers(pg: Any, clients: Clients,
                                                           feeds: FeedManager) -> None:
    author, connected, offline, stranger = (make_user(pg) for _ in range(4))
    for follower in (connected, offline):
        with transaction(pg):
            follows.follow(pg, follower.id, author.id)
    online(feeds, connected.id, offline.id, stranger.id)
    connect_socket(clients, connected.id)
    connect_socket(clients, stranger.id)  # connected, but not a follower
    post = make_post(pg, author.id)

    invoke(fan_out.handler, record(one_event(pg, "post-created", post.id)))

    [update] = events(pg, "timeline-updated", connected.id)
    validate(update)
    assert update["data"] == {"user_id": str(connected.id), "action": "added", "post_ids": [str(post.id)],
                              "author_id": str(author.id)}
    assert events(pg, "timeline-updated", offline.id) == []
    assert events(pg, "timeline-updated", stranger.id) == []
    assert home(feeds, offline.id) == [post.id]  # the timeline is written either way


def test_presence_checks_many_users_in_one_round_trip_per_chunk(clients: Clients,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    users = list(range(1, 2_501))
    for user_id in users[::100]:
        connect_socket(clients, user_id)
    executed: list[int] = []
    original = redis.client.Pipeline.execute

    def counting(self: redis.client.Pipeline, raise_on_error: bool = True) -> Any:
        executed.append(len(self.command_stack))
        return original(self, raise_on_error)

    monkeypatch.setattr(redis.client.Pipeline, "execute", counting)
    assert clients.registry.connected(users) == users[::100]
    assert executed == [1000, 1000, 500]


def test_a_large_account_is_not_fanned_out(pg: Any, clients: Clients, feeds: FeedManager,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(timeline, "LARGE_ACCOUNT_FOLLOWERS", 1)  # two followers make a large account here
    author, ada, bob = (make_user(pg) for _ in range(3))
    for follower in (ada, bob):
        with transaction(pg):
            follows.follow(pg, follower.id, author.id)
    online(feeds, ada.id, bob.id)
    connect_socket(clients, ada.id)
    post = make_post(pg, author.id)

    invoke(fan_out.handler, record(one_event(pg, "post-created", post.id)))

    assert home(feeds, ada.id) == [] and home(feeds, bob.id) == []  # merged at read time instead
    assert events(pg, "timeline-updated", ada.id) == []


def test_a_record_that_is_not_an_event_is_reported_and_holds_its_partition(pg: Any, feeds: FeedManager) -> None:
    author, ada = make_user(pg), make_user(pg)
    with transaction(pg):
        follows.follow(pg, ada.id, author.id)
    online(feeds, ada.id)
    first, later = make_post(pg, author.id), make_post(pg, author.id)
    poison = record(b"not json")

    response = invoke(fan_out.handler, record(one_event(pg, "post-created", first.id)), poison,
                      record(one_event(pg, "post-created", later.id)))

    assert response == {"batchItemFailures": [{"itemIdentifier": {"partition": "post-events-0",
                                                                  "offset": poison.offset}}]}
    assert home(feeds, ada.id) == [first.id]  # the record after the failure waits for the retry


# --- follow graph --------------------------------------------------------------------------------------

def test_follow_backfills_the_followees_recent_posts_and_unfollow_removes_them(pg: Any, feeds: FeedManager) -> None:
    author, other, ada = make_user(pg), make_user(pg), make_user(pg)
    with transaction(pg):
        follows.follow(pg, ada.id, other.id)
    online(feeds, ada.id)
    theirs = [make_post(pg, author.id) for _ in range(3)]
    others = make_post(pg, other.id)
    invoke(fan_out.handler, record(one_event(pg, "post-created", others.id)))

    with transaction(pg):
        follows.follow(pg, ada.id, author.id)
    [followed] = [e for e in events(pg, "user-followed", ada.id) if e["data"]["followee_id"] == str(author.id)]
    assert invoke(follow_graph.handler, record(followed)) == OK
    assert invoke(follow_graph.handler, record(followed)) == OK  # redelivered: nothing more
    assert home(feeds, ada.id) == sorted([others.id, *(p.id for p in theirs)], reverse=True)

    with transaction(pg):
        follows.unfollow(pg, ada.id, author.id)
    unfollowed = one_event(pg, "user-unfollowed", ada.id)
    assert invoke(follow_graph.handler, record(unfollowed), record(unfollowed)) == OK
    assert home(feeds, ada.id) == [others.id]

    # A late redelivery of the old follow does not bring the posts back: the follow is gone.
    assert invoke(follow_graph.handler, record(followed)) == OK
    assert home(feeds, ada.id) == [others.id]


def test_an_unfollow_undone_by_a_new_follow_keeps_the_posts(pg: Any, feeds: FeedManager) -> None:
    author, ada = make_user(pg), make_user(pg)
    online(feeds, ada.id)
    post = make_post(pg, author.id)
    with transaction(pg):
        follows.follow(pg, ada.id, author.id)
    with transaction(pg):
        follows.unfollow(pg, ada.id, author.id)
    with transaction(pg):
        follows.follow(pg, ada.id, author.id)
    first, second = events(pg, "user-followed", ada.id)
    unfollowed = one_event(pg, "user-unfollowed", ada.id)

    assert invoke(follow_graph.handler, record(first), record(unfollowed), record(second)) == OK

    assert home(feeds, ada.id) == [post.id]


def test_follow_into_a_missing_timeline_writes_nothing(pg: Any, feeds: FeedManager) -> None:
    author, ada = make_user(pg), make_user(pg)
    make_post(pg, author.id)
    with transaction(pg):
        follows.follow(pg, ada.id, author.id)

    assert invoke(follow_graph.handler, record(one_event(pg, "user-followed", ada.id))) == OK

    assert home(feeds, ada.id) is None  # still missing: the next read rebuilds it from PostgreSQL

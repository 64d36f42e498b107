"""Fan-out and follow-graph handlers against real PostgreSQL and Redis: the events are the ones the
store functions put in the outbox, delivered (and redelivered) in AWS's Kafka invocation shape."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
import redis

from handlers import fan_out, follow_graph
from kafkagram import timeline
from kafkagram.clients import Clients
from kafkagram.db import transaction
from kafkagram.events import validate
from kafkagram.events.catalog import TIMELINE_RECIPIENTS_MAX, TIMELINE_SHARDS, timeline_shard
from kafkagram.store import follows, posts
from kafkagram.store.models import User
from kafkagram.timeline import MAX_ITEMS, FeedManager
from tests.support.invocations import OK, invoke, kafka_record
from tests.support.store import events, make_post, make_user, one_event, timeline_updates

# --- fixtures ------------------------------------------------------------------------------------------

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


def author_and_connected_follower(db: Any, clients: Clients, feeds: FeedManager) -> tuple[User, User]:
    """Two new users, the second following the first, active and with an open WebSocket."""
    author, follower = make_user(db), make_user(db)
    with transaction(db):
        follows.follow(db, follower.id, author.id)
    online(feeds, follower.id)
    connect_socket(clients, follower.id)
    return author, follower


def home(feeds: FeedManager, user_id: int) -> list[int] | None:
    page = feeds.read(user_id, limit=MAX_ITEMS)
    return None if page is None else page.ids


# --- fan-out -------------------------------------------------------------------------------------------

def test_a_post_reaches_its_author_and_every_active_follower_and_only_theirs(db: Any, feeds: FeedManager) -> None:
    author, ada, bob, idle, stranger = (make_user(db) for _ in range(5))
    for follower in (ada, bob, idle):
        with transaction(db):
            follows.follow(db, follower.id, author.id)
    online(feeds, author.id, ada.id, bob.id, stranger.id)
    feeds.rebuild(idle.id, [])  # a timeline, but not seen for ACTIVE_DAYS: rebuilt when they return
    post = make_post(db, author.id, "hello")

    assert invoke(fan_out.handler, kafka_record(one_event(db, "post-created", post.id))) == OK

    assert home(feeds, ada.id) == [post.id] and home(feeds, bob.id) == [post.id] and home(feeds, author.id) == [post.id]
    assert home(feeds, idle.id) == [] and home(feeds, stranger.id) == []


def test_post_deleted_removes_it_from_the_timelines(db: Any, feeds: FeedManager) -> None:
    author, ada, bob = (make_user(db) for _ in range(3))
    for follower in (ada, bob):
        with transaction(db):
            follows.follow(db, follower.id, author.id)
    online(feeds, ada.id, bob.id)
    kept, deleted = make_post(db, author.id), make_post(db, author.id)
    invoke(fan_out.handler, kafka_record(one_event(db, "post-created", kept.id)),
           kafka_record(one_event(db, "post-created", deleted.id)))
    assert home(feeds, ada.id) == [deleted.id, kept.id]

    with transaction(db):
        posts.delete_post(db, deleted.id, author.id)
    assert invoke(fan_out.handler, kafka_record(one_event(db, "post-deleted", deleted.id))) == OK

    assert home(feeds, ada.id) == [kept.id] and home(feeds, bob.id) == [kept.id]


def test_the_same_events_twice_give_one_entry_and_one_update(db: Any, clients: Clients,
                                                             feeds: FeedManager) -> None:
    author, ada = author_and_connected_follower(db, clients, feeds)
    post = make_post(db, author.id)
    created = one_event(db, "post-created", post.id)

    invoke(fan_out.handler, kafka_record(created), kafka_record(created))  # twice in one batch
    invoke(fan_out.handler, kafka_record(created))  # and once more later (a retry, a rebalance)

    assert home(feeds, ada.id) == [post.id]
    assert clients.redis.zcard(feeds.timeline_key(ada.id)) == 2  # the marker and one entry
    assert len(timeline_updates(db, ada.id)) == 1

    with transaction(db):
        posts.delete_post(db, post.id, author.id)
    deleted = one_event(db, "post-deleted", post.id)
    invoke(fan_out.handler, kafka_record(deleted))
    invoke(fan_out.handler, kafka_record(deleted))
    assert home(feeds, ada.id) == []
    assert [e["data"]["action"] for e in timeline_updates(db, ada.id)] == ["added", "removed"]


def test_a_failed_attempt_is_retried_whole_and_still_emits_once(db: Any, clients: Clients,
                                                               feeds: FeedManager,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    author, ada = author_and_connected_follower(db, clients, feeds)
    post = make_post(db, author.id)
    created = kafka_record(one_event(db, "post-created", post.id))

    def unreachable(user_ids: Any) -> list[int]:
        raise redis.ConnectionError("registry unreachable")

    with monkeypatch.context() as patched:  # the timeline is written, then the attempt fails
        patched.setattr(clients.registry, "connected", unreachable)
        assert invoke(fan_out.handler, created)["batchItemFailures"][0]["itemIdentifier"]["offset"] == created.offset
    assert home(feeds, ada.id) == [post.id] and timeline_updates(db, ada.id) == []

    assert invoke(fan_out.handler, created) == OK  # the retry: no marker was committed
    assert home(feeds, ada.id) == [post.id]
    assert len(timeline_updates(db, ada.id)) == 1


def test_timeline_updated_goes_only_to_connected_followers(db: Any, clients: Clients,
                                                           feeds: FeedManager) -> None:
    author, connected, offline, stranger = (make_user(db) for _ in range(4))
    for follower in (connected, offline):
        with transaction(db):
            follows.follow(db, follower.id, author.id)
    online(feeds, connected.id, offline.id, stranger.id)
    connect_socket(clients, connected.id)
    connect_socket(clients, stranger.id)  # connected, but not a follower
    post = make_post(db, author.id)

    invoke(fan_out.handler, kafka_record(one_event(db, "post-created", post.id)))

    [update] = timeline_updates(db, connected.id)
    validate(update)
    assert update["data"] == {"shard": str(timeline_shard(connected.id)), "recipient_ids": [str(connected.id)],
                              "action": "added", "post_ids": [str(post.id)], "author_id": str(author.id)}
    assert timeline_updates(db, offline.id) == []
    assert timeline_updates(db, stranger.id) == []
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


def test_a_large_account_is_not_fanned_out(db: Any, clients: Clients, feeds: FeedManager,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(timeline, "LARGE_ACCOUNT_FOLLOWERS", 1)  # two followers make a large account here
    author, ada, bob = (make_user(db) for _ in range(3))
    for follower in (ada, bob):
        with transaction(db):
            follows.follow(db, follower.id, author.id)
    online(feeds, ada.id, bob.id)
    connect_socket(clients, ada.id)
    post = make_post(db, author.id)

    invoke(fan_out.handler, kafka_record(one_event(db, "post-created", post.id)))

    assert home(feeds, ada.id) == [] and home(feeds, bob.id) == []  # merged at read time instead
    assert timeline_updates(db, ada.id) == []


def test_a_record_that_is_not_an_event_goes_to_the_failure_topic_and_the_rest_is_fanned_out(
        db: Any, feeds: FeedManager) -> None:
    author, ada = make_user(db), make_user(db)
    with transaction(db):
        follows.follow(db, ada.id, author.id)
    online(feeds, ada.id)
    first, later = make_post(db, author.id), make_post(db, author.id)
    poison = kafka_record(b"not json", topic="post-events")

    response = invoke(fan_out.handler, kafka_record(one_event(db, "post-created", first.id)), poison,
                      kafka_record(one_event(db, "post-created", later.id)))

    assert response == {"batchItemFailures": []}  # retrying it would change nothing (kafkagram.poison)
    assert sorted(home(feeds, ada.id)) == sorted([first.id, later.id])
    [[reason]] = db.run("SELECT payload->'reason'->>'code' FROM outbox WHERE topic = 'post-events-failed' "
                        "AND payload->'KafkaBatchInfo'->'recordInfo'->>'offset' = :offset", offset=str(poison.offset))
    assert reason == "not-an-event"


def test_an_event_its_consumer_cannot_read_leaves_its_run_and_the_run_is_fanned_out(
        db: Any, feeds: FeedManager) -> None:
    author, ada = make_user(db), make_user(db)
    with transaction(db):
        follows.follow(db, ada.id, author.id)
    online(feeds, ada.id)
    first, later = make_post(db, author.id), make_post(db, author.id)
    created = one_event(db, "post-created", first.id)
    unreadable = {**created, "id": str(uuid.uuid4()), "data": {**created["data"], "author_id": None}}

    response = invoke(fan_out.handler, kafka_record(created), kafka_record(unreadable),
                      kafka_record(one_event(db, "post-created", later.id)))

    assert response == {"batchItemFailures": []}
    assert sorted(home(feeds, ada.id)) == sorted([first.id, later.id])
    [[reason, message]] = db.run(
        "SELECT payload->'reason'->>'code', payload->'reason'->>'message' FROM outbox "
        "WHERE topic = 'post-events-failed' AND payload->'requestContext'->>'condition' = 'PoisonRecord' "
        "AND convert_from(decode(payload->'payload'->'records'->'post-events-0'->0->>'value', 'base64'), 'UTF8') "
        "LIKE :id", id=f"%{unreadable['id']}%")
    assert reason == "invalid-event" and "author_id" in message


# --- follow graph --------------------------------------------------------------------------------------

def test_follow_backfills_the_followees_recent_posts_and_unfollow_removes_them(db: Any, feeds: FeedManager) -> None:
    author, other, ada = make_user(db), make_user(db), make_user(db)
    with transaction(db):
        follows.follow(db, ada.id, other.id)
    online(feeds, ada.id)
    theirs = [make_post(db, author.id) for _ in range(3)]
    others = make_post(db, other.id)
    invoke(fan_out.handler, kafka_record(one_event(db, "post-created", others.id)))

    with transaction(db):
        follows.follow(db, ada.id, author.id)
    [followed] = [e for e in events(db, "user-followed", ada.id) if e["data"]["followee_id"] == str(author.id)]
    assert invoke(follow_graph.handler, kafka_record(followed)) == OK
    assert invoke(follow_graph.handler, kafka_record(followed)) == OK  # redelivered: nothing more
    assert home(feeds, ada.id) == sorted([others.id, *(p.id for p in theirs)], reverse=True)

    with transaction(db):
        follows.unfollow(db, ada.id, author.id)
    unfollowed = one_event(db, "user-unfollowed", ada.id)
    assert invoke(follow_graph.handler, kafka_record(unfollowed), kafka_record(unfollowed)) == OK
    assert home(feeds, ada.id) == [others.id]

    # A late redelivery of the old follow does not bring the posts back: the follow is gone.
    assert invoke(follow_graph.handler, kafka_record(followed)) == OK
    assert home(feeds, ada.id) == [others.id]


def test_an_unfollow_undone_by_a_new_follow_keeps_the_posts(db: Any, feeds: FeedManager) -> None:
    author, ada = make_user(db), make_user(db)
    online(feeds, ada.id)
    post = make_post(db, author.id)
    with transaction(db):
        follows.follow(db, ada.id, author.id)
    with transaction(db):
        follows.unfollow(db, ada.id, author.id)
    with transaction(db):
        follows.follow(db, ada.id, author.id)
    first, second = events(db, "user-followed", ada.id)
    unfollowed = one_event(db, "user-unfollowed", ada.id)

    assert invoke(follow_graph.handler, kafka_record(first), kafka_record(unfollowed), kafka_record(second)) == OK

    assert home(feeds, ada.id) == [post.id]


def test_follow_into_a_missing_timeline_writes_nothing(db: Any, feeds: FeedManager) -> None:
    author, ada = make_user(db), make_user(db)
    make_post(db, author.id)
    with transaction(db):
        follows.follow(db, ada.id, author.id)

    assert invoke(follow_graph.handler, kafka_record(one_event(db, "user-followed", ada.id))) == OK

    assert home(feeds, ada.id) is None  # still missing: the next read rebuilds it from PostgreSQL


def test_a_post_costs_one_update_per_chunk_of_connected_followers_not_one_per_follower(
        db: Any, clients: Clients, feeds: FeedManager) -> None:
    author = make_user(db)
    followers = [make_user(db) for _ in range(3 * TIMELINE_SHARDS)]
    for follower in followers:
        with transaction(db):
            follows.follow(db, follower.id, author.id)
        online(feeds, follower.id)
        connect_socket(clients, follower.id)
    post = make_post(db, author.id)

    assert invoke(fan_out.handler, kafka_record(one_event(db, "post-created", post.id))) == OK

    updates = [e for shard in range(TIMELINE_SHARDS) for e in events(db, "timeline-updated", shard)
               if e["data"]["post_ids"] == [str(post.id)]]
    assert len(updates) <= TIMELINE_SHARDS < len(followers)  # one per shard here: chunks hold up to 500
    told = [int(user_id) for update in updates for user_id in update["data"]["recipient_ids"]]
    assert sorted(told) == sorted(f.id for f in followers)  # each follower once
    for update in updates:
        validate(update)
        assert {timeline_shard(int(u)) for u in update["data"]["recipient_ids"]} == {int(update["data"]["shard"])}
        assert len(update["data"]["recipient_ids"]) <= TIMELINE_RECIPIENTS_MAX


def test_a_run_of_posts_in_one_batch_is_fanned_out_together_and_a_delete_keeps_its_place(
        db: Any, clients: Clients, feeds: FeedManager) -> None:
    ada_author, bob_author, fan = make_user(db), make_user(db), make_user(db)
    for author in (ada_author, bob_author):
        with transaction(db):
            follows.follow(db, fan.id, author.id)
    online(feeds, fan.id)
    connect_socket(clients, fan.id)
    first, second, third = make_post(db, ada_author.id), make_post(db, bob_author.id), make_post(db, ada_author.id)
    with transaction(db):
        posts.delete_post(db, second.id, bob_author.id)
    batch = [one_event(db, "post-created", first.id), one_event(db, "post-created", second.id),
             one_event(db, "post-deleted", second.id), one_event(db, "post-created", third.id)]

    assert invoke(fan_out.handler, *(kafka_record(e) for e in batch)) == OK  # runs: 2 created, 1 deleted, 1 created

    assert home(feeds, fan.id) == [third.id, first.id]  # the deleted post came and went, in order
    assert [(u["data"]["action"], u["data"]["post_ids"]) for u in timeline_updates(db, fan.id)] == [
        ("added", [str(first.id)]), ("added", [str(second.id)]), ("removed", [str(second.id)]),
        ("added", [str(third.id)])]

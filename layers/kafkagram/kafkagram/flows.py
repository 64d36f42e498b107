"""The logic of the event handlers (issue 4, handlers 3-5): fan-out, follow graph, notifications.

Each flow takes our event envelope (`kafkagram.events.Event`), never the Kafka invocation shape, so it
can be called from a handler, a script or a test alike. Handlers in `handlers/` only map event types
to flows; `handlers_common.handle_batch` decodes the records, runs them in order and reports failures.

Idempotency (every event may arrive twice):
- fan-out and notifications write PostgreSQL (outbox rows, notification groups): they mark the event
  with `idempotency.first_time` in the same transaction as those writes, so a redelivery changes
  nothing. Redis writes happen before that COMMIT: an attempt that fails after them rolls back the
  marker and its outbox rows, and the retry repeats the (idempotent) Redis writes and enqueues once;
- the follow graph writes Redis only (idempotent ZADD NX / ZREM) and checks the follow's current
  state, so replays and late events converge on what PostgreSQL says now.

Live updates: `timeline-updated` is one event per recipient (its schema has one `user_id`, the Kafka
key, so each user's updates stay in order on one partition and the push handler needs no fan-out of
its own); it is emitted only for recipients with an open WebSocket connection, found in the
connection registry (`ws:user:<id>`, a set of connection ids kept by the WebSocket routes). For a new
post these are the connected active followers, even one whose timeline already held the post (a
follow backfill got there first): a repeated "added" is harmless to a client, a lost one is not.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import cached_property

import pg8000.native
import redis
from aws_lambda_powertools import Logger

from kafkagram.config import get_settings
from kafkagram.db import connect
from kafkagram.events import Event, new_event, validate
from kafkagram.idempotency import first_time
from kafkagram.outbox import enqueue_many
from kafkagram.store.follows import follower_ids, is_following
from kafkagram.store.notifications import upsert_notification
from kafkagram.store.posts import recent_post_refs
from kafkagram.timeline import BACKFILL_POSTS, FANOUT_CHUNK, MAX_ITEMS, FeedManager

logger = Logger(child=True)

# Consumer names in processed_events: one per flow, so two flows reading one event stay independent.
FAN_OUT_CONSUMER = "fan-out"
NOTIFY_CONSUMER = "notify"
OUTBOX_CHUNK = 1000  # events per INSERT: 3 parameters each stays far below PostgreSQL's 65,535

POST_CREATED, POST_DELETED = "post-created", "post-deleted"
USER_FOLLOWED, USER_UNFOLLOWED = "user-followed", "user-unfollowed"
LIKE_GIVEN, COMMENT_ADDED = "like-given", "comment-added"
NOTIFYING_TYPES = (LIKE_GIVEN, COMMENT_ADDED, USER_FOLLOWED, POST_CREATED)


class UnexpectedEvent(ValueError):
    """A flow was given an event type it does not handle (a handler's dispatch bug)."""


# --- Connection registry -----------------------------------------------------------------------------

class Presence:
    """Who has an open WebSocket: the registry's `ws:user:<id>` sets (owned by the WebSocket routes);
    a user is connected while their set exists (Redis drops an emptied set)."""

    def __init__(self, client: redis.Redis, prefix: str = "") -> None:
        self._redis = client
        self._prefix = prefix  # the same prefix as the FeedManager's keys

    def connection_key(self, user_id: int) -> str:
        return f"{self._prefix}ws:user:{user_id}"

    def connected(self, user_ids: Sequence[int]) -> list[int]:
        """The users with a connection, in the order given: one pipelined EXISTS per user, one round
        trip per FANOUT_CHUNK users (EXISTS of many keys only counts them, so it cannot say which)."""
        result: list[int] = []
        for start in range(0, len(user_ids), FANOUT_CHUNK):
            chunk = user_ids[start:start + FANOUT_CHUNK]
            pipe = self._redis.pipeline(transaction=False)
            for user_id in chunk:
                pipe.exists(self.connection_key(user_id))
            result.extend(u for u, n in zip(chunk, pipe.execute(), strict=True) if n)
        return result


# --- Fan-out (post-created, post-deleted) --------------------------------------------------------------

@dataclass(frozen=True)
class FanOutOutcome:
    duplicate: bool = False  # already applied: nothing done
    followers: int = 0
    written: int = 0  # timelines that gained (or lost) the post now
    large_account: bool = False  # nothing written: followers merge the post at read time
    notified: list[int] = field(default_factory=list)  # recipients of a timeline-updated event


def fan_out_post(conn: pg8000.native.Connection, feeds: FeedManager, presence: Presence,
                 event: Event) -> FanOutOutcome:
    """post-created: the post goes to the author's own home timeline and to each active follower's,
    and connected followers get timeline-updated (the author's client shows its own post already).
    A large account's followers are skipped (merged at read time)."""
    _expect(event, POST_CREATED)
    post_id, author_id = _int(event, "post_id"), _int(event, "author_id")
    with _transaction(conn):
        if not first_time(conn, FAN_OUT_CONSUMER, event.id):
            return FanOutOutcome(duplicate=True)
        followers = follower_ids(conn, author_id)
        # FeedManager.fan_out's policy, step by step: the active followers are also whom to notify.
        # Notifying them (not only the timelines that gained the post now) keeps a retry after a
        # failed COMMIT from losing the live updates of timelines the first attempt already wrote.
        if feeds.is_large_account(len(followers)):
            feeds.push(post_id, author_id, [author_id])
            return FanOutOutcome(followers=len(followers), large_account=True)
        active = feeds.active_followers(followers)
        written = feeds.push(post_id, author_id, [author_id, *active])
        notified = presence.connected(active)
        _enqueue(conn, [_timeline_updated(user_id, "added", post_id, author_id) for user_id in notified])
    return FanOutOutcome(followers=len(followers), written=len(written), notified=notified)


def remove_post(conn: pg8000.native.Connection, feeds: FeedManager, presence: Presence,
                event: Event) -> FanOutOutcome:
    """post-deleted: the post leaves the author's and every follower's timeline (active or not: an
    inactive one's timeline may still exist, and a large account's post may have come in by a follow
    backfill); connected followers whose timeline held it get timeline-updated."""
    _expect(event, POST_DELETED)
    post_id, author_id = _int(event, "post_id"), _int(event, "author_id")
    with _transaction(conn):
        if not first_time(conn, FAN_OUT_CONSUMER, event.id):
            return FanOutOutcome(duplicate=True)
        followers = follower_ids(conn, author_id)
        removed = feeds.remove(post_id, [author_id, *followers])
        notified = presence.connected([user_id for user_id in removed if user_id != author_id])
        _enqueue(conn, [_timeline_updated(user_id, "removed", post_id, author_id) for user_id in notified])
    return FanOutOutcome(followers=len(followers), written=len(removed), notified=notified)


def _timeline_updated(user_id: int, action: str, post_id: int, author_id: int) -> Event:
    return new_event("timeline-updated", {"user_id": str(user_id), "action": action, "post_ids": [str(post_id)],
                                          "author_id": str(author_id)}, author_id)


# --- Follow graph (user-followed, user-unfollowed) ---------------------------------------------------

@dataclass(frozen=True)
class FollowOutcome:
    changed: int | None  # posts added or removed; None: timeline missing (the next read rebuilds it)
    stale: bool = False  # the follow state changed since the event: nothing to do


def backfill_follow(conn: pg8000.native.Connection, feeds: FeedManager, event: Event) -> FollowOutcome:
    """user-followed: the followee's newest BACKFILL_POSTS go into the follower's timeline."""
    _expect(event, USER_FOLLOWED)
    follower, followee = _int(event, "follower_id"), _int(event, "followee_id")
    # The current state decides, not the event: a follow already undone (its user-unfollowed follows
    # on the same partition) must not leave the posts behind, whatever order replays come in.
    if not is_following(conn, follower, followee):
        return FollowOutcome(changed=0, stale=True)
    posts = recent_post_refs(conn, [followee], BACKFILL_POSTS)
    return FollowOutcome(changed=feeds.merge(follower, posts))


def remove_follow(conn: pg8000.native.Connection, feeds: FeedManager, event: Event) -> FollowOutcome:
    """user-unfollowed: the followee's posts leave the follower's timeline."""
    _expect(event, USER_UNFOLLOWED)
    follower, followee = _int(event, "follower_id"), _int(event, "followee_id")
    if is_following(conn, follower, followee):  # followed again since: keep the posts
        return FollowOutcome(changed=0, stale=True)
    # Members carry their author, so one read of the (at most MAX_ITEMS) timeline finds exactly the
    # followee's posts, whatever their age or status, without asking PostgreSQL.
    page = feeds.read(follower, limit=MAX_ITEMS)
    if page is None:
        return FollowOutcome(changed=None)
    theirs = [post_id for post_id, author_id in zip(page.ids, page.author_ids, strict=True) if author_id == followee]
    return FollowOutcome(changed=feeds.unmerge(follower, theirs) if theirs else 0)


# --- Notifications (like-given, comment-added, user-followed, mentions in post-created) -------------

@dataclass(frozen=True)
class _Intent:
    recipient_id: int
    kind: str
    actor_id: int
    post_id: int | None = None
    comment_id: int | None = None
    text: str | None = None


def notify_interaction(conn: pg8000.native.Connection, event: Event) -> list[Event]:
    """Adds the actor to the recipients' grouped notifications ("ada and 3 others liked your post")
    and emits notification-created for each group that changed; returns those events.

    Nobody is notified of their own acts, nor twice for one actor in one group (upsert_notification),
    nor twice for one event (first_time, in the same transaction as the upserts and the outbox)."""
    if event.type not in NOTIFYING_TYPES:
        raise UnexpectedEvent(f"notify does not handle {event.type}")
    intents = _intents(event)
    if not intents:  # a post without mentions: no transaction at all
        return []
    emitted: list[Event] = []
    with _transaction(conn):
        if not first_time(conn, NOTIFY_CONSUMER, event.id):
            return []
        for intent in intents:
            group = upsert_notification(conn, intent.recipient_id, intent.kind, intent.actor_id,
                                        post_id=intent.post_id, comment_id=intent.comment_id, text=intent.text)
            if group is not None:
                emitted.append(new_event("notification-created", {
                    "notification_id": str(group.id), "user_id": str(intent.recipient_id), "kind": intent.kind,
                    "from_user_id": str(intent.actor_id), "post_id": _str_or_none(intent.post_id),
                    "comment_id": _str_or_none(intent.comment_id), "text": group.text}, intent.actor_id))
        _enqueue(conn, emitted)
    return emitted


def _intents(event: Event) -> list[_Intent]:
    if event.type == LIKE_GIVEN:
        return [_Intent(_int(event, "post_author_id"), "like", _int(event, "user_id"), _int(event, "post_id"))]
    if event.type == USER_FOLLOWED:
        return [_Intent(_int(event, "followee_id"), "follow", _int(event, "follower_id"))]
    if event.type == COMMENT_ADDED:
        owner, actor, post_id = _int(event, "post_author_id"), _int(event, "user_id"), _int(event, "post_id")
        comment_id, text = _int(event, "comment_id"), str(event.data["text"])
        # The owner is told once (the comment), not again for being mentioned in it.
        return [_Intent(owner, "comment", actor, post_id, comment_id, text)] + [
            _Intent(user_id, "mention", actor, post_id, comment_id, text)
            for user_id in _ints(event, "mentioned_user_ids") if user_id != owner]
    # post-created: only its mentions notify (the followers learn of it through their timelines).
    author, post_id = _int(event, "author_id"), _int(event, "post_id")
    return [_Intent(user_id, "mention", author, post_id) for user_id in _ints(event, "mentioned_user_ids")]


# --- Shared plumbing ----------------------------------------------------------------------------------

def _expect(event: Event, type_name: str) -> None:
    if event.type != type_name:
        raise UnexpectedEvent(f"expected {type_name}, got {event.type}")


def _int(event: Event, name: str) -> int:
    return int(event.data[name])


def _ints(event: Event, name: str) -> list[int]:
    return [int(value) for value in event.data.get(name) or ()]


def _str_or_none(value: int | None) -> str | None:
    return None if value is None else str(value)


@contextmanager
def _transaction(conn: pg8000.native.Connection) -> Iterator[None]:
    """BEGIN ... COMMIT (an early return inside commits what was done so far), ROLLBACK on an error."""
    conn.run("BEGIN")
    try:
        yield
    except BaseException:
        conn.run("ROLLBACK")
        raise
    conn.run("COMMIT")


def _enqueue(conn: pg8000.native.Connection, events: Sequence[Event]) -> None:
    if not events:
        return
    # One shape, built here from ints: checking the first against its schema catches a bug as surely
    # as checking a thousand, without a thousand jsonschema runs on the fan-out's hot path.
    validate(events[0])
    for start in range(0, len(events), OUTBOX_CHUNK):
        enqueue_many(conn, events[start:start + OUTBOX_CHUNK], check=False)


# --- Handler support: long-lived clients and batches in order -----------------------------------------

class Resources:
    """A sandbox's clients, made on first use and kept across invocations (Lambda reuses sandboxes,
    so connecting once per sandbox rather than per invocation saves a round trip or three).

    URLs left as None come from `get_settings()` at first use, not at import: handler modules build
    their Resources at import, before a test (or `sam local --env-vars`) has set the environment."""

    def __init__(self, database_url: str | None = None, redis_url: str | None = None, key_prefix: str = "") -> None:
        self._database_url = database_url
        self._redis_url = redis_url
        self.key_prefix = key_prefix  # tests isolate their Redis keys with it
        self._connection: pg8000.native.Connection | None = None

    @property
    def database_url(self) -> str:
        return self._database_url or get_settings().database_url

    @property
    def redis_url(self) -> str:
        return self._redis_url or get_settings().redis_url

    def connection(self) -> pg8000.native.Connection:
        if self._connection is None:
            self._connection = connect(self.database_url)
        return self._connection

    def discard_connection(self) -> None:
        """After a failure the session may be broken or mid-transaction: the next use reconnects."""
        if self._connection is not None:
            try:
                self._connection.close()
            except Exception:  # already broken: nothing to release
                logger.debug("closing a broken database connection", exc_info=True)
            self._connection = None

    @cached_property
    def redis(self) -> redis.Redis:
        return redis.Redis.from_url(self.redis_url)

    @cached_property
    def feeds(self) -> FeedManager:
        return FeedManager(self.redis, prefix=self.key_prefix)

    @cached_property
    def presence(self) -> Presence:
        return Presence(self.redis, prefix=self.key_prefix)

"""The notification handler against real PostgreSQL: likes, comments, follows and mentions from the
outbox, delivered (and redelivered) in AWS's Kafka invocation shape."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pg8000.native
import pytest

from handlers import notify
from kafkagram.clients import Clients
from kafkagram.db import connect
from kafkagram.events import validate
from kafkagram.flows.notify import CONSUMER as NOTIFY_CONSUMER
from kafkagram.store import follows, interactions, notifications
from tests.app.test_store_support import events, make_post, make_user, transaction
from tests.conftest import REDIS_TEST_URL
from tests.handlers.test_flows_fanout import OK, fresh_database, invoke, one_event, record


@pytest.fixture(scope="module")
def flow_database_url() -> str:
    return fresh_database("kafkagram_flows_notify_test")


@pytest.fixture
def pg(flow_database_url: str) -> Iterator[pg8000.native.Connection]:
    connection = connect(flow_database_url)
    yield connection
    connection.close()


@pytest.fixture(autouse=True)
def clients(flow_database_url: str, unique: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[Clients]:
    made = Clients(flow_database_url, REDIS_TEST_URL, key_prefix=f"test:{unique}:")
    monkeypatch.setattr(notify, "clients", made)
    yield made
    made.close()


def like(db: Any, user_id: int, post_id: int) -> dict[str, Any]:
    """The user likes the post; its like-given event."""
    with transaction(db):
        assert interactions.like(db, user_id, post_id)
    return events(db, "like-given", post_id)[-1]


def created(db: Any, recipient_id: int) -> list[dict[str, Any]]:
    return events(db, "notification-created", recipient_id)


def test_likes_make_one_grouped_notification_for_the_owner(pg: Any) -> None:
    owner = make_user(pg)
    post = make_post(pg, owner.id)
    fans = [make_user(pg) for _ in range(4)]
    likes = [like(pg, fan.id, post.id) for fan in fans]

    assert invoke(notify.handler, *(record(event) for event in likes)) == OK

    [group] = notifications.notifications_page(pg, owner.id).items
    assert group.actor_count == 4
    assert notifications.describe(group) == f"{fans[3].username} and 3 others liked your post"
    emitted = created(pg, owner.id)
    assert [e["data"]["from_user_id"] for e in emitted] == [str(fan.id) for fan in fans]
    assert {e["data"]["notification_id"] for e in emitted} == {str(group.id)}  # one group, stable id
    for event in emitted:
        validate(event)
    assert emitted[0]["data"] == {"notification_id": str(group.id), "user_id": str(owner.id), "kind": "like",
                                  "from_user_id": str(fans[0].id), "post_id": str(post.id), "comment_id": None,
                                  "text": None}


def test_liking_ones_own_post_notifies_nobody(pg: Any) -> None:
    owner = make_user(pg)
    post = make_post(pg, owner.id)

    assert invoke(notify.handler, record(like(pg, owner.id, post.id))) == OK

    assert notifications.notifications_page(pg, owner.id).items == []
    assert notifications.unread_count(pg, owner.id) == 0
    assert created(pg, owner.id) == []


def test_a_redelivered_like_counts_once_and_emits_one_event(pg: Any) -> None:
    owner, fan = make_user(pg), make_user(pg)
    post = make_post(pg, owner.id)
    given = like(pg, fan.id, post.id)

    invoke(notify.handler, record(given), record(given))  # twice in one batch
    invoke(notify.handler, record(given))  # and in a later one

    [group] = notifications.notifications_page(pg, owner.id).items
    assert group.actor_count == 1 and notifications.unread_count(pg, owner.id) == 1
    assert len(created(pg, owner.id)) == 1
    assert pg.run("SELECT count(*) FROM processed_events WHERE consumer = :c AND event_id = :id",
                  c=NOTIFY_CONSUMER, id=given["id"]) == [[1]]


def test_a_comment_notifies_the_owner_and_the_mentioned(pg: Any) -> None:
    owner, author, mentioned = make_user(pg), make_user(pg), make_user(pg)
    post = make_post(pg, owner.id)
    with transaction(pg):
        comment = interactions.add_comment(pg, author.id, post.id,
                                           f"Look @{mentioned.username} and @{owner.username}")
    added = one_event(pg, "comment-added", post.id)

    assert invoke(notify.handler, record(added)) == OK

    [to_owner] = created(pg, owner.id)  # a comment, not also a mention, for the owner
    [to_mentioned] = created(pg, mentioned.id)
    assert (to_owner["data"]["kind"], to_mentioned["data"]["kind"]) == ("comment", "mention")
    assert to_mentioned["data"]["comment_id"] == str(comment.id)
    assert to_mentioned["data"]["text"] == comment.body
    [group] = notifications.notifications_page(pg, mentioned.id).items
    assert notifications.describe(group) == f"{author.username} mentioned you"


def test_a_follow_and_a_caption_mention_notify(pg: Any) -> None:
    ada, bob = make_user(pg), make_user(pg)
    with transaction(pg):
        follows.follow(pg, ada.id, bob.id)
    post = make_post(pg, ada.id, f"With @{bob.username}")

    assert invoke(notify.handler, record(one_event(pg, "user-followed", ada.id)),
                  record(one_event(pg, "post-created", post.id))) == OK

    assert [e["data"]["kind"] for e in created(pg, bob.id)] == ["follow", "mention"]
    described = [notifications.describe(n) for n in notifications.notifications_page(pg, bob.id).items]
    assert described == [f"{ada.username} mentioned you", f"{ada.username} started following you"]


def test_a_post_without_mentions_touches_nothing(pg: Any) -> None:
    ada = make_user(pg)
    post = make_post(pg, ada.id, "no one here")
    created_event = one_event(pg, "post-created", post.id)

    assert invoke(notify.handler, record(created_event)) == OK

    assert pg.run("SELECT count(*) FROM processed_events WHERE event_id = :id", id=created_event["id"]) == [[0]]

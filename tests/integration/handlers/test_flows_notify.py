"""The notification handler against real PostgreSQL: likes, comments, follows and mentions from the
outbox, delivered (and redelivered) in AWS's Kafka invocation shape."""

from __future__ import annotations

from typing import Any

import pytest

from handlers import notify
from kafkagram.db import transaction
from kafkagram.events import validate
from kafkagram.flows.notify import CONSUMER as NOTIFY_CONSUMER
from kafkagram.store import follows, interactions, notifications
from tests.support.invocations import OK, invoke, kafka_record
from tests.support.store import events, make_post, make_user, one_event

pytestmark = pytest.mark.usefixtures("clients")  # the handler's clients, on the test database


def like(db: Any, user_id: int, post_id: int) -> dict[str, Any]:
    """The user likes the post; its like-given event."""
    with transaction(db):
        assert interactions.like(db, user_id, post_id)
    return events(db, "like-given", post_id)[-1]


def created(db: Any, recipient_id: int) -> list[dict[str, Any]]:
    return events(db, "notification-created", recipient_id)


def test_likes_make_one_grouped_notification_for_the_owner(db: Any) -> None:
    owner = make_user(db)
    post = make_post(db, owner.id)
    fans = [make_user(db) for _ in range(4)]
    likes = [like(db, fan.id, post.id) for fan in fans]

    assert invoke(notify.handler, *(kafka_record(event) for event in likes)) == OK

    [group] = notifications.notifications_page(db, owner.id).items
    assert group.actor_count == 4
    assert notifications.describe(group) == f"{fans[3].username} and 3 others liked your post"
    emitted = created(db, owner.id)
    assert [e["data"]["from_user_id"] for e in emitted] == [str(fan.id) for fan in fans]
    assert {e["data"]["notification_id"] for e in emitted} == {str(group.id)}  # one group, stable id
    for event in emitted:
        validate(event)
    assert emitted[0]["data"] == {"notification_id": str(group.id), "user_id": str(owner.id), "kind": "like",
                                  "from_user_id": str(fans[0].id), "post_id": str(post.id), "comment_id": None,
                                  "text": None}


def test_liking_ones_own_post_notifies_nobody(db: Any) -> None:
    owner = make_user(db)
    post = make_post(db, owner.id)

    assert invoke(notify.handler, kafka_record(like(db, owner.id, post.id))) == OK

    assert notifications.notifications_page(db, owner.id).items == []
    assert notifications.unread_count(db, owner.id) == 0
    assert created(db, owner.id) == []


def test_a_redelivered_like_counts_once_and_emits_one_event(db: Any) -> None:
    owner, fan = make_user(db), make_user(db)
    post = make_post(db, owner.id)
    given = like(db, fan.id, post.id)

    invoke(notify.handler, kafka_record(given), kafka_record(given))  # twice in one batch
    invoke(notify.handler, kafka_record(given))  # and in a later one

    [group] = notifications.notifications_page(db, owner.id).items
    assert group.actor_count == 1 and notifications.unread_count(db, owner.id) == 1
    assert len(created(db, owner.id)) == 1
    assert db.run("SELECT count(*) FROM processed_events WHERE consumer = :c AND event_id = :id",
                  c=NOTIFY_CONSUMER, id=given["id"]) == [[1]]


def test_a_comment_notifies_the_owner_and_the_mentioned(db: Any) -> None:
    owner, author, mentioned = make_user(db), make_user(db), make_user(db)
    post = make_post(db, owner.id)
    with transaction(db):
        comment = interactions.add_comment(db, author.id, post.id,
                                           f"Look @{mentioned.username} and @{owner.username}")
    added = one_event(db, "comment-added", post.id)

    assert invoke(notify.handler, kafka_record(added)) == OK

    [to_owner] = created(db, owner.id)  # a comment, not also a mention, for the owner
    [to_mentioned] = created(db, mentioned.id)
    assert (to_owner["data"]["kind"], to_mentioned["data"]["kind"]) == ("comment", "mention")
    assert to_mentioned["data"]["comment_id"] == str(comment.id)
    assert to_mentioned["data"]["text"] == comment.body
    [group] = notifications.notifications_page(db, mentioned.id).items
    assert notifications.describe(group) == f"{author.username} mentioned you"


def test_a_follow_and_a_caption_mention_notify(db: Any) -> None:
    ada, bob = make_user(db), make_user(db)
    with transaction(db):
        follows.follow(db, ada.id, bob.id)
    post = make_post(db, ada.id, f"With @{bob.username}")

    assert invoke(notify.handler, kafka_record(one_event(db, "user-followed", ada.id)),
                  kafka_record(one_event(db, "post-created", post.id))) == OK

    assert [e["data"]["kind"] for e in created(db, bob.id)] == ["follow", "mention"]
    described = [notifications.describe(n) for n in notifications.notifications_page(db, bob.id).items]
    assert described == [f"{ada.username} mentioned you", f"{ada.username} started following you"]


def test_a_post_without_mentions_touches_nothing(db: Any) -> None:
    ada = make_user(db)
    post = make_post(db, ada.id, "no one here")
    created_event = one_event(db, "post-created", post.id)

    assert invoke(notify.handler, kafka_record(created_event)) == OK

    assert db.run("SELECT count(*) FROM processed_events WHERE event_id = :id", id=created_event["id"]) == [[0]]

"""Deleting a comment redacts its text from the notifications that quote it (the notify flow and the
store against real PostgreSQL): stored groups, read or not, and notification-created events still
waiting in the outbox; a comment deleted before notify sees it notifies nobody."""

from __future__ import annotations

from typing import Any

import pytest

from handlers import notify
from kafkagram.db import transaction
from kafkagram.store import interactions, notifications
from tests.support.invocations import OK, invoke, kafka_record
from tests.support.store import events, make_post, make_user, one_event

pytestmark = pytest.mark.usefixtures("clients")  # the handler's clients, on the test database

SECRET = "my phone number is 555-0100"


def texts(db: Any, user_id: int) -> list[str | None]:
    return [group.text for group in notifications.notifications_page(db, user_id).items]


def waiting_texts(db: Any, user_id: int) -> list[str | None]:
    """The text of the recipient's notification-created events the relay has not published yet."""
    return [event["data"]["text"] for event in events(db, "notification-created", user_id)]


def test_deleting_a_comment_removes_its_text_from_notifications(db: Any) -> None:
    owner, author, mentioned = make_user(db), make_user(db), make_user(db)
    post = make_post(db, owner.id)
    with transaction(db):
        comment = interactions.add_comment(db, author.id, post.id, f"@{mentioned.username} {SECRET}")
    assert invoke(notify.handler, kafka_record(one_event(db, "comment-added", post.id))) == OK
    assert texts(db, owner.id) == [comment.body] and texts(db, mentioned.id) == [comment.body]
    assert waiting_texts(db, owner.id) == [comment.body]
    with transaction(db):
        notifications.mark_read(db, mentioned.id)  # read groups are redacted too

    with transaction(db):
        interactions.delete_comment(db, comment.id, author.id)

    assert texts(db, owner.id) == [None] and texts(db, mentioned.id) == [None]
    assert waiting_texts(db, owner.id) == [None] and waiting_texts(db, mentioned.id) == [None]
    [group] = notifications.notifications_page(db, owner.id).items
    assert group.actor_count == 1 and notifications.describe(group) == f"{author.username} commented on your post"


def test_another_comments_text_stays(db: Any) -> None:
    owner, first, second = make_user(db), make_user(db), make_user(db)
    post = make_post(db, owner.id)
    with transaction(db):
        kept = interactions.add_comment(db, first.id, post.id, "Lovely")
    assert invoke(notify.handler, kafka_record(one_event(db, "comment-added", post.id))) == OK
    with transaction(db):
        notifications.mark_read(db, owner.id)  # the next comment opens a new group
        gone = interactions.add_comment(db, second.id, post.id, SECRET)
    assert invoke(notify.handler, kafka_record(events(db, "comment-added", post.id)[-1])) == OK

    with transaction(db):
        interactions.delete_comment(db, gone.id, owner.id)  # the post's author may delete it

    assert texts(db, owner.id) == [None, kept.body]


def test_a_comment_deleted_before_notify_handles_it_notifies_nobody(db: Any) -> None:
    owner, author = make_user(db), make_user(db)
    post = make_post(db, owner.id)
    with transaction(db):
        comment = interactions.add_comment(db, author.id, post.id, SECRET)
        interactions.delete_comment(db, comment.id, author.id)

    assert invoke(notify.handler, kafka_record(one_event(db, "comment-added", post.id))) == OK

    assert texts(db, owner.id) == [] and waiting_texts(db, owner.id) == []

"""Grouped notifications: "A and 3 others liked your post", distinct actors, unread groups, pages."""

from __future__ import annotations

from kafkagram.db import transaction
from kafkagram.store import notifications
from tests.support.store import CountingConnection, make_post, make_user


def notify_like(db, recipient_id: int, actor_id: int, post_id: int):
    with transaction(db):
        return notifications.upsert_notification(db, recipient_id, "like", actor_id, post_id=post_id)


def test_likes_on_one_post_group_as_a_and_3_others(db):
    owner = make_user(db)
    post = make_post(db, owner.id)
    fans = [make_user(db) for _ in range(4)]
    for fan in fans:
        group = notify_like(db, owner.id, fan.id, post.id)
    assert group is not None
    assert group.actor_count == 4
    assert [a.id for a in group.actors] == [fans[3].id, fans[2].id, fans[1].id]  # newest first, three shown
    assert notifications.describe(group) == f"{fans[3].username} and 3 others liked your post"
    assert notifications.unread_count(db, owner.id) == 1


def test_a_repeated_actor_and_oneself_change_nothing(db):
    owner, fan = make_user(db), make_user(db)
    post = make_post(db, owner.id)
    first = notify_like(db, owner.id, fan.id, post.id)
    assert first is not None and notifications.describe(first) == f"{fan.username} liked your post"
    assert notify_like(db, owner.id, fan.id, post.id) is None  # like, unlike, like again
    assert notify_like(db, owner.id, owner.id, post.id) is None
    [group] = notifications.notifications_page(db, owner.id).items
    assert group.actor_count == 1 and group.id == first.id


def test_a_read_group_is_closed_and_the_next_actor_starts_a_new_one(db):
    owner, ada, bob = make_user(db), make_user(db), make_user(db)
    post = make_post(db, owner.id)
    old = notify_like(db, owner.id, ada.id, post.id)
    assert notifications.mark_read(db, owner.id) == 1
    assert notifications.unread_count(db, owner.id) == 0
    new = notify_like(db, owner.id, bob.id, post.id)
    assert old is not None and new is not None and new.id != old.id and new.actor_count == 1
    assert notifications.unread_count(db, owner.id) == 1
    assert notifications.mark_read(db, owner.id, [new.id]) == 1


def test_kinds_group_separately_and_describe_themselves(db):
    owner, ada, bob = make_user(db), make_user(db), make_user(db)
    post = make_post(db, owner.id)
    with transaction(db):
        notifications.upsert_notification(db, owner.id, "follow", ada.id)
        follows = notifications.upsert_notification(db, owner.id, "follow", bob.id)
        comment = notifications.upsert_notification(db, owner.id, "comment", ada.id, post_id=post.id, text="hi")
    assert follows is not None and comment is not None
    assert notifications.describe(follows) == f"{bob.username} and {ada.username} started following you"
    assert comment.text == "hi" and notifications.describe(comment) == f"{ada.username} commented on your post"
    assert notifications.unread_count(db, owner.id) == 2


def test_notification_pages_newest_activity_first_one_query_per_page(db):
    owner = make_user(db)
    made = [make_post(db, owner.id) for _ in range(5)]
    fan, late = make_user(db), make_user(db)
    for post in made:
        notify_like(db, owner.id, fan.id, post.id)
    notify_like(db, owner.id, late.id, made[0].id)  # the oldest group gains an actor: it moves to the top
    counting = CountingConnection(db)
    seen, cursor = [], None
    while True:
        counting.reset()
        page = notifications.notifications_page(counting, owner.id, cursor=cursor, limit=2)
        assert len(counting.statements) == 1
        seen += [n.post_id for n in page.items]
        if page.next_cursor is None:
            break
        cursor = page.next_cursor
    assert seen == [made[0].id] + [post.id for post in reversed(made[1:])]

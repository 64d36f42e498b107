"""Follows: idempotent with counters that match the rows, one event per real change, paging."""

from __future__ import annotations

import pytest

from kafkagram.db import transaction
from kafkagram.outbox import OutboxError
from kafkagram.store import Invalid, NotFound, follows
from tests.support.store import CountingConnection, counters, events, make_user, rolled_back


def test_follow_and_unfollow_are_idempotent_and_counters_match_rows(db):
    ada, bob = make_user(db), make_user(db)
    with transaction(db):
        assert follows.follow(db, ada.id, bob.id) is True
        assert follows.follow(db, ada.id, bob.id) is False
    assert follows.is_following(db, ada.id, bob.id)
    assert counters(db, ada.id)[:2] == (0, 1) and counters(db, bob.id)[:2] == (1, 0)
    with transaction(db):
        assert follows.unfollow(db, ada.id, bob.id) is True
        assert follows.unfollow(db, ada.id, bob.id) is False
    assert counters(db, ada.id)[:2] == (0, 0) and counters(db, bob.id)[:2] == (0, 0)
    assert not follows.is_following(db, ada.id, bob.id)


def test_follow_and_unfollow_enqueue_one_event_each(db):
    ada, bob = make_user(db), make_user(db)
    for _ in range(2):
        with transaction(db):
            follows.follow(db, ada.id, bob.id)
    for _ in range(2):
        with transaction(db):
            follows.unfollow(db, ada.id, bob.id)
    edge = {"follower_id": str(ada.id), "followee_id": str(bob.id)}
    assert [e["data"] for e in events(db, "user-followed", ada.id)] == [edge]
    assert [e["data"] for e in events(db, "user-unfollowed", ada.id)] == [edge]
    assert events(db, "user-followed", ada.id)[0]["actor_id"] == str(ada.id)


def test_following_yourself_is_refused(db):
    ada = make_user(db)
    with transaction(db), pytest.raises(Invalid) as refused:
        follows.follow(db, ada.id, ada.id)
    assert refused.value.code == "cannot-follow-self" and refused.value.http_status == 400
    assert counters(db, ada.id) == (0, 0, 0)


def test_following_a_missing_user_is_not_found(db):
    ada = make_user(db)
    with transaction(db), pytest.raises(NotFound):
        follows.follow(db, ada.id, 1)
    assert counters(db, ada.id) == (0, 0, 0)


def test_the_follow_and_its_event_roll_back_together(db):
    ada, bob = make_user(db), make_user(db)
    with rolled_back(db):
        follows.follow(db, ada.id, bob.id)
    assert not follows.is_following(db, ada.id, bob.id)
    assert counters(db, bob.id) == (0, 0, 0)
    assert events(db, "user-followed", ada.id) == []


def test_a_state_change_outside_a_transaction_is_refused_before_anything_changes(db):
    ada, bob = make_user(db), make_user(db)
    with pytest.raises(OutboxError, match="inside the caller's transaction"):
        follows.follow(db, ada.id, bob.id)  # autocommit: the follow would commit without its event
    assert not follows.is_following(db, ada.id, bob.id)
    assert counters(db, bob.id) == (0, 0, 0)


def test_follower_pages_list_each_follower_once_newest_first_one_query_per_page(db):
    star = make_user(db)
    fans = [make_user(db) for _ in range(7)]
    for fan in fans:
        with transaction(db):
            follows.follow(db, fan.id, star.id)
    counting = CountingConnection(db)
    seen, cursor, pages = [], None, 0
    while True:
        counting.reset()
        page = follows.followers_page(counting, star.id, cursor=cursor, limit=3)
        assert len(counting.statements) == 1
        seen += [user.id for user in page.items]
        pages += 1
        if page.next_cursor is None:
            break
        cursor = page.next_cursor
    assert seen == [fan.id for fan in reversed(fans)] and pages == 3
    assert sorted(follows.follower_ids(db, star.id)) == sorted(fan.id for fan in fans)
    [followed] = follows.following_page(db, fans[0].id).items
    assert followed.id == star.id and followed.username == star.username

"""Likes and comments: idempotent likes with consistent counters and one event each, comment
deletion rules, comment pages."""

from __future__ import annotations

import pytest

from kafkagram.db import transaction
from kafkagram.events import validate
from kafkagram.store import Forbidden, Invalid, NotFound, interactions, posts
from tests.support.store import CountingConnection, events, make_post, make_user, rolled_back


def post_counts(db, post_id: int) -> tuple[int, int]:
    [[likes, comments]] = db.run("SELECT likes_count, comments_count FROM posts WHERE id = :id", id=post_id)
    return likes, comments


def test_like_twice_counts_once_and_unlike_twice_leaves_zero(db):
    ada, bob = make_user(db), make_user(db)
    post = make_post(db, ada.id)
    with transaction(db):
        assert interactions.like(db, bob.id, post.id) is True
        assert interactions.like(db, bob.id, post.id) is False
    assert post_counts(db, post.id)[0] == 1
    assert interactions.liked_post_ids(db, bob.id, [post.id, 1]) == {post.id}
    with transaction(db):
        assert interactions.unlike(db, bob.id, post.id) is True
        assert interactions.unlike(db, bob.id, post.id) is False
    assert post_counts(db, post.id)[0] == 0
    assert db.run("SELECT count(*) FROM likes WHERE post_id = :id", id=post.id) == [[0]]
    [given] = events(db, "like-given", post.id)
    [removed] = events(db, "like-removed", post.id)
    expected = {"post_id": str(post.id), "post_author_id": str(ada.id), "user_id": str(bob.id)}
    assert given["data"] == removed["data"] == expected


def test_likes_of_many_users_are_counted_each(db):
    ada = make_user(db)
    post = make_post(db, ada.id)
    fans = [make_user(db) for _ in range(3)]
    for fan in fans:
        with transaction(db):
            interactions.like(db, fan.id, post.id)
    assert post_counts(db, post.id)[0] == 3
    assert posts.get_post(db, post.id).likes_count == 3


def test_a_like_and_its_event_roll_back_together(db):
    ada, bob = make_user(db), make_user(db)
    post = make_post(db, ada.id)
    with rolled_back(db):
        interactions.like(db, bob.id, post.id)
    assert post_counts(db, post.id) == (0, 0)
    assert events(db, "like-given", post.id) == []


def test_liking_a_missing_or_deleted_post_is_not_found(db):
    ada = make_user(db)
    post = make_post(db, ada.id)
    with transaction(db):
        posts.delete_post(db, post.id, ada.id)
    for post_id in (post.id, 1):
        with transaction(db), pytest.raises(NotFound):
            interactions.like(db, ada.id, post_id)


def test_comment_added_with_mentions_and_counted(db):
    ada, bob = make_user(db), make_user(db)
    post = make_post(db, ada.id)
    with transaction(db):
        comment = interactions.add_comment(db, bob.id, post.id, f"  nice @{ada.username} @ghost_zz_x  ")
    assert comment.body == f"nice @{ada.username} @ghost_zz_x" and comment.author.id == bob.id
    [event] = events(db, "comment-added", post.id)
    validate(event)
    assert event["data"]["mentioned_user_ids"] == [str(ada.id)]
    assert event["data"]["post_author_id"] == str(ada.id)
    assert post_counts(db, post.id)[1] == 1
    for body in ("   ", "x" * 2201):
        with transaction(db), pytest.raises(Invalid):
            interactions.add_comment(db, bob.id, post.id, body)


def test_comment_deletion_by_its_author_or_the_post_owner_only(db):
    owner, writer, stranger = make_user(db), make_user(db), make_user(db)
    post = make_post(db, owner.id)
    with transaction(db):
        first = interactions.add_comment(db, writer.id, post.id, "one")
        second = interactions.add_comment(db, writer.id, post.id, "two")
        owners = interactions.add_comment(db, owner.id, post.id, "mine")
    with transaction(db), pytest.raises(Forbidden):
        interactions.delete_comment(db, first.id, stranger.id)
    with transaction(db), pytest.raises(Forbidden):
        interactions.delete_comment(db, owners.id, writer.id)  # a commenter cannot delete the owner's comment
    with transaction(db):
        interactions.delete_comment(db, first.id, writer.id)  # own comment
        interactions.delete_comment(db, second.id, owner.id)  # the post owner deletes any on their post
    with transaction(db), pytest.raises(NotFound):
        interactions.delete_comment(db, first.id, writer.id)  # already deleted
    assert post_counts(db, post.id)[1] == 1
    deleted = events(db, "comment-deleted", post.id)
    assert [(e["data"]["comment_id"], e["data"]["user_id"], e["actor_id"]) for e in deleted] == [
        (str(first.id), str(writer.id), str(writer.id)), (str(second.id), str(writer.id), str(owner.id))]
    assert [c.id for c in interactions.comments_page(db, post.id).items] == [owners.id]


def test_comment_pages_oldest_first_each_once_one_query_per_page(db):
    ada = make_user(db)
    post = make_post(db, ada.id)
    with transaction(db):
        made = [interactions.add_comment(db, ada.id, post.id, f"c{i}").id for i in range(5)]
    counting = CountingConnection(db)
    seen, cursor = [], None
    while True:
        counting.reset()
        page = interactions.comments_page(counting, post.id, cursor=cursor, limit=2)
        assert len(counting.statements) == 1
        seen += [c.id for c in page.items]
        if page.next_cursor is None:
            break
        cursor = page.next_cursor
    assert seen == made

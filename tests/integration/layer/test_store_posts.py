"""Posts: media rules, publication once, deletion, one-query reads (caption parsing: tests/unit)."""

from __future__ import annotations

import pytest

from kafkagram.db import transaction
from kafkagram.events import validate
from kafkagram.store import Conflict, Forbidden, Invalid, NotFound, media, posts
from tests.support.store import (
    BLURHASH,
    BUCKET,
    CountingConnection,
    counters,
    events,
    make_media,
    make_post,
    make_user,
    variant,
)


def test_a_post_with_ready_media_is_published_at_once_with_its_event(db):
    ada, bob = make_user(db), make_user(db)
    post = make_post(db, ada.id, f"Engines #Math with @{bob.username.upper()} and @nobody_here_x", media_count=3)
    assert post.status == "published" and post.hashtags == ["math"]
    assert post.author.username == ada.username and len(post.media) == 3
    assert all(m.blurhash == BLURHASH and m.variants for m in post.media)
    [event] = events(db, "post-created", post.id)
    validate(event)
    assert event["data"]["media_ids"] == [str(m.id) for m in post.media]
    assert event["data"]["mentioned_user_ids"] == [str(bob.id)]
    assert counters(db, ada.id)[2] == 1


def test_media_keep_the_order_given(db):
    ada = make_user(db)
    ids = [make_media(db, ada.id) for _ in range(3)]
    with transaction(db):
        post = posts.create_post(db, ada.id, "", list(reversed(ids)))
    assert [m.id for m in post.media] == list(reversed(ids))


def test_a_post_with_another_users_media_is_refused(db):
    ada, bob = make_user(db), make_user(db)
    mine, theirs = make_media(db, ada.id), make_media(db, bob.id)
    with transaction(db), pytest.raises(Forbidden) as refused:
        posts.create_post(db, ada.id, "mine", [mine, theirs])
    assert refused.value.http_status == 403
    assert db.run("SELECT count(*) FROM posts WHERE author_id = :id", id=ada.id) == [[0]]


@pytest.mark.parametrize(("count", "caption", "code"), [
    (0, "", "invalid-media-count"), (11, "", "invalid-media-count"), (1, "c" * 2201, "caption-too-long")])
def test_media_count_and_caption_length_are_limited(db, count, caption, code):
    ada = make_user(db)
    ids = [make_media(db, ada.id) for _ in range(count)]
    with transaction(db), pytest.raises(Invalid) as refused:
        posts.create_post(db, ada.id, caption, ids)
    assert refused.value.code == code


def test_media_serve_one_post_and_must_exist(db):
    ada = make_user(db)
    post = make_post(db, ada.id)
    avatar = make_media(db, ada.id, purpose="avatar")
    with transaction(db), pytest.raises(Conflict):
        posts.create_post(db, ada.id, "again", [post.media[0].id])
    with transaction(db), pytest.raises(Invalid):
        posts.create_post(db, ada.id, "avatar", [avatar])
    with transaction(db), pytest.raises(NotFound):
        posts.create_post(db, ada.id, "ghost", [1])


def test_a_post_waits_for_its_media_and_is_published_once(db):
    ada = make_user(db)
    ready, waiting = make_media(db, ada.id), make_media(db, ada.id, ready=False)
    with transaction(db):
        post = posts.create_post(db, ada.id, "soon", [ready, waiting])
    assert post.status == "pending" and counters(db, ada.id)[2] == 0
    with pytest.raises(NotFound):
        posts.get_post(db, post.id)  # others do not see it yet; the author does
    assert posts.get_post(db, post.id, viewer_id=ada.id).status == "pending"
    with transaction(db):
        assert posts.publish_post_when_media_ready(db, post.id) is False
        media.mark_ready(db, waiting, 640, 480, variant(waiting), BLURHASH)
    assert posts.pending_post_ids_for_media(db, waiting) == [post.id]
    for _ in range(2):  # media-processed delivered twice
        with transaction(db):
            for post_id in posts.pending_post_ids_for_media(db, waiting):
                posts.publish_post_when_media_ready(db, post_id)
    assert posts.get_post(db, post.id).status == "published"
    assert len(events(db, "post-created", post.id)) == 1
    assert counters(db, ada.id)[2] == 1


def test_media_steps_emit_their_events_once(db):
    ada = make_user(db)
    with transaction(db):
        item = media.create_media(db, ada.id, "post", "image/png", 10)
    assert item.object_key == f"uploads/{ada.id}/{item.id}" and item.status == "pending"
    for _ in range(2):
        with transaction(db):
            media.mark_uploaded(db, item.id, ada.id, BUCKET, "image/png", 12)
    with transaction(db):
        assert media.mark_failed(db, item.id, "not-an-image", "the file is not an image") is not None
        assert media.mark_failed(db, item.id, "not-an-image", "again") is None
        assert media.mark_ready(db, item.id, 1, 1, variant(item.id), BLURHASH) is None
    for type_name in ("media-uploaded", "media-failed"):
        [event] = events(db, type_name, item.id)
        validate(event)
    assert media.get_media(db, item.id).failure_reason == "not-an-image"
    bob = make_user(db)
    with transaction(db), pytest.raises(Forbidden):
        media.mark_uploaded(db, item.id, bob.id, BUCKET, "image/png", 12)
    with transaction(db), pytest.raises(Invalid):
        media.create_media(db, ada.id, "post", "text/plain", 10)


def test_only_the_author_deletes_a_post_and_counters_follow(db):
    ada, bob = make_user(db), make_user(db)
    post = make_post(db, ada.id)
    with transaction(db), pytest.raises(Forbidden):
        posts.delete_post(db, post.id, bob.id)
    with transaction(db):
        posts.delete_post(db, post.id, ada.id)
    with transaction(db), pytest.raises(NotFound):
        posts.delete_post(db, post.id, ada.id)
    [event] = events(db, "post-deleted", post.id)
    assert event["data"] == {"post_id": str(post.id), "author_id": str(ada.id)}
    assert counters(db, ada.id)[2] == 0
    with pytest.raises(NotFound):
        posts.get_post(db, post.id, viewer_id=ada.id)


def test_get_posts_by_ids_is_one_query_in_the_order_asked(db):
    ada, bob = make_user(db), make_user(db)
    mine = [make_post(db, ada.id, f"#{i}", media_count=2) for i in range(3)]
    theirs = make_post(db, bob.id)
    gone = make_post(db, bob.id)
    with transaction(db):
        posts.delete_post(db, gone.id, bob.id)
    asked = [mine[1].id, theirs.id, gone.id, 1, mine[0].id, mine[2].id]
    counting = CountingConnection(db)
    found = posts.get_posts_by_ids(counting, asked)
    assert len(counting.statements) == 1
    assert [p.id for p in found] == [mine[1].id, theirs.id, mine[0].id, mine[2].id]
    assert found[1].author.username == bob.username and len(found[0].media) == 2


def test_recent_post_refs_merge_authors_newest_first(db):
    ada, bob = make_user(db), make_user(db)
    made = [(make_post(db, author.id).id, author.id) for author in (ada, bob, ada, bob)]
    newest_first = sorted(made, reverse=True)
    assert posts.recent_post_refs(db, [ada.id, bob.id], limit=3) == newest_first[:3]
    assert posts.recent_post_refs(db, [ada.id, bob.id], limit=10, before=newest_first[1][0]) == newest_first[2:]

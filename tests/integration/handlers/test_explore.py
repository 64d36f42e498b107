"""The Explore handler against real PostgreSQL and Redis: the events are the ones the store put in the
outbox, delivered (and redelivered) in AWS's Kafka invocation shape; Discovery's state is read back
through its own reads."""

from __future__ import annotations

import math
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from handlers import explore
from kafkagram.clients import Clients
from kafkagram.db import transaction
from kafkagram.explore import COMMENT_WEIGHT, HALF_LIFE_S, TAG_WINDOW_HOURS, Discovery, popularity, tag_bucket
from kafkagram.flows.explore import PostTouched
from kafkagram.store import interactions, posts
from kafkagram.store.models import Post
from tests.support.invocations import OK, invoke, kafka_record
from tests.support.store import events, make_post, make_user, one_event


@pytest.fixture
def discovery(clients: Clients, monkeypatch: pytest.MonkeyPatch) -> Iterator[Discovery]:
    """The handler on the test database under this test's Redis prefix, and a Discovery to read it."""
    monkeypatch.setattr(explore, "clients", clients)
    yield Discovery(clients.redis, prefix=clients.key_prefix)


def tag() -> str:
    return f"t{uuid.uuid4().hex[:10]}"


def published_ago(db: Any, post: Post, age: timedelta) -> datetime:
    """Moves the post's publication back in time (the test's way of making an old post)."""
    [[when]] = db.run("UPDATE posts SET published_at = now() - CAST(:age AS interval) WHERE id = :id "
                      "RETURNING published_at", id=post.id, age=f"{age.total_seconds()} seconds")
    return when


def like(db: Any, post: Post, count: int) -> list[dict[str, Any]]:
    """`count` new users like the post; returns their like-given events."""
    for _ in range(count):
        user = make_user(db)
        with transaction(db):
            interactions.like(db, user.id, post.id)
    return events(db, "like-given", post.id)


def tag_count(discovery: Discovery, name: str) -> int:
    return next((t.posts for t in discovery.trending_tags(50) if t.tag == name), 0)


def test_posts_rank_by_likes_and_comments_halved_every_half_life(db: Any, discovery: Discovery) -> None:
    author = make_user(db)
    fresh, fresh_liked, day_old_liked, day_old_loved = (make_post(db, author.id) for _ in range(4))
    for post in (day_old_liked, day_old_loved):
        published_ago(db, post, timedelta(hours=24))  # two half-lives: its weight counts a quarter
    records = [kafka_record(one_event(db, "post-created", post.id))
               for post in (fresh, fresh_liked, day_old_liked, day_old_loved)]
    records += [kafka_record(e) for e in like(db, fresh_liked, 1)]  # w = 2
    records += [kafka_record(e) for e in like(db, day_old_liked, 5)]  # w = 6 / 4 = 1.5
    records += [kafka_record(e) for e in like(db, day_old_loved, 20)]  # w = 21 / 4 = 5.25

    assert invoke(explore.handler, *records) == OK

    assert discovery.ranked_ids() == [day_old_loved.id, fresh_liked.id, day_old_liked.id, fresh.id]
    # The score is log2(weight) + publication time in half-lives: no rewrite as time passes.
    [[published_at]] = db.run("SELECT published_at FROM posts WHERE id = :id", id=fresh_liked.id)
    assert discovery.score(fresh_liked.id) == pytest.approx(1 + published_at.timestamp() / HALF_LIFE_S)


def test_a_comment_weighs_more_than_a_like_and_taking_them_back_lowers_the_score(db: Any,
                                                                                 discovery: Discovery) -> None:
    author, fan = make_user(db), make_user(db)
    liked, commented = make_post(db, author.id), make_post(db, author.id)
    with transaction(db):
        interactions.like(db, fan.id, liked.id)
        comment = interactions.add_comment(db, fan.id, commented.id, "lovely")
    invoke(explore.handler, kafka_record(one_event(db, "like-given", liked.id)),
           kafka_record(one_event(db, "comment-added", commented.id)))
    # ZADD only for posts that exist and are published: both are, so both enter at once.
    assert discovery.ranked_ids()[:1] == [commented.id]
    base = discovery.score(commented.id)
    assert base is not None

    with transaction(db):
        interactions.unlike(db, fan.id, liked.id)
        interactions.delete_comment(db, comment.id, fan.id)
    assert invoke(explore.handler, kafka_record(one_event(db, "like-removed", liked.id)),
                  kafka_record(one_event(db, "comment-deleted", commented.id))) == OK

    assert discovery.score(commented.id) == pytest.approx(base - math.log2(1 + COMMENT_WEIGHT))


def test_redelivered_events_change_nothing(db: Any, discovery: Discovery) -> None:
    author = make_user(db)
    first, second = tag(), tag()
    post = make_post(db, author.id, f"hello #{first} #{second} #{first}")
    created = kafka_record(one_event(db, "post-created", post.id))
    [liked] = like(db, post, 1)

    assert invoke(explore.handler, created, created, kafka_record(liked)) == OK  # twice in one batch
    score = discovery.score(post.id)
    assert invoke(explore.handler, created) == OK  # and again later (a retry, a rebalance, a replay)
    assert invoke(explore.handler, kafka_record(liked), kafka_record(liked)) == OK

    assert discovery.score(post.id) == score
    assert score == pytest.approx(math.log2(2) + post_published_at(db, post).timestamp() / HALF_LIFE_S)
    assert tag_count(discovery, first) == 1 and tag_count(discovery, second) == 1


def post_published_at(db: Any, post: Post) -> datetime:
    [[when]] = db.run("SELECT published_at FROM posts WHERE id = :id", id=post.id)
    return when


def test_a_deleted_post_leaves_the_grid_and_gives_back_its_tags(db: Any, discovery: Discovery) -> None:
    author = make_user(db)
    shared, own = tag(), tag()
    kept, deleted = make_post(db, author.id, f"#{shared}"), make_post(db, author.id, f"#{shared} #{own}")
    created = [kafka_record(one_event(db, "post-created", p.id)) for p in (kept, deleted)]
    invoke(explore.handler, *created)
    assert set(discovery.ranked_ids()) == {kept.id, deleted.id}
    assert tag_count(discovery, shared) == 2 and tag_count(discovery, own) == 1

    with transaction(db):
        posts.delete_post(db, deleted.id, author.id)
    removed = kafka_record(one_event(db, "post-deleted", deleted.id))
    assert invoke(explore.handler, removed) == OK
    assert invoke(explore.handler, removed) == OK  # redelivered: nothing more to take back

    assert discovery.ranked_ids() == [kept.id]
    assert tag_count(discovery, shared) == 1 and tag_count(discovery, own) == 0
    # Its post-created delivered again (a replay), or a late like: it does not come back.
    assert invoke(explore.handler, *created) == OK
    assert discovery.ranked_ids() == [kept.id] and tag_count(discovery, shared) == 1


def test_trending_tags_count_the_window_only(db: Any, discovery: Discovery) -> None:
    author = make_user(db)
    name = tag()
    recent, older, too_old = (make_post(db, author.id, f"#{name}") for _ in range(3))
    published_ago(db, older, timedelta(hours=TAG_WINDOW_HOURS - 2))
    published_ago(db, too_old, timedelta(hours=TAG_WINDOW_HOURS + 2))
    invoke(explore.handler, *(kafka_record(one_event(db, "post-created", p.id)) for p in (recent, older, too_old)))

    assert tag_count(discovery, name) == 2
    assert set(discovery.ranked_ids()) == {recent.id, older.id, too_old.id}  # the grid's window is days


def test_rebuild_from_postgresql_gives_what_the_events_gave(db: Any, clients: Clients, discovery: Discovery) -> None:
    author = make_user(db)
    name = tag()
    liked, plain, gone = (make_post(db, author.id, f"#{name}") for _ in range(3))
    events_given = [kafka_record(one_event(db, "post-created", p.id)) for p in (liked, plain, gone)]
    events_given += [kafka_record(e) for e in like(db, liked, 3)]
    with transaction(db):
        posts.delete_post(db, gone.id, author.id)
    events_given.append(kafka_record(one_event(db, "post-deleted", gone.id)))
    invoke(explore.handler, *events_given)
    by_events = {post.id: discovery.score(post.id) for post in (liked, plain, gone)}

    for key in clients.redis.scan_iter(match=f"{clients.key_prefix}explore:*"):
        clients.redis.delete(key)  # Redis lost it all
    discovery.rebuild(db)

    # The rebuild reads the whole database (other tests' posts too); ours come out as the events left them.
    assert {post.id: discovery.score(post.id) for post in (liked, plain, gone)} == pytest.approx(by_events)
    assert by_events[gone.id] is None
    assert tag_count(discovery, name) == 2
    bucket = tag_bucket(post_published_at(db, liked))
    assert clients.redis.hget(discovery.tag_posts_key(bucket), str(liked.id)) == name.encode()


def test_a_clock_past_the_window_ages_posts_out(db: Any, clients: Clients) -> None:
    author = make_user(db)
    post = make_post(db, author.id, f"#{tag()}")
    later = datetime.now(UTC) + timedelta(days=8)
    aged = Discovery(clients.redis, prefix=clients.key_prefix, clock=later.timestamp)
    now = Discovery(clients.redis, prefix=clients.key_prefix)
    assert now.sync(db, [post.id]).ranked == 1 and now.ranked_ids() == [post.id]

    outcome = aged.sync(db, [post.id])  # a like eight days on: past POPULAR_WINDOW_DAYS, it leaves

    assert (outcome.ranked, outcome.dropped) == (0, 1) and aged.ranked_ids() == []


def test_an_unreadable_event_is_diverted_and_the_rest_synced(db: Any, discovery: Discovery) -> None:
    author = make_user(db)
    post = make_post(db, author.id)
    good = one_event(db, "post-created", post.id)
    bad = {**good, "id": str(uuid.uuid4()), "data": {**good["data"], "post_id": "not-an-id"}}

    unreadable = kafka_record(bad)

    assert invoke(explore.handler, unreadable, kafka_record(good)) == OK

    assert discovery.ranked_ids() == [post.id]
    rows = db.run("SELECT payload FROM outbox WHERE topic = 'post-events-failed' "
                  "AND payload->'KafkaBatchInfo'->'recordInfo'->>'offset' = :offset", offset=str(unreadable.offset))
    assert len(rows) == 1 and rows[0][0]["reason"]["code"] == "invalid-event"


def test_the_reading_model_names_a_field_every_synced_type_has() -> None:
    from kafkagram.events import spec_for

    for type_name in PostTouched.TYPES:
        assert "post_id" in spec_for(type_name).properties, type_name


def test_popularity_is_the_decayed_weight_in_log_space() -> None:
    t = datetime(2026, 1, 1, tzinfo=UTC)
    # Equal at any moment: double the weight, one half-life older.
    assert popularity(1, 0, t) == pytest.approx(popularity(0, 0, t + timedelta(seconds=HALF_LIFE_S)))

"""The home timeline's read path, counted: on a warm cache a page is ONE Redis round trip (the script
that takes the caller's rate-limit token, marks them active, reads the range and the cached posts) and
ONE PostgreSQL statement (large accounts and likes). A refused token stops the read before it starts,
a request refused before its read still pays its token, and a missing timeline is still rebuilt."""

from __future__ import annotations

import deps
import pytest
import redis

from kafkagram.auth import RateLimiter
from kafkagram.auth.ratelimit import DEFAULT_RULES, READS_PER_USER, Rule
from kafkagram.feed import HomeTimeline
from kafkagram.post_cache import PostCache
from kafkagram.timeline import LARGE_ACCOUNT_FOLLOWERS, FeedManager
from tests.support.api import Account, empty_bucket, follow, home_timeline, publish, register, reset_bucket
from tests.support.services import free_port


def tokens_left(client: redis.Redis, account: Account) -> float:
    raw = client.hget(RateLimiter(client).bucket_key(READS_PER_USER, account.id), "tokens")
    return BURST if raw is None else float(raw)


BURST = DEFAULT_RULES[READS_PER_USER].burst


@pytest.fixture
def slow_refill(direct, redis_client: redis.Redis, monkeypatch: pytest.MonkeyPatch) -> None:
    """The API's buckets, refilled at one token a minute: tokens can be counted exactly."""
    rules = {**DEFAULT_RULES, READS_PER_USER: Rule(per_minute=1, burst=BURST)}
    monkeypatch.setattr(deps, "_limiter", RateLimiter(redis_client, rules))


def test_a_warm_page_is_one_redis_round_trip_and_one_statement(direct, db, round_trips, statements):
    alice, bob = register(direct), register(direct)
    follow(direct, alice, bob)
    posted = [publish(direct, db, bob, caption=f"#{i}")["id"] for i in range(3)]
    assert [item["id"] for item in home_timeline(direct, alice)["items"]] == list(reversed(posted))  # built, cached
    round_trips.clear()
    statements.clear()

    first = home_timeline(direct, alice, "?limit=2")
    assert round_trips == ["EVALSHA"]  # token, activity, range and cached posts in one script call
    assert len(statements) == 1  # large accounts and likes in one statement
    assert [item["id"] for item in first["items"]] == [posted[2], posted[1]]

    round_trips.clear()
    statements.clear()
    rest = home_timeline(direct, alice, f"?limit=2&cursor={first['next_cursor']}")
    assert [item["id"] for item in rest["items"]] == [posted[0]] and rest["next_cursor"] is None
    assert round_trips == ["EVALSHA"] and len(statements) == 1


def test_a_refused_token_stops_the_read_before_it_starts(direct, redis_client, feeds, round_trips, statements,
                                                        slow_refill):
    alice = register(direct)
    home_timeline(direct, alice)  # built, and alice marked active
    seen = redis_client.zscore(feeds.activity_key, alice.id)
    empty_bucket(redis_client, READS_PER_USER, alice.id)
    round_trips.clear()
    statements.clear()

    reply = direct.request("GET", "/api/timeline", token=alice.access_token)
    assert reply.status == 429 and reply.error == "rate-limited" and int(reply.headers["retry-after"]) >= 1
    assert round_trips == ["EVALSHA"] and statements == []  # nothing read, nothing taken twice
    assert redis_client.zscore(feeds.activity_key, alice.id) == seen  # not marked active either

    reset_bucket(redis_client, READS_PER_USER, alice.id)
    assert home_timeline(direct, alice)["items"] == []


def test_a_request_refused_before_its_read_still_takes_its_token(direct, redis_client, slow_refill):
    alice = register(direct)
    reset_bucket(redis_client, READS_PER_USER, alice.id)
    assert direct.request("GET", "/api/timeline?limit=0", token=alice.access_token).status == 400
    assert BURST - 1 <= tokens_left(redis_client, alice) < BURST - 0.9  # taken once, after the 400

    empty_bucket(redis_client, READS_PER_USER, alice.id)
    refused = direct.request("GET", "/api/timeline?limit=0", token=alice.access_token)
    assert refused.status == 429 and refused.error == "rate-limited"  # a flood of bad requests is refused too
    assert direct.request("GET", "/api/timeline?order=popular", token=alice.access_token).status == 429


def test_each_page_takes_exactly_one_token(direct, redis_client, slow_refill):
    alice = register(direct)
    reset_bucket(redis_client, READS_PER_USER, alice.id)
    for _ in range(3):
        home_timeline(direct, alice, "?order=ranked")
        home_timeline(direct, alice)
    assert BURST - 6 <= tokens_left(redis_client, alice) < BURST - 5.9  # six pages, six tokens


def test_a_missing_timeline_is_rebuilt_in_the_same_request(direct, db, feeds, redis_client, round_trips):
    alice, bob = register(direct), register(direct)
    follow(direct, alice, bob)
    posted = publish(direct, db, bob)["id"]
    home_timeline(direct, alice)
    redis_client.delete(feeds.timeline_key(int(alice.id)))  # evicted
    round_trips.clear()

    assert [item["id"] for item in home_timeline(direct, alice)["items"]] == [posted]
    assert round_trips[0] == "EVALSHA" and len(round_trips) > 1  # the script found nothing: rebuilt, read
    assert redis_client.exists(feeds.timeline_key(int(alice.id)))
    round_trips.clear()
    home_timeline(direct, alice)
    assert round_trips == ["EVALSHA"]


def test_a_large_accounts_posts_are_merged_with_the_callers_likes(direct, db):
    alice, star = register(direct), register(direct)
    follow(direct, alice, star)
    db.run("UPDATE users SET followers_count = :n WHERE id = :id", n=LARGE_ACCOUNT_FOLLOWERS + 1, id=int(star.id))
    home_timeline(direct, alice)  # built while the star had posted nothing
    first, second = (publish(direct, db, star)["id"] for _ in range(2))  # never fanned out
    assert direct.request("PUT", f"/api/posts/{first}/like", token=alice.access_token).status == 204
    items = home_timeline(direct, alice)["items"]
    assert [(item["id"], item["liked_by_me"]) for item in items] == [(second, False), (first, True)]


def test_redis_unreachable_on_the_timeline_is_a_json_503(direct, monkeypatch):
    alice = register(direct)
    dead = redis.Redis(host="127.0.0.1", port=free_port(), socket_connect_timeout=1)
    monkeypatch.setattr(deps, "_home", HomeTimeline(FeedManager(dead), PostCache(dead)))
    reply = direct.request("GET", "/api/timeline", token=alice.access_token)
    assert reply.status == 503 and reply.error == "unavailable"


def test_a_users_grid_page_is_one_statement_with_the_callers_likes(direct, db, round_trips, statements):
    alice, bob = register(direct), register(direct)
    posted = [publish(direct, db, bob)["id"] for _ in range(3)]
    assert direct.request("PUT", f"/api/posts/{posted[0]}/like", token=alice.access_token).status == 204
    round_trips.clear()
    statements.clear()

    first = direct.request("GET", f"/api/users/{bob.username}/posts?limit=2", token=alice.access_token).json()
    assert [(item["id"], item["liked_by_me"]) for item in first["items"]] == [(posted[2], False), (posted[1], False)]
    assert len(statements) == 1 and round_trips == ["EVALSHA"]  # the user, the page, the likes; the token
    rest = direct.request("GET", f"/api/users/{bob.username}/posts?limit=2&cursor={first['next_cursor']}",
                          token=alice.access_token).json()
    assert [(item["id"], item["liked_by_me"]) for item in rest["items"]] == [(posted[0], True)]
    assert rest["next_cursor"] is None
    assert direct.request("GET", f"/api/users/{alice.username.upper()}/posts",
                          token=bob.access_token).json() == {"items": [], "next_cursor": None}
    missing = direct.request("GET", "/api/users/nobody_here_x/posts", token=bob.access_token)
    assert missing.status == 404 and missing.error == "user-not-found"

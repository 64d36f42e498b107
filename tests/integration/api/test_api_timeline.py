"""The home timeline through the API, with real PostgreSQL and Redis: rebuilt when missing, paged by
cursor, hydrated in one query per page, fan-out entries read from Redis, large accounts merged."""

from __future__ import annotations

import time

from kafkagram.timeline import ACTIVE_SECONDS, LARGE_ACCOUNT_FOLLOWERS
from tests.support.api import Account, Client, follow, home_timeline, publish, register

HYDRATION_SQL = "FROM posts p JOIN users u ON u.id = p.author_id"  # POST_SELECT, the hydration query


def read_all(client: Client, account: Account, limit: int) -> tuple[list[str], int]:
    seen, cursor, pages = [], None, 0
    while True:
        page = home_timeline(client, account, f"?limit={limit}" + (f"&cursor={cursor}" if cursor else ""))
        pages += 1
        seen += [item["id"] for item in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            return seen, pages


def test_a_missing_timeline_is_rebuilt_from_the_users_and_followees_posts(direct, db, feeds, redis_client):
    alice, bob, carol, dave = (register(direct) for _ in range(4))
    follow(direct, alice, bob)
    follow(direct, alice, carol)
    expected = [publish(direct, db, author)["id"] for author in (bob, carol, bob, dave, alice)]
    expected = [post_id for post_id, author in zip(expected, "bcbda", strict=True) if author in "bca"]
    key = feeds.timeline_key(int(alice.id))
    assert not redis_client.exists(key)

    page = home_timeline(direct, alice)  # first visit: no timeline yet, rebuilt from PostgreSQL
    assert [item["id"] for item in page["items"]] == list(reversed(expected)) and page["next_cursor"] is None
    assert {item["author"]["username"] for item in page["items"]} == {bob.username, carol.username, alice.username}
    assert redis_client.exists(key)

    redis_client.delete(key)  # evicted or expired: rebuilt again, never an empty page
    assert [item["id"] for item in home_timeline(direct, alice)["items"]] == list(reversed(expected))


def test_an_empty_timeline_is_empty_not_missing(direct, feeds, redis_client):
    loner = register(direct)
    assert home_timeline(direct, loner) == {"items": [], "next_cursor": None}
    assert redis_client.exists(feeds.timeline_key(int(loner.id)))  # built (the marker), not re-read each time


def test_pages_by_cursor_with_one_hydration_query_per_page(direct, db, statements):
    alice, bob = register(direct), register(direct)
    follow(direct, alice, bob)
    posted = [publish(direct, db, bob, caption=f"#{i}")["id"] for i in range(5)]
    home_timeline(direct, alice, "?limit=1")  # builds the timeline
    statements.clear()
    seen, pages = read_all(direct, alice, 2)
    assert seen == list(reversed(posted)) and pages == 3
    assert sum(HYDRATION_SQL in sql for sql in statements) == pages  # one hydration query per page
    # Per page: the hydration of the cache's misses, and one statement for the large accounts and the
    # caller's likes; nothing per post.
    assert len(statements) == 2 * pages
    # Read again: every post comes from the post cache; PostgreSQL answers the per-caller question only.
    statements.clear()
    assert read_all(direct, alice, 2) == (seen, pages)
    assert not any(HYDRATION_SQL in sql for sql in statements) and len(statements) == pages


def test_a_like_or_comment_shows_at_the_next_read_despite_the_cache(direct, db):
    alice, bob = register(direct), register(direct)
    follow(direct, alice, bob)
    post = publish(direct, db, bob)["id"]
    assert home_timeline(direct, alice)["items"][0]["likes_count"] == 0  # now cached
    assert direct.request("PUT", f"/api/posts/{post}/like", token=alice.access_token).status == 204
    [liked] = home_timeline(direct, alice)["items"]
    assert liked["likes_count"] == 1 and liked["liked_by_me"] is True
    # The cached post is everyone's; whether the caller likes it is theirs.
    [seen_by_author] = home_timeline(direct, bob)["items"]  # bob's own post, in his own timeline
    assert seen_by_author["likes_count"] == 1 and seen_by_author["liked_by_me"] is False
    assert direct.request("GET", f"/api/posts/{post}", token=alice.access_token).json()["liked_by_me"] is True
    assert direct.request("GET", f"/api/users/{bob.username}/posts",
                          token=alice.access_token).json()["items"][0]["liked_by_me"] is True
    reply = direct.request("POST", f"/api/posts/{post}/comments", token=alice.access_token, json_body={"body": "hi"})
    assert reply.status == 201
    assert home_timeline(direct, alice)["items"][0]["comments_count"] == 1
    assert direct.request("DELETE", f"/api/posts/{post}/comments/{reply.json()['id']}",
                          token=bob.access_token).status == 204
    assert direct.request("DELETE", f"/api/posts/{post}/like", token=alice.access_token).status == 204
    assert home_timeline(direct, alice)["items"][0]["likes_count"] == 0
    assert home_timeline(direct, alice)["items"][0]["comments_count"] == 0


def test_fanned_out_and_deleted_posts(direct, db, feeds):
    alice, bob = register(direct), register(direct)
    follow(direct, alice, bob)
    first = publish(direct, db, bob)["id"]
    assert [item["id"] for item in home_timeline(direct, alice)["items"]] == [first]
    later = publish(direct, db, bob)["id"]
    # The built timeline is what fan-out writes: the new post shows once it is pushed.
    assert [item["id"] for item in home_timeline(direct, alice)["items"]] == [first]
    assert feeds.push(int(later), int(bob.id), [int(alice.id)]) == [int(alice.id)]
    assert [item["id"] for item in home_timeline(direct, alice)["items"]] == [later, first]
    # A deleted post still in Redis (fan-out of the deletion pending) is not shown.
    assert direct.request("DELETE", f"/api/posts/{later}", token=bob.access_token).status == 204
    assert [item["id"] for item in home_timeline(direct, alice)["items"]] == [first]


def test_large_accounts_are_merged_at_read_time(direct, db):
    alice, star, friend = register(direct), register(direct), register(direct)
    follow(direct, alice, star)
    follow(direct, alice, friend)
    db.run("UPDATE users SET followers_count = :n WHERE id = :id", n=LARGE_ACCOUNT_FOLLOWERS + 1, id=int(star.id))
    old = publish(direct, db, friend)["id"]
    assert [item["id"] for item in home_timeline(direct, alice)["items"]] == [old]  # built now
    # Never fanned out (too many followers), yet read: merged from PostgreSQL, in order, paged.
    starred = [publish(direct, db, star)["id"] for _ in range(3)]
    seen, pages = read_all(direct, alice, 2)
    assert seen == [*reversed(starred), old] and pages == 2


def test_a_returning_user_gets_a_rebuilt_timeline(direct, db, feeds, redis_client):
    alice, bob = register(direct), register(direct)
    follow(direct, alice, bob)
    assert home_timeline(direct, alice)["items"] == []  # built while bob had posted nothing
    posted = publish(direct, db, bob)["id"]  # missed: alice was away (no fan-out to inactive users)
    redis_client.zadd(feeds.activity_key, {alice.id: time.time() - ACTIVE_SECONDS - 60})
    assert [item["id"] for item in home_timeline(direct, alice)["items"]] == [posted]


def test_timeline_input_errors(direct):
    alice = register(direct)
    bad = direct.request("GET", "/api/timeline?cursor=abc", token=alice.access_token)
    assert bad.status == 400 and bad.error == "invalid-cursor"
    assert direct.request("GET", "/api/timeline?limit=0", token=alice.access_token).status == 400
    assert direct.request("GET", "/api/timeline?limit=101", token=alice.access_token).status == 400
    assert direct.request("GET", "/api/timeline").status == 401


def test_the_ranked_timeline_puts_engagement_first_and_pages_through_the_window(direct, db):
    alice, bob, carol = register(direct), register(direct), register(direct)
    follow(direct, alice, bob)
    oldest, middle, newest = (publish(direct, db, bob, caption=name)["id"] for name in ("oldest", "middle", "newest"))
    # Posted seconds apart, so engagement decides: 3 likes (score 1 + 3) over 1 comment (1 + 2) over none.
    for fan in (alice, bob, carol):
        assert direct.request("PUT", f"/api/posts/{oldest}/like", token=fan.access_token).status == 204
    reply = direct.request("POST", f"/api/posts/{middle}/comments", token=carol.access_token, json_body={"body": "!"})
    assert reply.status == 201

    assert [item["id"] for item in home_timeline(direct, alice)["items"]] == [newest, middle, oldest]
    ranked = home_timeline(direct, alice, "?order=ranked")
    assert [item["id"] for item in ranked["items"]] == [oldest, middle, newest] and ranked["next_cursor"] is None

    first = home_timeline(direct, alice, "?order=ranked&limit=2")
    assert [item["id"] for item in first["items"]] == [oldest, middle]
    rest = home_timeline(direct, alice, f"?order=ranked&limit=2&cursor={first['next_cursor']}")
    assert [item["id"] for item in rest["items"]] == [newest] and rest["next_cursor"] is None

    reply = direct.request("GET", "/api/timeline?order=popular", token=alice.access_token)
    assert reply.status == 400 and "order" in reply.json()["message"]

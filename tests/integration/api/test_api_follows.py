"""Follow and unfollow: idempotent, counted, one event each, and their lists."""

from __future__ import annotations

import json

from tests.support.api import register


def _counts(client, account, username):
    profile = client.request("GET", f"/api/users/{username}", token=account.access_token).json()
    return profile["followers_count"], profile["following_count"]


def _events(db, kind, follower_id, followee_id):
    rows = db.run("SELECT payload FROM outbox WHERE payload->>'type' = :kind", kind=kind)
    payloads = [row[0] if isinstance(row[0], dict) else json.loads(row[0]) for row in rows]
    return [p for p in payloads if p["data"] == {"follower_id": follower_id, "followee_id": followee_id}]


def test_follow_and_unfollow_are_idempotent_through_the_gateway(gateway, redis_client, db):
    alice, bob = register(gateway, redis_client), register(gateway, redis_client)
    path = f"/api/users/{bob.username}/follow"
    for _ in range(2):
        assert gateway.request("PUT", path, token=alice.access_token).status == 204
    assert _counts(gateway, alice, bob.username) == (1, 0)
    assert _counts(gateway, alice, alice.username) == (0, 1)
    assert len(_events(db, "user-followed", alice.id, bob.id)) == 1  # committed with the follow, once

    for _ in range(2):
        assert gateway.request("DELETE", path, token=alice.access_token).status == 204
    assert _counts(gateway, alice, bob.username) == (0, 0)
    assert _counts(gateway, alice, alice.username) == (0, 0)
    assert len(_events(db, "user-unfollowed", alice.id, bob.id)) == 1


def test_following_yourself_is_400(direct):
    alice = register(direct)
    reply = direct.request("PUT", f"/api/users/{alice.username}/follow", token=alice.access_token)
    assert reply.status == 400 and reply.error == "cannot-follow-self"
    assert _counts(direct, alice, alice.username) == (0, 0)


def test_following_an_unknown_user_is_404(direct):
    alice = register(direct)
    for method in ("PUT", "DELETE"):
        reply = direct.request(method, "/api/users/nobody_here_x/follow", token=alice.access_token)
        assert reply.status == 404 and reply.error == "user-not-found"


def test_follow_needs_a_token(direct):
    bob = register(direct)
    assert direct.request("PUT", f"/api/users/{bob.username}/follow").status == 401


def test_followers_and_following_pages(direct):
    star = register(direct)
    fans = [register(direct) for _ in range(5)]
    for fan in fans:
        assert direct.request("PUT", f"/api/users/{star.username}/follow", token=fan.access_token).status == 204
    seen, cursor, pages = [], None, 0
    while True:
        query = f"/api/users/{star.username}/followers?limit=2" + (f"&cursor={cursor}" if cursor else "")
        page = direct.request("GET", query, token=star.access_token)
        assert page.status == 200, page.body
        pages += 1
        seen += [item["username"] for item in page.json()["items"]]
        cursor = page.json()["next_cursor"]
        if cursor is None:
            break
    assert pages == 3
    assert seen == [fan.username for fan in reversed(fans)]  # newest follow first
    following = direct.request("GET", f"/api/users/{fans[0].username}/following", token=star.access_token).json()
    assert [item["username"] for item in following["items"]] == [star.username]
    assert following["next_cursor"] is None
    assert set(following["items"][0]) == {"id", "username", "display_name", "avatar_media_id", "avatar_url"}

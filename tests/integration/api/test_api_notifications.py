"""Notifications through the API: grouped and described, paginated newest first, unread count, and
marking some or all read; only ever the caller's own."""

from __future__ import annotations

from kafkagram.db import transaction
from kafkagram.store import notifications as notifications_store
from tests.support.api import register
from tests.support.store import make_post


def _upsert(db, recipient, kind: str, actor, post_id: int | None = None):
    with transaction(db):
        return notifications_store.upsert_notification(db, int(recipient.id), kind, int(actor.id), post_id)


def _notify(db, recipient, kind: str, actor, post_id: int | None = None) -> int:
    group = _upsert(db, recipient, kind, actor, post_id)
    assert group is not None
    return group.id


def _unread(client, account) -> int:
    reply = client.request("GET", "/api/notifications/unread-count", token=account.access_token)
    assert reply.status == 200, reply.body
    return reply.json()["count"]


def test_grouped_notifications_are_listed_with_their_description_through_the_gateway(gateway, redis_client, db):
    owner = register(gateway, redis_client)
    fans = [register(gateway, redis_client) for _ in range(4)]
    post = make_post(db, int(owner.id))
    for fan in fans:
        group = _notify(db, owner, "like", fan, post.id)
    assert _upsert(db, owner, "like", fans[0], post.id) is None  # the same actor again counts once

    reply = gateway.request("GET", "/api/notifications", token=owner.access_token)
    assert reply.status == 200, reply.body
    [item] = reply.json()["items"]
    newest = fans[-1].username
    assert item["description"] == f"{newest} and 3 others liked your post"
    assert item["id"] == str(group) and item["kind"] == "like" and item["post_id"] == str(post.id)
    assert item["actor_count"] == 4 and item["read"] is False
    assert [actor["username"] for actor in item["actors"]] == [fan.username for fan in reversed(fans)][:3]
    assert reply.json()["next_cursor"] is None
    assert _unread(gateway, owner) == 1


def test_notifications_paginate_newest_first_and_are_only_the_callers(direct, db):
    owner, other = register(direct), register(direct)
    followers = [register(direct) for _ in range(3)]
    posts = [make_post(db, int(owner.id)) for _ in range(3)]
    for follower, post in zip(followers, posts, strict=True):
        _notify(db, owner, "comment", follower, post.id)  # one group per post
    seen, cursor, pages = [], None, 0
    while True:
        reply = direct.request("GET", "/api/notifications?limit=2" + (f"&cursor={cursor}" if cursor else ""),
                               token=owner.access_token)
        assert reply.status == 200, reply.body
        pages += 1
        seen += [item["description"] for item in reply.json()["items"]]
        cursor = reply.json()["next_cursor"]
        if cursor is None:
            break
    assert pages == 2
    assert seen == [f"{f.username} commented on your post" for f in reversed(followers)]
    assert direct.request("GET", "/api/notifications", token=other.access_token).json()["items"] == []
    assert _unread(direct, other) == 0


def test_mark_some_then_all_read(direct, db):
    owner, other = register(direct), register(direct)
    actors = [register(direct) for _ in range(3)]
    post = make_post(db, int(owner.id))
    follow_group = _notify(db, owner, "follow", actors[0])
    like_group = _notify(db, owner, "like", actors[1], post.id)
    _notify(db, owner, "comment", actors[2], post.id)
    assert _unread(direct, owner) == 3

    # Someone else's ids change nothing.
    reply = direct.request("POST", "/api/notifications/read", json_body={"ids": [str(follow_group)]},
                           token=other.access_token)
    assert reply.status == 200 and reply.json() == {"marked": 0}
    assert _unread(direct, owner) == 3

    reply = direct.request("POST", "/api/notifications/read", json_body={"ids": [str(follow_group), str(like_group)]},
                           token=owner.access_token)
    assert reply.status == 200 and reply.json() == {"marked": 2}
    assert _unread(direct, owner) == 1
    items = direct.request("GET", "/api/notifications", token=owner.access_token).json()["items"]
    assert {item["id"]: item["read"] for item in items} == {
        str(follow_group): True, str(like_group): True, items[0]["id"]: False}

    reply = direct.request("POST", "/api/notifications/read", json_body={}, token=owner.access_token)
    assert reply.status == 200 and reply.json() == {"marked": 1}
    assert _unread(direct, owner) == 0
    # A read group is closed: the next like starts a new unread one.
    _notify(db, owner, "like", actors[2], post.id)
    assert _unread(direct, owner) == 1


def test_mark_read_validation_is_400_naming_the_field(direct):
    owner = register(direct)
    for sent, field in (({"ids": ["abc"]}, "ids.0"), ({"ids": ["9999999999999999999"]}, "ids.0"),
                        ({"ids": [str(i + 1) for i in range(101)]}, "ids"), ({"all": True}, "all"),
                        ({"ids": "1"}, "ids")):
        reply = direct.request("POST", "/api/notifications/read", json_body=sent, token=owner.access_token)
        assert reply.status == 400 and reply.error == "invalid-request", (sent, reply.body)
        assert reply.json()["message"].startswith(f"{field}:"), (sent, reply.body)
    reply = direct.request("GET", "/api/notifications?cursor=x", token=owner.access_token)
    assert reply.status == 400 and reply.error == "invalid-cursor"


def test_notifications_need_a_token(direct):
    for method, path in (("GET", "/api/notifications"), ("GET", "/api/notifications/unread-count"),
                         ("POST", "/api/notifications/read")):
        assert direct.request(method, path).status == 401

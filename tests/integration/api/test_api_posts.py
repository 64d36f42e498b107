"""Posts through the API: create with the caller's media (pending until processed), get, delete one's
own, and the profile grid, against real PostgreSQL (media made ready by the store, as processing does)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from kafkagram.db import transaction
from kafkagram.store import media as media_store
from kafkagram.store import posts as posts_store
from tests.support.api import create, publish, register
from tests.support.store import BLURHASH, make_media, variant


def _events(db: Any, kind: str, post_id: str) -> list[dict[str, Any]]:
    rows = db.run("SELECT payload FROM outbox WHERE payload->>'type' = :kind "
                  "AND payload->'data'->>'post_id' = :id", kind=kind, id=post_id)
    return [row[0] if isinstance(row[0], dict) else json.loads(row[0]) for row in rows]


def test_a_post_is_pending_until_its_media_are_processed(direct, db):
    alice, bob = register(direct), register(direct)
    media_id = make_media(db, int(alice.id), ready=False)  # uploaded, not processed yet
    reply = create(direct, alice, [media_id], "Hello @Bob #First")
    assert reply.status == 201, reply.body
    post = reply.json()
    assert post["status"] == "pending" and post["published_at"] is None
    assert post["author"]["id"] == alice.id and [m["id"] for m in post["media"]] == [str(media_id)]
    assert post["hashtags"] == ["first"] and post["mentions"] == ["bob"]
    assert direct.request("GET", f"/api/posts/{post['id']}", token=alice.access_token).status == 200
    hidden = direct.request("GET", f"/api/posts/{post['id']}", token=bob.access_token)
    assert hidden.status == 404 and hidden.error == "post-not-found"  # others see it once published
    assert _events(db, "post-created", post["id"]) == []

    with transaction(db):  # what the processing and publication handlers do
        media_store.mark_ready(db, media_id, 1080, 810, variant(media_id), BLURHASH)
        assert posts_store.publish_post_when_media_ready(db, int(post["id"]))
    shown = direct.request("GET", f"/api/posts/{post['id']}", token=bob.access_token)
    assert shown.status == 200 and shown.json()["status"] == "published"
    [shown_media] = shown.json()["media"]
    assert shown_media["width"] == 1080 and shown_media["blurhash"] == BLURHASH and shown_media["variants"]
    assert len(_events(db, "post-created", post["id"])) == 1


def test_create_and_get_through_the_gateway(gateway, redis_client, db):
    alice = register(gateway, redis_client)
    media_ids = [make_media(db, int(alice.id)) for _ in range(3)]
    reply = create(gateway, alice, media_ids, "three")
    assert reply.status == 201, reply.body
    assert reply.json()["status"] == "published"
    got = gateway.request("GET", f"/api/posts/{reply.json()['id']}", token=alice.access_token)
    assert got.status == 200 and [m["id"] for m in got.json()["media"]] == [str(m) for m in media_ids]


def test_another_users_media_cannot_be_used(direct, db):
    alice, mallory = register(direct), register(direct)
    theirs = make_media(db, int(alice.id))
    reply = create(direct, mallory, [theirs])
    assert reply.status == 403 and reply.error == "not-your-media"
    mine = make_media(db, int(mallory.id))
    assert create(direct, mallory, [mine, theirs]).status == 403


@pytest.mark.parametrize("body,status,code", [
    ({"caption": "", "media_ids": []}, 400, "invalid-request"),
    ({"caption": "", "media_ids": [str(n) for n in range(1, 12)]}, 400, "invalid-request"),
    ({"caption": "x" * 2201, "media_ids": ["1"]}, 400, "invalid-request"),
    ({"caption": "", "media_ids": ["abc"]}, 400, "invalid-request"),
    ({"caption": "", "media_ids": ["1"], "location": "x"}, 400, "invalid-request"),
    ({"caption": "", "media_ids": ["999999999999999"]}, 404, "media-not-found"),
])
def test_invalid_posts_are_refused(direct, body, status, code):
    alice = register(direct)
    reply = direct.request("POST", "/api/posts", token=alice.access_token, json_body=body)
    assert reply.status == status and reply.error == code, reply.body


def test_media_rules_duplicate_reused_or_avatar(direct, db):
    alice = register(direct)
    media_id = make_media(db, int(alice.id))
    duplicate = create(direct, alice, [media_id, media_id])
    assert duplicate.status == 400 and duplicate.error == "duplicate-media"
    assert create(direct, alice, [media_id]).status == 201
    reused = create(direct, alice, [media_id])
    assert reused.status == 409 and reused.error == "media-already-used"
    avatar = make_media(db, int(alice.id), purpose="avatar")
    refused = create(direct, alice, [avatar])
    assert refused.status == 400 and refused.error == "media-not-usable"


def test_only_the_author_deletes_a_post(direct, db):
    alice, bob = register(direct), register(direct)
    post = publish(direct, db, alice)
    path = f"/api/posts/{post['id']}"
    forbidden = direct.request("DELETE", path, token=bob.access_token)
    assert forbidden.status == 403 and forbidden.error == "not-your-post"
    assert direct.request("GET", path, token=bob.access_token).status == 200
    assert direct.request("DELETE", path, token=alice.access_token).status == 204
    assert direct.request("GET", path, token=alice.access_token).status == 404
    again = direct.request("DELETE", path, token=alice.access_token)
    assert again.status == 404 and again.error == "post-not-found"
    assert len(_events(db, "post-deleted", post["id"])) == 1
    profile = direct.request("GET", f"/api/users/{alice.username}", token=alice.access_token).json()
    assert profile["posts_count"] == 0


def test_bad_post_ids_are_400_or_404(direct):
    alice = register(direct)
    assert direct.request("GET", "/api/posts/abc", token=alice.access_token).status == 400
    assert direct.request("GET", "/api/posts/123456789", token=alice.access_token).status == 404
    assert direct.request("GET", "/api/posts/1").status == 401


def test_user_grid_pages_newest_first(direct, db):
    alice, bob = register(direct), register(direct)
    posted = [publish(direct, db, alice, caption=f"post {i}")["id"] for i in range(5)]
    create(direct, alice, [make_media(db, int(alice.id), ready=False)])  # pending: not in the grid
    deleted = publish(direct, db, alice)["id"]
    assert direct.request("DELETE", f"/api/posts/{deleted}", token=alice.access_token).status == 204
    seen, cursor, pages = [], None, 0
    while True:
        query = f"/api/users/{alice.username}/posts?limit=2" + (f"&cursor={cursor}" if cursor else "")
        page = direct.request("GET", query, token=bob.access_token)
        assert page.status == 200, page.body
        pages += 1
        seen += [item["id"] for item in page.json()["items"]]
        cursor = page.json()["next_cursor"]
        if cursor is None:
            break
    assert pages == 3 and seen == list(reversed(posted))
    missing = direct.request("GET", "/api/users/nobody_here_x/posts", token=bob.access_token)
    assert missing.status == 404 and missing.error == "user-not-found"
    bad = direct.request("GET", f"/api/users/{alice.username}/posts?cursor=xyz", token=bob.access_token)
    assert bad.status == 400 and bad.error == "invalid-cursor"

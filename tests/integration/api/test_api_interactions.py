"""Likes and comments through the API: idempotent likes with one event each, comment add, list,
paginate and delete rules, and validation answered 400 naming the field."""

from __future__ import annotations

from kafkagram.db import transaction
from kafkagram.store import posts as posts_store
from tests.support.api import register
from tests.support.store import events, make_post


def _likes_count(db, post_id: int) -> int:
    [[count]] = db.run("SELECT likes_count FROM posts WHERE id = :id", id=post_id)
    return count


def test_like_and_unlike_are_idempotent_with_one_event_each_through_the_gateway(gateway, redis_client, db):
    ada, bob = register(gateway, redis_client), register(gateway, redis_client)
    post = make_post(db, int(ada.id))
    path = f"/api/posts/{post.id}/like"
    for _ in range(2):
        assert gateway.request("PUT", path, token=bob.access_token).status == 204
    assert _likes_count(db, post.id) == 1
    assert len(events(db, "like-given", post.id)) == 1  # committed with the like, once
    for _ in range(2):
        assert gateway.request("DELETE", path, token=bob.access_token).status == 204
    assert _likes_count(db, post.id) == 0
    [removed] = events(db, "like-removed", post.id)
    assert removed["data"] == {"post_id": str(post.id), "post_author_id": ada.id, "user_id": bob.id}


def test_liking_an_unknown_or_deleted_post_is_404(direct, db):
    ada = register(direct)
    post = make_post(db, int(ada.id))
    with transaction(db):
        posts_store.delete_post(db, post.id, int(ada.id))
    for post_id in (post.id, 1, 9999999999999999999):  # deleted, never existed, past bigint
        for method in ("PUT", "DELETE"):
            reply = direct.request(method, f"/api/posts/{post_id}/like", token=ada.access_token)
            assert reply.status == 404 and reply.error == "post-not-found", (method, post_id, reply.body)


def test_a_malformed_post_id_is_400_naming_it(direct):
    ada = register(direct)
    reply = direct.request("PUT", "/api/posts/abc/like", token=ada.access_token)
    assert reply.status == 400 and reply.error == "invalid-request"
    assert reply.json()["message"].startswith("post_id (path)")


def test_likes_need_a_token(direct, db):
    ada = register(direct)
    post = make_post(db, int(ada.id))
    assert direct.request("PUT", f"/api/posts/{post.id}/like").status == 401


def test_comment_added_listed_and_paginated_oldest_first(direct, db):
    ada, bob = register(direct), register(direct)
    post = make_post(db, int(ada.id))
    path = f"/api/posts/{post.id}/comments"
    bodies = [f"comment {i} @{ada.username}" for i in range(5)]
    for body in bodies:
        reply = direct.request("POST", path, json_body={"body": f"  {body} "}, token=bob.access_token)
        assert reply.status == 201, reply.body
        created = reply.json()
        assert created["body"] == body and created["post_id"] == str(post.id)  # stored trimmed
        assert created["author"]["username"] == bob.username
    [added, *_] = events(db, "comment-added", post.id)
    assert added["data"]["mentioned_user_ids"] == [ada.id]  # mentions parsed by the store
    [[comments_count]] = db.run("SELECT comments_count FROM posts WHERE id = :id", id=post.id)
    assert comments_count == 5

    seen, cursor, pages = [], None, 0
    while True:
        reply = direct.request("GET", f"{path}?limit=2" + (f"&cursor={cursor}" if cursor else ""),
                               token=ada.access_token)
        assert reply.status == 200, reply.body
        pages += 1
        seen += [item["body"] for item in reply.json()["items"]]
        cursor = reply.json()["next_cursor"]
        if cursor is None:
            break
    assert pages == 3 and seen == bodies


def test_comments_of_an_unknown_post_are_404(direct):
    ada = register(direct)
    for method, body in (("GET", None), ("POST", {"body": "hi"})):
        reply = direct.request(method, "/api/posts/1/comments", json_body=body, token=ada.access_token)
        assert reply.status == 404 and reply.error == "post-not-found"


def test_comment_validation_is_400_naming_the_field(direct, db):
    ada = register(direct)
    post = make_post(db, int(ada.id))
    path = f"/api/posts/{post.id}/comments"
    cases = [
        ({"body": ""}, "invalid-request", "body:"),
        ({"body": "x" * 2201}, "invalid-request", "body:"),
        ({}, "invalid-request", "body:"),
        ({"body": "hi", "extra": 1}, "invalid-request", "extra:"),
        ({"body": "   "}, "empty-comment", "empty"),
    ]
    for sent, code, text in cases:
        reply = direct.request("POST", path, json_body=sent, token=ada.access_token)
        assert reply.status == 400 and reply.error == code, (sent, reply.body)
        assert text in reply.json()["message"], (sent, reply.body)
    reply = direct.request("GET", f"{path}?cursor=abc", token=ada.access_token)
    assert reply.status == 400 and reply.error == "invalid-cursor"
    reply = direct.request("GET", f"{path}?limit=0", token=ada.access_token)
    assert reply.status == 400 and reply.json()["message"].startswith("limit (query)")
    assert not events(db, "comment-added", post.id)


def test_comment_deletion_by_author_or_post_owner_only(direct, db):
    owner, writer, stranger = register(direct), register(direct), register(direct)
    post = make_post(db, int(owner.id))
    path = f"/api/posts/{post.id}/comments"
    first, second = (direct.request("POST", path, json_body={"body": text}, token=writer.access_token).json()["id"]
                     for text in ("first", "second"))

    reply = direct.request("DELETE", f"{path}/{first}", token=stranger.access_token)
    assert reply.status == 403 and reply.error == "not-your-comment"
    assert direct.request("DELETE", f"{path}/{first}", token=writer.access_token).status == 204
    assert direct.request("DELETE", f"{path}/{second}", token=owner.access_token).status == 204
    reply = direct.request("DELETE", f"{path}/{first}", token=writer.access_token)
    assert reply.status == 404 and reply.error == "comment-not-found"  # already deleted
    assert direct.request("GET", path, token=stranger.access_token).json()["items"] == []
    assert len(events(db, "comment-deleted", post.id)) == 2
    [[comments_count]] = db.run("SELECT comments_count FROM posts WHERE id = :id", id=post.id)
    assert comments_count == 0


def test_a_comment_is_only_deleted_through_its_own_post(direct, db):
    owner, writer = register(direct), register(direct)
    post, other = make_post(db, int(owner.id)), make_post(db, int(writer.id))
    comment = direct.request("POST", f"/api/posts/{post.id}/comments", json_body={"body": "hi"},
                             token=writer.access_token).json()["id"]
    reply = direct.request("DELETE", f"/api/posts/{other.id}/comments/{comment}", token=writer.access_token)
    assert reply.status == 404 and reply.error == "comment-not-found"
    assert len(direct.request("GET", f"/api/posts/{post.id}/comments", token=owner.access_token).json()["items"]) == 1

"""The design's four use cases, end to end under `kafkagram up`, through the HTTP API, the browser's
presigned POST to S3, Kafka and WebSocket clients; nothing is called in-process.

1. A post reaches every follower's home timeline and their open WebSockets.
2. Upload -> processing -> variants in S3 -> post attached -> published -> timelines.
3. A like reaches the post's owner as a live notification.
4. A new follow backfills the follower's timeline; an unfollow removes those posts again.
"""

from __future__ import annotations

import io
import json
import os
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
import redis
import requests
from PIL import Image
from websockets.sync.client import ClientConnection, connect

from kafkagram.auth.ratelimit import AUTH_PER_IP
from tests.support.api import reset_bucket
from tests.support.images import bilevel_png
from tests.support.services import create_test_database
from tests.support.up import api_call, running_up
from tests.support.waiting import wait_for

pytestmark = pytest.mark.slow

# The first event of a run starts cold sandboxes behind two or three mappings, on 2 cores.
WAIT_S = 90.0
PHOTO_SIZE = (1600, 1200)  # wider than the widest variant: all three widths are made


@dataclass(frozen=True)
class Stack:
    ports: dict[str, int]
    database_url: str

    def call(self, method: str, path: str, body: dict[str, Any] | None = None,
             token: str | None = None) -> tuple[int, Any]:
        return api_call(self.ports["http"], method, path, body, token)

    def socket(self, user: User) -> ClientConnection:
        return connect(f"ws://127.0.0.1:{self.ports['ws']}/local?token={user.token}", proxy=None,
                       open_timeout=WAIT_S)


@dataclass(frozen=True)
class User:
    id: str
    username: str
    token: str


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    database_url = create_test_database("kafkagram_use_cases", migrated=False)
    with running_up(database_url, tmp_path_factory.mktemp("use-cases")) as ports:
        yield Stack(ports, database_url)


def register(stack: Stack, prefix: str) -> User:
    # Every request comes from 127.0.0.1: its registration bucket is emptied so the module may add users.
    reset_bucket(redis.Redis.from_url(os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")),
                 AUTH_PER_IP, "127.0.0.1")
    username = f"{prefix}_{uuid.uuid4().hex[:8]}"
    status, body = stack.call("POST", "/api/auth/register", {
        "username": username, "email": f"{username}@example.org", "password": "correct horse battery"})
    assert status == 202, body  # registration does not log in (it must not reveal taken emails)
    status, body = stack.call("POST", "/api/auth/login", {"username": username, "password": "correct horse battery"})
    assert status == 200, body
    return User(body["user"]["id"], username, body["access_token"])


def follow(stack: Stack, follower: User, followee: User) -> None:
    status, body = stack.call("PUT", f"/api/users/{followee.username}/follow", token=follower.token)
    assert status == 204, body


def jpeg(size: tuple[int, int] = PHOTO_SIZE) -> bytes:
    image = Image.linear_gradient("L").resize(size).convert("RGB")
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=85)
    return buffer.getvalue()


def upload(stack: Stack, user: User, data: bytes, *, purpose: str = "post",
           content_type: str = "image/jpeg") -> dict[str, Any]:
    """What the browser does: ask for a form, POST the file straight to S3, then complete."""
    status, form = stack.call("POST", "/api/media", {"purpose": purpose, "content_type": content_type,
                                                     "size": len(data)}, user.token)
    assert status == 201, form
    sent = requests.post(form["upload"]["url"], data=form["upload"]["fields"],
                         files={"file": ("photo.jpg", data, content_type)}, timeout=30)
    assert sent.status_code in (200, 201, 204), sent.text
    status, media = stack.call("POST", f"/api/media/{form['media']['id']}/complete", token=user.token)
    assert status == 200 and media["status"] == "uploaded", media
    return dict(media)


def publish_photo(stack: Stack, author: User, caption: str) -> dict[str, Any]:
    """Upload a photo, post it, and wait until processing has published it; returns the post."""
    media = upload(stack, author, jpeg())
    status, post = stack.call("POST", "/api/posts", {"caption": caption, "media_ids": [media["id"]]}, author.token)
    assert status == 201, post
    assert post["status"] in ("pending", "published")  # published already if processing was quicker
    return wait_for(lambda: published(stack, author, post["id"]), timeout=WAIT_S, message="the post published")


def published(stack: Stack, viewer: User, post_id: str) -> dict[str, Any] | None:
    status, post = stack.call("GET", f"/api/posts/{post_id}", token=viewer.token)
    assert status == 200, post
    return dict(post) if post["status"] == "published" else None


def timeline_ids(stack: Stack, user: User) -> list[str]:
    status, page = stack.call("GET", "/api/timeline?limit=50", token=user.token)
    assert status == 200, page
    return [post["id"] for post in page["items"]]


def next_of_type(client: ClientConnection, type_name: str) -> dict[str, Any]:
    """The next live message of that type (other updates may come first)."""
    while True:
        message = json.loads(client.recv(timeout=WAIT_S))
        if message["type"] == type_name:
            return dict(message)


def fetch_image(url: str) -> Image.Image:
    response = requests.get(url, timeout=30)
    assert response.status_code == 200, (url, response.status_code)
    image = Image.open(io.BytesIO(response.content))
    image.load()
    return image


def test_a_photo_goes_from_upload_to_followers_timelines_and_open_sockets(stack: Stack) -> None:
    author, connected, offline, stranger = (register(stack, name) for name in ("ana", "ben", "cy", "dee"))
    for follower in (connected, offline):
        follow(stack, follower, author)
        assert timeline_ids(stack, follower) == []  # read once: an active user, with a timeline to fan out to

    with stack.socket(connected) as socket:
        post = publish_photo(stack, author, "first light #sunrise with @" + connected.username)
        update = next_of_type(socket, "timeline-updated")
        assert update["data"]["action"] == "added" and update["data"]["post_ids"] == [post["id"]]
        assert update["data"]["author_id"] == author.id

    # Processing: three variants in S3, widest first, each a real JPEG of its width; a placeholder.
    [media] = post["media"]
    assert (media["width"], media["height"]) == PHOTO_SIZE and media["blurhash"]
    assert [variant["width"] for variant in media["variants"]] == [1080, 640, 320]
    for variant in media["variants"]:
        image = fetch_image(variant["url"])
        assert image.format == "JPEG" and image.size == (variant["width"], variant["height"])
    assert post["hashtags"] == ["sunrise"] and post["mentions"] == [connected.username]

    for follower in (connected, offline):
        assert wait_for(lambda f=follower: post["id"] in timeline_ids(stack, f), timeout=WAIT_S,
                        message=f"the post in {follower.username}'s timeline")
    assert post["id"] not in timeline_ids(stack, stranger)
    status, grid = stack.call("GET", f"/api/users/{author.username}/posts", token=stranger.token)
    assert status == 200 and [item["id"] for item in grid["items"]] == [post["id"]]


def test_a_like_reaches_the_owner_as_a_live_grouped_notification(stack: Stack) -> None:
    owner, first, second = (register(stack, name) for name in ("eve", "fay", "gus"))
    post = publish_photo(stack, owner, "likes welcome")
    with stack.socket(owner) as socket:
        status, _ = stack.call("PUT", f"/api/posts/{post['id']}/like", token=first.token)
        assert status == 204
        live = next_of_type(socket, "notification-created")
        assert live["data"]["kind"] == "like" and live["data"]["post_id"] == post["id"]
        assert live["data"]["from_user_id"] == first.id

        status, _ = stack.call("PUT", f"/api/posts/{post['id']}/like", token=second.token)
        assert status == 204
        assert next_of_type(socket, "notification-created")["data"]["from_user_id"] == second.id

    status, unread = stack.call("GET", "/api/notifications/unread-count", token=owner.token)
    assert status == 200 and unread["count"] == 1, unread  # both likes are one group
    status, page = stack.call("GET", "/api/notifications", token=owner.token)
    assert status == 200
    [group] = page["items"]
    assert group["kind"] == "like" and group["actor_count"] == 2
    assert [actor["username"] for actor in group["actors"]] == [second.username, first.username]
    status, liked = stack.call("GET", f"/api/posts/{post['id']}", token=owner.token)
    assert liked["likes_count"] == 2


def test_a_follow_backfills_the_timeline_and_an_unfollow_removes_it(stack: Stack) -> None:
    author, reader = register(stack, "hal"), register(stack, "ivy")
    older, newer = publish_photo(stack, author, "older"), publish_photo(stack, author, "newer")
    assert timeline_ids(stack, reader) == []  # the reader's timeline exists, empty, before the follow

    follow(stack, reader, author)
    wait_for(lambda: timeline_ids(stack, reader) == [newer["id"], older["id"]], timeout=WAIT_S,
             message="the followee's posts backfilled, newest first")

    status, _ = stack.call("DELETE", f"/api/users/{author.username}/follow", token=reader.token)
    assert status == 204
    wait_for(lambda: timeline_ids(stack, reader) == [], timeout=WAIT_S, message="the posts removed after unfollow")


def test_a_processed_avatar_becomes_the_profile_picture(stack: Stack) -> None:
    user = register(stack, "jon")
    media = upload(stack, user, jpeg((800, 800)), purpose="avatar")

    def avatar_url() -> str | None:
        status, me = stack.call("GET", "/api/me", token=user.token)
        assert status == 200, me
        return me["avatar_url"] if me["avatar_media_id"] == media["id"] else None

    url = wait_for(avatar_url, timeout=WAIT_S, message="the avatar on the profile")
    assert fetch_image(url).size == (320, 320)  # the smallest variant, for lists and headers



@pytest.mark.parametrize(("data", "content_type", "reason"), [
    (b"Dear diary, this is not a picture.\n" * 20, "image/jpeg", "not-an-image"),
    (b"", "image/jpeg", "truncated"),  # replaced below by the first bytes of a real JPEG
    (bilevel_png(10_000, 10_000), "image/png", "too-many-pixels"),
], ids=["text-renamed-jpg", "truncated-jpeg", "decompression-bomb"])
def test_a_malicious_upload_fails_its_post_with_the_reason_and_leaves_nothing(
        stack: Stack, data: bytes, content_type: str, reason: str) -> None:
    author, follower = register(stack, "lou"), register(stack, "max")
    follow(stack, follower, author)
    data = data or jpeg((800, 600))[:6000]
    media = upload(stack, author, data, content_type=content_type)  # S3 and complete see only size and type
    status, post = stack.call("POST", "/api/posts", {"caption": "trust me", "media_ids": [media["id"]]}, author.token)
    assert status == 201 and post["status"] == "pending", post

    def failed() -> dict[str, Any] | None:
        status, body = stack.call("GET", f"/api/posts/{post['id']}", token=author.token)
        assert status == 200, body
        return dict(body) if body["status"] == "failed" else None

    assert wait_for(failed, timeout=WAIT_S, message="the post failed")["failure_reason"] == reason
    status, refused = stack.call("GET", f"/api/media/{media['id']}", token=author.token)
    assert (refused["status"], refused["failure_reason"]) == ("failed", reason) and refused["failure_message"]
    # Nothing of it is visible to anyone else, and no variant was written.
    assert stack.call("GET", f"/api/posts/{post['id']}", token=follower.token)[0] == 404
    assert timeline_ids(stack, follower) == []
    status, profile = stack.call("GET", f"/api/users/{author.username}", token=follower.token)
    assert profile["posts_count"] == 0
    assert requests.get(f"http://127.0.0.1:{stack.ports['s3']}/kafkagram-media/media/{media['id']}/320.jpg",
                        timeout=10).status_code in (403, 404)


def test_people_cannot_touch_what_is_not_theirs(stack: Stack) -> None:
    owner, other = register(stack, "nia"), register(stack, "oz")
    post = publish_photo(stack, owner, "mine")
    status, comment = stack.call("POST", f"/api/posts/{post['id']}/comments", {"body": "nice"}, owner.token)
    assert status == 201, comment
    media = upload(stack, owner, jpeg((64, 64)))

    refusals = [
        ("DELETE", f"/api/posts/{post['id']}", None, 403),
        ("DELETE", f"/api/posts/{post['id']}/comments/{comment['id']}", None, 403),
        ("POST", f"/api/media/{media['id']}/complete", None, 403),
        ("GET", f"/api/media/{media['id']}", None, 404),
        ("POST", "/api/posts", {"caption": "stolen", "media_ids": [media["id"]]}, 403),
        ("PUT", f"/api/users/{other.username}/follow", None, 400),  # following oneself
    ]
    for method, path, body, expected in refusals:
        status, reply = stack.call(method, path, body, other.token)
        assert status == expected, (method, path, reply)
        assert reply["error"] and reply["message"], reply
    for method, path in (("GET", "/api/timeline"), ("GET", "/api/me"), ("PUT", f"/api/posts/{post['id']}/like")):
        status, reply = stack.call(method, path)
        assert status == 401 and reply["error"], (method, path, reply)
    assert published(stack, owner, post["id"]) is not None  # still there

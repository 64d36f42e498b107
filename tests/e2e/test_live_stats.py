"""Live likes and comments for everyone looking at a post, in real headless chromium against `kafkagram up`.

Ada follows Bob and reads her feed; Bob's post is on her screen, so her tab watches it over the
WebSocket. Cy, a third person, likes and comments through the HTTP API: Ada's card shows the new counts
without a reload. On the post's own page Ada likes it herself (optimistic) and still sees Cy's unlike
and like arrive. Everything crosses the outbox relay, Kafka, the post-stats function and the gateway.
"""

from __future__ import annotations

import io
import os
import re
import uuid
from typing import Any

import pytest
import redis
import requests
from PIL import Image
from playwright.sync_api import Browser, expect

from kafkagram.auth.ratelimit import AUTH_PER_IP
from tests.e2e.test_web_app import DESKTOP, LIVE_MS, new_context
from tests.support.api import reset_bucket
from tests.support.browser import WebStack
from tests.support.up import api_call
from tests.support.waiting import wait_for

PASSWORD = "correct horse battery"


def register(stack: WebStack, prefix: str) -> dict[str, Any]:
    """A user through the API, logged in: its login answer (user, access_token...)."""
    # Every request comes from 127.0.0.1: its auth bucket is emptied so the module may add users.
    reset_bucket(redis.Redis.from_url(os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")), AUTH_PER_IP,
                 "127.0.0.1")
    username = f"{prefix}_{uuid.uuid4().hex[:8]}"
    port = stack.ports["http"]
    status, body = api_call(port, "POST", "/api/auth/register",
                            {"username": username, "email": f"{username}@example.org", "password": PASSWORD})
    assert status == 202, body
    status, body = api_call(port, "POST", "/api/auth/login", {"username": username, "password": PASSWORD})
    assert status == 200, body
    return dict(body)


def call(stack: WebStack, method: str, path: str, user: dict[str, Any], body: dict[str, Any] | None = None) -> Any:
    status, answer = api_call(stack.ports["http"], method, path, body, user["access_token"])
    assert status < 300, (method, path, status, answer)
    return answer


def publish_photo(stack: WebStack, author: dict[str, Any]) -> dict[str, Any]:
    """What the web app does: a presigned POST straight to S3, complete, post; then wait for publication."""
    image = Image.linear_gradient("L").resize((800, 600)).convert("RGB")
    data = io.BytesIO()
    image.save(data, "JPEG", quality=85)
    form = call(stack, "POST", "/api/media", author,
                {"purpose": "post", "content_type": "image/jpeg", "size": len(data.getvalue())})
    sent = requests.post(form["upload"]["url"], data=form["upload"]["fields"],
                         files={"file": ("photo.jpg", data.getvalue(), "image/jpeg")}, timeout=30)
    assert sent.status_code in (200, 201, 204), sent.text
    call(stack, "POST", f"/api/media/{form['media']['id']}/complete", author)
    post = call(stack, "POST", "/api/posts", author, {"caption": "Live counts", "media_ids": [form["media"]["id"]]})
    return dict(wait_for(lambda: (p := call(stack, "GET", f"/api/posts/{post['id']}", author))["status"] == "published"
                         and p, timeout=LIVE_MS / 1000, message="the post published"))


@pytest.mark.slow
def test_everyone_looking_at_a_post_sees_its_likes_and_comments_change_live(web_stack: WebStack,
                                                                             browser: Browser) -> None:
    ada, bob, cy = (register(web_stack, name) for name in ("ada", "bob", "cy"))
    bob_name = bob["user"]["username"]
    call(web_stack, "PUT", f"/api/users/{bob_name}/follow", ada)
    post = publish_photo(web_stack, bob)
    wait_for(lambda: post["id"] in [p["id"] for p in call(web_stack, "GET", "/api/timeline", ada)["items"]],
             timeout=LIVE_MS / 1000, message="the post in Ada's timeline")
    errors: list[str] = []
    context, page = new_context(browser, DESKTOP, errors)
    try:
        page.goto(web_stack.url("/login"))
        page.get_by_label("Username or email").fill(ada["user"]["username"])
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Log in").click()
        card = page.get_by_role("article", name=f"Post by {bob_name}")
        expect(card.get_by_test_id("likes-count")).to_have_text("0 likes")
        expect(page.locator("html")).to_have_attribute("data-live", "open", timeout=LIVE_MS)

        # Cy likes and comments through the API; Ada's card follows without a reload.
        call(web_stack, "PUT", f"/api/posts/{post['id']}/like", cy)
        expect(card.get_by_test_id("likes-count")).to_have_text("1 like", timeout=LIVE_MS)
        call(web_stack, "POST", f"/api/posts/{post['id']}/comments", cy, {"body": "Lovely light"})
        expect(card.get_by_role("link", name="View 1 comment")).to_be_visible(timeout=LIVE_MS)

        # On the post's own page: Ada's optimistic like, then Cy's unlike and like again, live.
        card.get_by_role("link", name="View 1 comment").click()
        expect(page).to_have_url(re.compile(f"/p/{post['id']}"))
        detail = page.get_by_role("article", name=f"Post by {bob_name}")
        expect(detail.get_by_test_id("likes-count")).to_have_text("1 like")
        detail.get_by_role("button", name="Like").click()
        expect(detail.get_by_role("button", name="Unlike")).to_have_attribute("aria-pressed", "true")
        expect(detail.get_by_test_id("likes-count")).to_have_text("2 likes")
        call(web_stack, "DELETE", f"/api/posts/{post['id']}/like", cy)
        expect(detail.get_by_test_id("likes-count")).to_have_text("1 like", timeout=LIVE_MS)
        call(web_stack, "PUT", f"/api/posts/{post['id']}/like", cy)
        expect(detail.get_by_test_id("likes-count")).to_have_text("2 likes", timeout=LIVE_MS)
        expect(detail.get_by_role("button", name="Unlike")).to_have_attribute("aria-pressed", "true")
        assert errors == [], errors
    finally:
        context.close()

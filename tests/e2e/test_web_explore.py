"""Explore in real headless chromium against `kafkagram up`: Bob posts a photo with a tag; Ada follows
Carol, who follows Bob. Ada's Explore shows Bob's post in the grid (kept current by the Explore function
from post-events), Bob as a suggestion with one mutual, and the tag trending. Once Bob deletes the post
it leaves her grid and the tag its list; she follows Bob from the suggestion."""

from __future__ import annotations

import re
import uuid
from typing import Any

import pytest
from playwright.sync_api import Browser, expect

from tests.e2e.test_use_cases import WAIT_S, Stack, User, follow, publish_photo, register
from tests.e2e.test_web_app import PHONE, new_context, no_horizontal_scroll, shot
from tests.support.browser import WebStack
from tests.support.waiting import wait_for


def explore_ids(stack: Stack, user: User) -> list[str]:
    status, page = stack.call("GET", "/api/explore/posts?limit=100", token=user.token)
    assert status == 200, page
    return [post["id"] for post in page["items"]]


def trending(stack: Stack, user: User) -> dict[str, Any]:
    status, tags = stack.call("GET", "/api/explore/tags?limit=50", token=user.token)
    assert status == 200, tags
    return {item["tag"]: item["posts"] for item in tags["items"]}


@pytest.mark.slow
def test_explore_shows_the_grid_a_suggestion_and_a_trending_tag(web_stack: WebStack, browser: Browser) -> None:
    stack = Stack(web_stack.ports, database_url="")  # the API helpers of the use cases, on this stack
    bob, carol, ada = register(stack, "bob"), register(stack, "carol"), register(stack, "ada")
    follow(stack, ada, carol)
    follow(stack, carol, bob)
    tag = f"glow{uuid.uuid4().hex[:6]}"
    post = publish_photo(stack, bob, f"Golden hour #{tag}")
    errors: list[str] = []
    context, page = new_context(browser, PHONE, errors)
    try:
        # The Explore function has handled post-created once the API lists it (a condition, not a sleep).
        wait_for(lambda: post["id"] in explore_ids(stack, ada), timeout=WAIT_S, message="the post in Explore")
        wait_for(lambda: tag in trending(stack, ada), timeout=WAIT_S, message="the tag trending")

        page.goto(web_stack.url("/login"))
        page.get_by_label("Username or email").fill(ada.username)
        page.get_by_label("Password").fill("correct horse battery")
        page.get_by_role("button", name="Log in").click()
        expect(page.get_by_role("link", name="Explore", exact=True)).to_be_visible()
        page.goto(web_stack.url("/explore"))

        tile = page.get_by_role("link", name=re.compile(f"^Post by {bob.username}: Golden hour"))
        expect(tile).to_have_attribute("href", f"/p/{post['id']}")
        picture = tile.get_by_role("img")
        expect(picture).to_have_attribute("srcset", re.compile(r"320w"))
        page.wait_for_function("(img) => img.complete && img.naturalWidth > 0", arg=picture.element_handle())
        box = tile.bounding_box()
        assert box is not None and abs(box["width"] - box["height"]) <= 1, box  # a square thumbnail

        suggestions = page.get_by_role("list", name="Suggested people")
        bob_row = suggestions.get_by_role("listitem").filter(has_text=bob.username)
        expect(bob_row).to_contain_text("Followed by 1 person you follow")
        expect(suggestions).not_to_contain_text(carol.username)  # followed already
        expect(page.get_by_role("link", name=tag, exact=True)).to_have_attribute("href", f"/t/{tag}")
        expect(page.get_by_label("Search people by username")).to_be_visible()  # search stays
        no_horizontal_scroll(page)
        shot(page, "explore-phone")

        # Bob deletes the post: the Explore function takes its tag back, and it leaves the grid.
        status, body = stack.call("DELETE", f"/api/posts/{post['id']}", token=bob.token)
        assert status == 204, body
        wait_for(lambda: tag not in trending(stack, ada), timeout=WAIT_S, message="the tag taken back")
        page.reload()
        expect(page.get_by_role("heading", name="Popular now")).to_be_visible()
        expect(page.get_by_role("link", name=re.compile(f"^Post by {bob.username}"))).to_have_count(0)
        expect(page.get_by_role("link", name=tag, exact=True)).to_have_count(0)

        # Ada follows Bob from the suggestion.
        bob_row = suggestions.get_by_role("listitem").filter(has_text=bob.username)
        bob_row.get_by_role("button", name=f"Follow {bob.username}").click()
        following = bob_row.get_by_role("button", name=f"Following {bob.username}")
        expect(following).to_have_attribute("aria-pressed", "true")
        wait_for(lambda: stack.call("GET", f"/api/users/{bob.username}", token=ada.token)[1]["is_following"],
                 timeout=WAIT_S, message="the follow stored")
        assert errors == [], errors
    finally:
        context.close()
        # The stack's Redis outlives it: a failed run takes its tag back too (404 once deleted above).
        assert stack.call("DELETE", f"/api/posts/{post['id']}", token=bob.token)[0] in (204, 404)

"""The web app in real headless chromium against `kafkagram up`: the whole story of two people.

Ada (a phone-sized window) registers and follows Bob; Bob (a desktop window) has a text file and an
oversized file refused, then uploads a photo straight to S3 and posts it; Ada's open feed shows the
"new posts" pill and then the post without a reload; Ada likes it; Bob's notification badge changes
live. Screenshots of the main screens go to artifacts/screenshots/.
"""

from __future__ import annotations

import io
import re
import uuid

import pytest
from PIL import Image, ImageDraw
from playwright.sync_api import Browser, BrowserContext, FilePayload, Page, ViewportSize, expect

from tests.support.browser import SCREENSHOTS, WebStack

PHONE = ViewportSize(width=390, height=844)
DESKTOP = ViewportSize(width=1280, height=860)
LIVE_MS = 90_000  # a push crosses the outbox relay, Kafka and two or three cold sandboxes on 2 cores
UI_MS = 30_000  # the first request to each function starts a cold sandbox
expect.set_options(timeout=UI_MS)


def photo() -> bytes:
    """A 1200x900 JPEG: a sunset-like gradient with a sun, so the variants and the blurhash have something."""
    image = Image.new("RGB", (1200, 900))
    draw = ImageDraw.Draw(image)
    for y in range(900):
        draw.line([(0, y), (1200, y)], fill=(250 - y // 6, 120 + y // 10, 90 + y // 5))
    draw.ellipse([480, 420, 720, 660], fill=(255, 214, 102))
    draw.rectangle([0, 700, 1200, 900], fill=(30, 60, 110))
    out = io.BytesIO()
    image.save(out, "JPEG", quality=88)
    return out.getvalue()


def shot(page: Page, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"web-{name}.png"))


def no_horizontal_scroll(page: Page) -> None:
    width = page.evaluate("() => [document.documentElement.scrollWidth, window.innerWidth]")
    assert width[0] <= width[1], f"the page is {width[0]} px wide in a {width[1]} px window"


def new_context(browser: Browser, viewport: ViewportSize, errors: list[str]) -> tuple[BrowserContext, Page]:
    # Reduced motion: the app then skips its transitions, so screenshots never catch one half-way.
    context = browser.new_context(viewport=viewport, color_scheme="light", reduced_motion="reduce")
    context.set_default_timeout(UI_MS)
    page = context.new_page()
    page.on("pageerror", lambda error: errors.append(str(error)))
    return context, page


def register(page: Page, stack: WebStack, username: str, name: str) -> None:
    page.goto(stack.url("/register"))
    page.get_by_label("Username").fill(username)
    page.get_by_label("Name (optional)").fill(name)
    page.get_by_label("Email").fill(f"{username}@example.org")
    page.get_by_label("Password", exact=True).fill("correct horse battery")
    page.get_by_role("button", name="Sign up").click()
    expect(page).to_have_url(re.compile(r"/explore$"))


@pytest.mark.slow
def test_follow_post_live_feed_like_and_live_badge(web_stack: WebStack, browser: Browser) -> None:
    suffix = uuid.uuid4().hex[:6]
    ada_name, bob_name = f"ada_{suffix}", f"bob_{suffix}"
    errors: list[str] = []
    ada_context, ada = new_context(browser, PHONE, errors)
    bob_context, bob = new_context(browser, DESKTOP, errors)
    try:
        # Validation messages appear next to the fields, before anything is sent.
        bob.goto(web_stack.url("/register"))
        bob.get_by_label("Username").fill("not valid!")
        bob.get_by_role("button", name="Sign up").click()
        expect(bob.get_by_text("Use 1 to 30 letters, digits, dots or underscores.")).to_be_visible()
        expect(bob.get_by_text("Enter your email address.")).to_be_visible()
        shot(bob, "register-validation")

        register(bob, web_stack, bob_name, "Bob Builder")
        register(ada, web_stack, ada_name, "Ada Lovelace")

        # Ada finds Bob and follows him.
        ada.get_by_label("Search people by username").fill(bob_name[:6])
        ada.get_by_role("link", name=re.compile(bob_name)).click()
        expect(ada).to_have_url(re.compile(f"/u/{bob_name}$"))
        ada.get_by_role("button", name="Follow", exact=True).click()
        expect(ada.get_by_role("button", name="Following", exact=True)).to_be_visible()
        expect(ada.get_by_role("button", name=re.compile(r"^1\s*followers$"))).to_be_visible()
        no_horizontal_scroll(ada)

        # Ada reads her (empty) feed with the WebSocket open.
        ada.get_by_role("link", name="Home", exact=True).click()
        expect(ada.get_by_text("Your feed is empty")).to_be_visible()
        expect(ada.locator("html")).to_have_attribute("data-live", "open", timeout=LIVE_MS)
        no_horizontal_scroll(ada)

        # Bob: refused files say why.
        bob.goto(f"{web_stack.origin}/new")
        bob.locator("#post-files").set_input_files([
            FilePayload(name="notes.txt", mimeType="text/plain", buffer=b"not a picture"),
            FilePayload(name="huge.jpg", mimeType="image/jpeg", buffer=b"\xff" * (21 * 1024 * 1024)),
        ])
        refused_text = "notes.txt is not a supported image: choose a JPEG, PNG or WebP picture."
        expect(bob.get_by_text(refused_text)).to_be_visible()
        expect(bob.get_by_text(re.compile(r"huge\.jpg is too large \(21\.0 MB\); the limit is 20 MB"))).to_be_visible()
        shot(bob, "upload-refused")

        # Bob uploads a photo straight to S3 and posts it.
        sunset = FilePayload(name="sunset.jpg", mimeType="image/jpeg", buffer=photo())
        bob.locator("#post-files").set_input_files([sunset])
        expect(bob.get_by_alt_text("Preview of sunset.jpg")).to_be_visible()
        bob.get_by_label("Caption").fill(f"Sunset at the lake #kafkagram with @{ada_name}")
        expect(bob.get_by_text("41/2200").or_(bob.get_by_text(re.compile(r"^\d+/2200$")))).to_be_visible()
        bob.get_by_role("button", name="Share").click()
        expect(bob).to_have_url(re.compile(r"/$"), timeout=LIVE_MS)
        bob_post = bob.get_by_role("article", name=f"Post by {bob_name}")
        expect(bob_post).to_be_visible()
        expect(bob.get_by_text("Your post is live.", exact=True)).to_be_visible()
        expect(bob.locator("html")).to_have_attribute("data-live", "open", timeout=LIVE_MS)

        # Ada sees it arrive without reloading: the pill, then the post with its picture from S3.
        pill = ada.get_by_role("button", name=re.compile(r"1 new post"))
        expect(pill).to_be_visible(timeout=LIVE_MS)
        shot(ada, "feed-new-posts-pill-phone")
        pill.click()
        post = ada.get_by_role("article", name=f"Post by {bob_name}")
        expect(post).to_be_visible()
        picture = post.get_by_role("img", name=re.compile(f"Photo by {bob_name}"))
        expect(picture).to_have_attribute("srcset", re.compile(r"320w.*640w.*1080w"))
        expect(post.locator("canvas")).to_have_count(1)  # the blurhash placeholder under the picture
        ada.wait_for_function("(img) => img.complete && img.naturalWidth > 0", arg=picture.element_handle(),
                              timeout=UI_MS)
        no_horizontal_scroll(ada)

        # Ada likes it (optimistic), and Bob's badge changes live: from 1 (Ada's follow) to 2.
        expect(bob.get_by_test_id("unread-badge")).to_have_text("1", timeout=LIVE_MS)
        post.get_by_role("button", name="Like").click()
        expect(post.get_by_role("button", name="Unlike")).to_have_attribute("aria-pressed", "true")
        expect(post.get_by_test_id("likes-count")).to_have_text("1 like")
        shot(ada, "feed-phone")
        expect(bob.get_by_test_id("unread-badge")).to_have_text("2", timeout=LIVE_MS)
        expect(bob.get_by_role("link", name="Notifications (2 unread)")).to_be_visible()
        expect(bob_post).to_be_visible()  # one's own post stays in one's feed after it reloads
        expect(bob_post.get_by_test_id("likes-count")).to_have_text("1 like")  # the like notification updates it
        shot(bob, "feed-desktop")

        bob.get_by_role("link", name=re.compile(r"^Notifications")).click()
        expect(bob.get_by_text(f"{ada_name} liked your post")).to_be_visible()
        expect(bob.get_by_text(f"{ada_name} started following you")).to_be_visible()
        shot(bob, "notifications")
        bob.get_by_role("button", name="Mark all as read").click()
        expect(bob.get_by_test_id("unread-badge")).to_have_count(0)

        # The post's own page: caption with linked mention and hashtag, comments.
        ada.get_by_role("link", name=re.compile(r"Add a comment")).click()
        expect(ada.get_by_role("link", name=f"@{ada_name}")).to_have_attribute("href", f"/u/{ada_name}")
        ada.get_by_label("Add a comment").fill("What a view!")
        ada.get_by_role("button", name="Post", exact=True).click()
        expect(ada.get_by_text("What a view!")).to_be_visible()
        expect(ada.get_by_text("1 comment", exact=True)).to_be_visible()
        no_horizontal_scroll(ada)
        shot(ada, "post-detail-phone")

        bob.get_by_role("link", name="Profile").click()
        expect(bob.get_by_role("heading", name=bob_name)).to_be_visible()
        expect(bob.get_by_role("link", name=re.compile("Post: Sunset at the lake"))).to_be_visible()
        shot(bob, "profile-desktop")
        # Log out and back in (the session survives a reload in between); dark mode.
        ada.reload()
        expect(ada.get_by_role("heading", name=re.compile("ada_"))).to_have_count(0)
        ada.get_by_role("button", name="Log out").click()
        expect(ada).to_have_url(re.compile(r"/login$"))
        ada.get_by_role("button", name="Log in").click()
        expect(ada.get_by_label("Username or email")).to_have_accessible_description("Enter your username or email.")
        ada.get_by_label("Username or email").fill(ada_name)
        ada.get_by_label("Password").fill("wrong password")
        ada.get_by_role("button", name="Log in").click()
        expect(ada.get_by_text("Wrong username, email or password.")).to_be_visible()
        ada.get_by_label("Password").fill("correct horse battery")
        ada.get_by_role("button", name="Log in").click()
        expect(ada.get_by_role("article", name=f"Post by {bob_name}")).to_be_visible()
        ada.get_by_role("button", name="Switch to dark mode").click()
        expect(ada.locator("html")).to_have_class(re.compile(r"\bdark\b"))
        no_horizontal_scroll(ada)
        shot(ada, "feed-phone-dark")
        assert errors == [], errors
    finally:
        ada_context.close()
        bob_context.close()


@pytest.mark.slow
def test_reloading_a_profile_whose_username_has_a_dot_shows_the_profile(web_stack: WebStack, browser: Browser) -> None:
    """Every seeded username has a dot (`rafa.evans0`): opening or reloading its profile link must reach
    the app, not a 404 for a file named like it."""
    name = f"rafa.{uuid.uuid4().hex[:6]}"
    errors: list[str] = []
    context, page = new_context(browser, DESKTOP, errors)
    try:
        register(page, web_stack, name, "Rafa Evans")
        page.goto(f"{web_stack.origin}/u/{name}")
        expect(page.get_by_role("heading", name=re.compile(name))).to_be_visible()
        page.reload()
        expect(page.get_by_role("heading", name=re.compile(name))).to_be_visible()
        assert errors == []
    finally:
        context.close()

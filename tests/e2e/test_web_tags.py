"""Hashtags in the web app, in real headless chromium against `kafkagram up`: a caption's #tag links to
the tag's page (/t/<tag>), which lists the post, and still does after a reload (the address reaches the
app, whose route chunk loads on demand)."""

from __future__ import annotations

import re
import uuid

import pytest
from playwright.sync_api import Browser, FilePayload, expect

from tests.e2e.test_web_app import DESKTOP, LIVE_MS, new_context, photo, register
from tests.support.browser import WebStack


@pytest.mark.slow
def test_a_caption_tag_links_to_the_tag_page_which_survives_a_reload(web_stack: WebStack, browser: Browser) -> None:
    suffix = uuid.uuid4().hex[:6]
    name, tag = f"tess_{suffix}", f"GoldenHour{suffix}"
    errors: list[str] = []
    context, page = new_context(browser, DESKTOP, errors)
    try:
        register(page, web_stack, name, "Tess Tagger")
        page.goto(web_stack.url("/new"))
        dusk = FilePayload(name="dusk.jpg", mimeType="image/jpeg", buffer=photo())
        page.locator("#post-files").set_input_files([dusk])
        page.get_by_label("Caption").fill(f"Last light over the bay #{tag}")
        page.get_by_role("button", name="Share").click()
        expect(page).to_have_url(re.compile(r"/$"), timeout=LIVE_MS)  # the form waits for publication

        post = page.get_by_role("article", name=f"Post by {name}")
        link = post.get_by_role("link", name=f"#{tag}")
        expect(link).to_have_attribute("href", f"/t/{tag.lower()}")
        link.click()
        expect(page).to_have_url(re.compile(f"/t/{tag.lower()}$"))

        for reloaded in (False, True):
            if reloaded:
                page.reload()
            expect(page.get_by_role("heading", name=f"#{tag.lower()}")).to_be_visible()
            tagged = page.get_by_role("article", name=f"Post by {name}")
            expect(tagged).to_have_count(1)
            picture = tagged.get_by_role("img", name=re.compile(f"Photo by {name}"))
            expect(picture).to_have_attribute("loading", "eager")  # the first post is above the fold
            page.wait_for_function("(img) => img.complete && img.naturalWidth > 0", arg=picture.element_handle())
            expect(tagged.get_by_role("link", name=f"#{tag}")).to_be_visible()
        assert errors == [], errors
    finally:
        context.close()

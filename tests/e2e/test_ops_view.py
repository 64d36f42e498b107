"""The ops view in Chromium: a runtime whose function fails a record shows the mapping's figures, the
failed invocation with its error, the failure destination's record with its reason, and a redrive
button that puts the record back on its source topic (the function runs on it again)."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from playwright.sync_api import Page, expect, sync_playwright

from tests.support.browser import CHROMIUM, CHROMIUM_ARGS, SCREENSHOTS, require_chromium
from tests.support.kafka import Probe, create_topic, kafka_event, produce, running, write_template
from tests.support.repo import REPO
from tests.support.waiting import wait_for

WAIT_MS = 30_000
DOC_SCREENSHOT = REPO / "docs" / "screenshots" / "ops-view.png"


@pytest.fixture
def page(tmp_path) -> Iterator[Page]:
    require_chromium()
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            errors: list[str] = []
            page.on("pageerror", lambda error: errors.append(str(error)))
            yield page
            assert errors == [], errors
        finally:
            browser.close()


def test_ops_view_shows_figures_errors_and_failures_and_redrives(page, tmp_path, kafka_bootstrap,
                                                                   kafka_session_timeout_ms, redis_client, unique):
    topic, failed = f"photos-{unique}", f"photos-{unique}-failed"
    create_topic(kafka_bootstrap, topic)
    create_topic(kafka_bootstrap, failed)
    stream = kafka_event(topic, BatchSize=10, MaximumBatchingWindowInSeconds=0, MaximumRetryAttempts=0,
                         DestinationConfig={"OnFailure": {"Destination": f"kafka://{failed}"}},
                         ProvisionedPollerConfig={"MinimumPollers": 1, "MaximumPollers": 1})
    template = write_template(tmp_path, {"Probe": {"Events": {"Stream": stream}}}, prefix=unique)
    probe = Probe(redis_client, unique)
    produce(kafka_bootstrap, topic, [{"fail": True}], key=b"ada")
    with running(template, kafka_bootstrap, kafka_session_timeout_ms) as runtime:
        wait_for(lambda: runtime.status().get("Probe.Stream", {}).get("to_failure_destination"), timeout=60,
                 message="the failed record at its destination")
        page.goto(runtime.urls["status"] + "/")

        row = page.locator('tr[data-mapping="Probe.Stream"]')
        expect(row).to_contain_text("Probe", timeout=WAIT_MS)
        expect(row.locator("td").nth(3)).not_to_have_text("0", timeout=WAIT_MS)  # errors
        expect(row.locator("svg.spark").first).to_be_visible()
        expect(page.locator("#topics")).to_contain_text(topic)
        expect(page.locator("#errors")).to_contain_text("RuntimeError: asked to fail at offset 0", timeout=WAIT_MS)
        expect(page.locator("#errors pre").first).to_contain_text("probe.py")

        section = page.locator(f'section[data-topic="{failed}"]')
        expect(section).to_contain_text("1 pending, 0 redriven", timeout=WAIT_MS)
        expect(section.locator("tbody tr")).to_have_count(1)
        expect(section).to_contain_text(f"{topic}[0]@0")
        expect(section).to_contain_text("RetriesExhausted")
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENSHOTS / "ops-view.png"), full_page=True)
        page.screenshot(path=str(DOC_SCREENSHOT), full_page=True)

        section.get_by_role("button", name="Redrive").click()
        expect(section.locator(".outcome")).to_have_text(re.compile(rf"produced 1 to {topic}"), timeout=WAIT_MS)
        # The record is back on its source topic: the function gets it at the next offset.
        wait_for(lambda: "0:1" in probe.deliveries(), timeout=60, message="the redriven record delivered")
        expect(page.locator(f'section[data-topic="{failed}"]')).to_contain_text("redriven", timeout=WAIT_MS)
        expect(page.locator(f'section[data-topic="{failed}"]')).not_to_contain_text("0 redriven", timeout=WAIT_MS)

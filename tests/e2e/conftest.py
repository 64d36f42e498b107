"""Fixtures of the end-to-end tier: `kafkagram up` on a fresh database, and the web app in chromium."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, sync_playwright

from tests.support.browser import CHROMIUM, CHROMIUM_ARGS, DIST, WebStack, require_chromium
from tests.support.services import create_test_database
from tests.support.up import TEST_DATABASE, running_up


@pytest.fixture
def fresh_database() -> str:
    # Not migrated: `kafkagram up` creates and migrates it, as on a fresh machine.
    return create_test_database(TEST_DATABASE, migrated=False)


@pytest.fixture(scope="module")
def web_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[WebStack]:
    if not (DIST / "index.html").is_file():
        pytest.fail("frontend/dist is missing: build the web app first (`make web-build`, or `npm run build` in "
                    "frontend/); `make test` builds it before pytest", pytrace=False)
    require_chromium()
    database_url = create_test_database("kafkagram_web_test", migrated=False)
    # Webhooks to the test's own local receiver (http, 127.0.0.1): `kafkagram up --allow-local-webhooks`.
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("KAFKAGRAM_ALLOW_LOCAL_WEBHOOKS", "1")
        with running_up(database_url, tmp_path_factory.mktemp("web")) as ports:
            yield WebStack(ports)


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    require_chromium()
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)
        try:
            yield browser
        finally:
            browser.close()

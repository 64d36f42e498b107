"""The web app end to end: `kafkagram up` on free ports serving frontend/dist, and headless Debian chromium."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

import pytest
from playwright.sync_api import Browser, sync_playwright

from tests.app.up_support import running_up
from tests.conftest import create_test_database

REPO = Path(__file__).resolve().parents[2]
DIST = REPO / "frontend" / "dist"
CHROMIUM = Path("/usr/bin/chromium")
# Never a browser of Playwright's own (none can be downloaded here): the system one, quiet and offline.
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
SCREENSHOTS = REPO / "artifacts" / "screenshots"


@dataclass
class WebStack:
    ports: dict[str, int]

    @property
    def origin(self) -> str:
        return f"http://127.0.0.1:{self.ports['http']}"

    def url(self, path: str = "/") -> str:
        """A page of the app, told once (it remembers it) where the WebSocket API is: the test's ports are
        free ones, not the default (port 3001 of the page's host) the app derives from its location."""
        ws = f"ws://127.0.0.1:{self.ports['ws']}/local"
        return f"{self.origin}{path}?ws={quote(ws, safe='')}"


@pytest.fixture(scope="module")
def web_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[WebStack]:
    if not (DIST / "index.html").is_file():
        pytest.fail("frontend/dist is missing: build the web app first (`make web-build`, or `npm run build` in "
                    "frontend/); `make test` builds it before pytest", pytrace=False)
    if not CHROMIUM.is_file():
        pytest.fail("needs Debian's chromium at /usr/bin/chromium (apt-get install chromium; .ci/run installs it)",
                    pytrace=False)
    database_url = create_test_database("kafkagram_web_test", migrated=False)
    with running_up(database_url, tmp_path_factory.mktemp("web")) as ports:
        yield WebStack(ports)


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)
        try:
            yield browser
        finally:
            browser.close()

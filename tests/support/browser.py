"""Debian's chromium driven by Playwright, never a browser of Playwright's own (none can be downloaded
here): the system one, quiet and offline."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

import pytest

from tests.support.repo import REPO

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
SCREENSHOTS = REPO / "artifacts" / "screenshots"
DIST = REPO / "frontend" / "dist"


def require_chromium() -> None:
    """Fail (never skip) without the browser: a browser test that did not run proves nothing."""
    if not CHROMIUM.is_file():
        pytest.fail("needs Debian's chromium at /usr/bin/chromium (apt-get install chromium; .ci/run installs it)",
                    pytrace=False)


@dataclass
class WebStack:
    """`kafkagram up` on free ports, serving the built web app."""

    ports: dict[str, int]

    @property
    def origin(self) -> str:
        return f"http://127.0.0.1:{self.ports['http']}"

    def url(self, path: str = "/") -> str:
        """A page of the app, told once (it remembers it) where the WebSocket API is: the test's ports are
        free ones, not the default (port 3001 of the page's host) the app derives from its location."""
        ws = f"ws://127.0.0.1:{self.ports['ws']}/local"
        return f"{self.origin}{path}?ws={quote(ws, safe='')}"

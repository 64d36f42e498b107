"""The web app's tokens stay with its own API (issue 12), in real headless chromium against `kafkagram up`.

- A link that names another API (`/?api=http://127.0.0.1:<port>`) is ignored by the production build:
  nothing reaches a listener on that port while the person registers and uses the app, and the page
  carries a Content-Security-Policy whose connect-src refuses other origins.
- Two tabs of one session whose access token expired together refresh once between them (a Web Lock)
  and both stay signed in: the second tab does not present the refresh token the first one just
  rotated away, which the server would take for a stolen token and revoke the session.
"""

from __future__ import annotations

import json
import re
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import quote

import pytest
from playwright.sync_api import Browser, Page, Request, Response, Route, expect

from kafkagram.auth.tokens import LOCAL_DEVELOPMENT_SECRET, AccessTokens
from tests.support.browser import WebStack
from tests.support.up import api_call

UI_MS = 60_000  # the first request to each function starts a cold sandbox, on 2 cores
expect.set_options(timeout=UI_MS)
SESSION_KEY = "kafkagram.session"
ENDPOINTS_KEY = "kafkagram.endpoints"
CSP_REFUSAL = "Content Security Policy"


class Listener:
    """A local HTTP server that records every request it gets (it must get none)."""

    def __init__(self) -> None:
        seen: list[str] = []

        class Handler(BaseHTTPRequestHandler):
            def _record(self) -> None:
                seen.append(f"{self.command} {self.path}")
                self.send_response(204)
                self.send_header("Access-Control-Allow-Origin", "*")
                self.end_headers()

            do_GET = do_POST = do_PUT = do_DELETE = do_OPTIONS = _record

            def log_message(self, format: str, *args: Any) -> None:  # quiet: the test reads `seen`
                pass

        self.seen = seen
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> Listener:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def listener() -> Iterator[Listener]:
    with Listener() as running:
        yield running


def pump_until(page: Page, condition: Callable[[], bool], timeout_s: float, message: str) -> None:
    """Let Playwright deliver events (route and response callbacks) until `condition()` holds."""
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout_s:.0f} s waiting for {message}")
        page.wait_for_timeout(25)


def register_in_browser(page: Page, url: str, username: str) -> None:
    page.goto(url)
    page.get_by_label("Username").fill(username)
    page.get_by_label("Email").fill(f"{username}@example.org")
    page.get_by_label("Password", exact=True).fill("correct horse battery")
    page.get_by_role("button", name="Sign up").click()
    expect(page).to_have_url(re.compile(r"/explore$"))


def stored_session(page: Page) -> dict[str, Any]:
    raw = page.evaluate(f"() => localStorage.getItem('{SESSION_KEY}')")
    assert raw, "no session in localStorage"
    return json.loads(raw)["state"]


@pytest.mark.slow
def test_a_foreign_api_in_the_link_gets_nothing_and_the_csp_fences_the_rest(
        web_stack: WebStack, browser: Browser, listener: Listener) -> None:
    context = browser.new_context()
    context.set_default_timeout(UI_MS)
    page = context.new_page()
    errors: list[str] = []
    refusals: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on("console", lambda message: refusals.append(message.text) if CSP_REFUSAL in message.text else None)
    try:
        link = f"{web_stack.url('/register')}&api={quote(listener.url, safe='')}"
        register_in_browser(page, link, f"link_{uuid.uuid4().hex[:6]}")  # the password went to our API
        # The app works against its own API: the feed, a reload, the live WebSocket.
        page.get_by_role("link", name="Home", exact=True).click()
        expect(page.get_by_text("Your feed is empty")).to_be_visible()
        page.reload()
        expect(page.get_by_text("Your feed is empty")).to_be_visible()
        expect(page.locator("html")).to_have_attribute("data-live", "open", timeout=90_000)
        remembered = page.evaluate(f"() => localStorage.getItem('{ENDPOINTS_KEY}')") or ""
        assert listener.url not in remembered, remembered

        # The policy is in the page, names the WebSocket API, and refuses any other origin.
        policy = page.locator('meta[http-equiv="Content-Security-Policy"]').get_attribute("content") or ""
        assert "connect-src 'self'" in policy and "ws://127.0.0.1:*" in policy, policy
        assert "script-src 'self';" in policy, policy
        violation = page.evaluate("""async () => {
            const seen = new Promise((resolve) => document.addEventListener(
                "securitypolicyviolation", (e) => resolve(e.effectiveDirective), { once: true }));
            const fetched = await fetch("https://elsewhere.example/steal").then(() => "sent", () => "refused");
            return [fetched, await seen];
        }""")
        assert violation == ["refused", "connect-src"]
        refusals = [text for text in refusals if "elsewhere.example" not in text]

        assert listener.seen == [], listener.seen
        assert refusals == [], refusals  # the policy refused nothing the app itself needs
        assert errors == [], errors
    finally:
        context.close()


@pytest.mark.slow
def test_two_tabs_whose_token_expired_refresh_once_and_both_stay_signed_in(
        web_stack: WebStack, browser: Browser) -> None:
    context = browser.new_context()
    context.set_default_timeout(UI_MS)
    tab_a, tab_b = context.new_page(), context.new_page()
    errors: list[str] = []
    held: list[Route] = []  # refresh requests, held until both tabs have been refused
    refused_tabs: set[int] = set()

    def hold_refresh(route: Route, _request: Request) -> None:
        held.append(route)

    def on_response(response: Response) -> None:
        if response.status == 401 and "/api/auth/" not in response.url and response.frame.page in (tab_a, tab_b):
            refused_tabs.add(0 if response.frame.page == tab_a else 1)

    try:
        for tab in (tab_a, tab_b):
            tab.on("pageerror", lambda error: errors.append(str(error)))
        register_in_browser(tab_a, web_stack.url("/register"), f"tabs_{uuid.uuid4().hex[:6]}")
        for tab in (tab_a, tab_b):
            tab.goto(web_stack.url("/"))
            expect(tab.get_by_text("Your feed is empty")).to_be_visible()  # one session, shared

        # Both tabs' access token expires at once: a genuinely expired token of this user, signed with
        # the key of the local stack, in the session both tabs load.
        session = stored_session(tab_a)
        expired = AccessTokens(LOCAL_DEVELOPMENT_SECRET, ttl_s=-120).issue(session["user"]["id"])
        tab_a.evaluate("""([key, token]) => {
            const stored = JSON.parse(localStorage.getItem(key));
            stored.state.accessToken = token;
            localStorage.setItem(key, JSON.stringify(stored));
        }""", [SESSION_KEY, expired])
        context.route("**/api/auth/refresh", hold_refresh)
        context.on("response", on_response)
        for tab in (tab_a, tab_b):
            tab.reload(wait_until="commit")

        # Each tab has been refused by the API (so each wants a refresh) before any refresh is answered.
        pump_until(tab_a, lambda: refused_tabs == {0, 1} and len(held) >= 1, 120, "both tabs refused")
        for route in held:
            route.continue_()
        # Later refresh requests (if any: there must be none) are counted, then let through.
        context.unroute("**/api/auth/refresh", hold_refresh)
        context.route("**/api/auth/refresh", lambda route, _request: (held.append(route), route.continue_()))
        for tab in (tab_a, tab_b):
            expect(tab.get_by_text("Your feed is empty")).to_be_visible()
            expect(tab).not_to_have_url(re.compile(r"/login$"))
        assert len(held) == 1, f"{len(held)} refresh requests: the tabs did not take turns"

        # Both still signed in after a reload, and the session is alive on the server: its refresh
        # token still rotates (a reuse would have revoked it).
        for tab in (tab_a, tab_b):
            tab.reload()
            expect(tab.get_by_text("Your feed is empty")).to_be_visible()
        final = stored_session(tab_b)
        assert final["refreshToken"] != session["refreshToken"]
        status, body = api_call(web_stack.ports["http"], "POST", "/api/auth/refresh",
                                {"refresh_token": final["refreshToken"]})
        assert status == 200, body
        assert errors == [], errors
    finally:
        context.close()

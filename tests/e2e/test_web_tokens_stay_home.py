"""The web app's tokens stay with its own API (issue 12), in real headless chromium against `kafkagram up`.

- A link that names another API (`/?api=http://127.0.0.1:<port>`) is ignored by the production build:
  nothing reaches a listener on that port while the person registers and uses the app, and the page
  carries a Content-Security-Policy whose connect-src refuses other origins.
- Two tabs of one session whose access token expired together take turns to refresh (a Web Lock) and
  both stay signed in: the session's refresh token is rotated once, and the session is not revoked for
  reuse. (The tab that waited re-reads the session under the lock and usually finds the new tokens;
  Chromium hands a tab's localStorage writes to the other tabs' processes asynchronously, so it may
  still hold the rotated-away token and present it once, which the server's grace window answers with
  the current one.)
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
from playwright.sync_api import APIResponse, Browser, Page, Request, Response, Route, expect

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


def refresh_lock_waiters(page: Page) -> int:
    """Tabs of the origin other than the refresh lock's holder that wait for it (Web Locks' own view)."""
    return int(page.evaluate("""async () => {
        const { held, pending } = await navigator.locks.query();
        const holders = new Set(held.filter((l) => l.name === "kafkagram.refresh").map((l) => l.clientId));
        return pending.filter((l) => l.name === "kafkagram.refresh" && !holders.has(l.clientId)).length;
    }"""))


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
    # The API's refusals are held until both tabs have one, then handed over together: how long a tab
    # takes to reload on a loaded machine must not decide whether the refreshes overlap. (Holding the
    # refresh itself until the other tab was refused could outlast the client's 30 s refresh timeout,
    # after which a second refresh is the right thing to do.)
    refusals: dict[Page, list[tuple[Route, APIResponse]]] = {tab_a: [], tab_b: []}
    refusals_released = False
    held: list[Route] = []  # refresh requests, held until the other tab waits for the lock
    refreshed: list[Response] = []

    def hold_refusals(route: Route, request: Request) -> None:
        if refusals_released or request.frame.page not in refusals:
            route.continue_()
            return
        response = route.fetch()
        if response.status == 401 and not refusals_released:  # (the fetch lets other callbacks run)
            refusals[request.frame.page].append((route, response))
        else:
            route.fulfill(response=response)

    def hold_refresh(route: Route, _request: Request) -> None:
        held.append(route)

    def count_refresh(route: Route, _request: Request) -> None:
        held.append(route)
        route.continue_()

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
        context.route(re.compile(r"/api/(?!auth/)"), hold_refusals)
        context.route("**/api/auth/refresh", hold_refresh)
        context.on("response", lambda response: refreshed.append(response)
                   if response.url.endswith("/api/auth/refresh") else None)
        for tab in (tab_a, tab_b):
            tab.reload(wait_until="commit")

        # Each tab has been refused by the API; both get their refusals at once.
        pump_until(tab_a, lambda: all(refusals.values()), 120, "both tabs refused")
        refusals_released = True
        for route, response in [pair for pairs in refusals.values() for pair in pairs]:
            route.fulfill(response=response)
        # One tab refreshes (held) while the other waits for the lock, then the refresh goes through.
        pump_until(tab_a, lambda: len(held) >= 1 and refresh_lock_waiters(tab_a) >= 1, 60,
                   "one tab refreshing while the other waits for the lock")
        assert len(held) == 1, f"{len(held)} refresh requests at once: the tabs did not take turns"
        for route in held:
            route.continue_()
        # Later refresh requests (if any: there must be none) are counted, then let through.
        context.unroute("**/api/auth/refresh", hold_refresh)
        context.route("**/api/auth/refresh", count_refresh)
        for tab in (tab_a, tab_b):
            expect(tab.get_by_text("Your feed is empty")).to_be_visible()
            expect(tab).not_to_have_url(re.compile(r"/login$"))
        # One rotation: any later refresh presented the rotated-away token and got the current one back.
        assert len(held) <= 2, f"{len(held)} refresh requests"
        pump_until(tab_a, lambda: len(refreshed) == len(held), 60, "the refresh answers")
        answers = [(response.status, response.json()["refresh_token"]) for response in refreshed]
        assert set(answers) == {(200, answers[0][1])}, answers

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

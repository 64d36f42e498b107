"""Webhooks in the browser, against `kafkagram up` (started with the local-webhooks flag by the web_stack
fixture): a user adds an endpoint pointing at a local receiver and copies the secret shown once; another
user follows them through the API; the receiver gets the follow with a valid signature, and the settings
page lists the delivery with its status code. A ping from the page goes the same way."""

from __future__ import annotations

import json
import re
import uuid

from playwright.sync_api import Browser, expect

from kafkagram.webhooks import verify_signature
from tests.e2e.test_web_app import DESKTOP, LIVE_MS, new_context, register, shot
from tests.support.browser import WebStack
from tests.support.up import api_call, register_users
from tests.support.waiting import wait_for
from tests.support.webhook_receiver import webhook_receiver


def test_a_follow_reaches_the_users_webhook_signed_and_the_page_lists_it(web_stack: WebStack,
                                                                          browser: Browser) -> None:
    owner = f"hooked{uuid.uuid4().hex[:6]}"
    fan = f"fan{uuid.uuid4().hex[:6]}"
    errors: list[str] = []
    context, page = new_context(browser, DESKTOP, errors)
    with webhook_receiver() as receiver:
        try:
            register(page, web_stack, owner, "Hooked Owner")
            page.get_by_role("link", name="Webhooks").click()
            expect(page.get_by_role("heading", name="Webhooks")).to_be_visible()
            page.get_by_label("Endpoint URL").fill(receiver.url())
            page.get_by_role("button", name="Add endpoint").click()
            secret = page.get_by_label("Signing secret").inner_text().strip()
            assert secret.startswith("whsec_")
            endpoint = page.get_by_role("listitem", name=f"Webhook {receiver.url()}")
            expect(endpoint).to_be_visible()

            sessions = register_users(web_stack.ports["http"], fan)
            status, _ = api_call(web_stack.ports["http"], "PUT", f"/api/users/{owner}/follow",
                                 token=sessions[fan]["access_token"])
            assert status in (200, 204)

            wait_for(lambda: receiver.received(), timeout=LIVE_MS / 1000, message="the follow's delivery")
            [request] = receiver.received()
            body = json.loads(request.body)
            assert body["type"] == "follow" and request.headers["x-kafkagram-event"] == "follow"
            assert body["data"]["follower_id"] == sessions[fan]["user"]["id"]
            assert verify_signature(secret, request.headers["x-kafkagram-signature"], request.body)

            deliveries = endpoint.get_by_role("list", name="Last deliveries")
            expect(deliveries).to_contain_text("New follower", timeout=LIVE_MS)
            expect(deliveries.get_by_label("status").first).to_have_text("200")
            expect(deliveries).to_contain_text("delivered")

            endpoint.get_by_role("button", name="Send a ping").click()
            wait_for(lambda: len(receiver.received()) == 2, timeout=LIVE_MS / 1000, message="the ping")
            ping = receiver.received()[1]
            assert json.loads(ping.body)["type"] == "ping"
            assert verify_signature(secret, ping.headers["x-kafkagram-signature"], ping.body)
            expect(deliveries.get_by_role("listitem")).to_have_count(2, timeout=LIVE_MS)

            endpoint.get_by_role("button", name="Pause").click()
            expect(endpoint).to_contain_text(re.compile("paused"))
            shot(page, "webhooks-desktop")
            assert errors == []
        finally:
            context.close()

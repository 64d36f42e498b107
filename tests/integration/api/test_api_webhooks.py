"""The caller's webhooks (/api/me/webhooks): validated URLs, the secret shown once, only one's own
endpoints (another user gets 404), pings through the outbox, and the deliveries with their status codes
after the real delivery code ran against a local receiver."""

from __future__ import annotations

import json

import pytest

from kafkagram import webhooks
from kafkagram.db import Database
from kafkagram.events import Event
from tests.support.api import register
from tests.support.store import events
from tests.support.webhook_receiver import webhook_receiver

URL = "https://hooks.example.com/kafkagram"


def test_create_list_update_delete(direct):
    alice = register(direct)
    created = direct.request("POST", "/api/me/webhooks", token=alice.access_token,
                             json_body={"url": URL, "kinds": ["like", "follow", "like"]})
    assert created.status == 201, created.json()
    body = created.json()
    assert body["url"] == URL and body["kinds"] == ["follow", "like"] and body["paused"] is False
    assert body["secret"].startswith("whsec_") and len(body["secret"]) > 40

    listed = direct.request("GET", "/api/me/webhooks", token=alice.access_token).json()
    assert [item["id"] for item in listed["items"]] == [body["id"]]
    assert "secret" not in listed["items"][0]  # shown once only

    paused = direct.request("PATCH", f"/api/me/webhooks/{body['id']}", token=alice.access_token,
                            json_body={"paused": True, "kinds": ["mention"]})
    assert paused.status == 200 and paused.json()["paused"] is True and paused.json()["kinds"] == ["mention"]
    resumed = direct.request("PATCH", f"/api/me/webhooks/{body['id']}", token=alice.access_token,
                             json_body={"paused": False})
    assert resumed.json()["paused"] is False and resumed.json()["kinds"] == ["mention"]

    assert direct.request("DELETE", f"/api/me/webhooks/{body['id']}", token=alice.access_token).status == 204
    assert direct.request("GET", "/api/me/webhooks", token=alice.access_token).json() == {"items": []}
    assert direct.request("DELETE", f"/api/me/webhooks/{body['id']}", token=alice.access_token).status == 404


def test_another_users_endpoint_is_not_found(direct):
    alice, mallory = register(direct), register(direct)
    endpoint = direct.request("POST", "/api/me/webhooks", token=alice.access_token,
                              json_body={"url": URL, "kinds": ["like"]}).json()["id"]
    for method, path, body in [("PATCH", f"/api/me/webhooks/{endpoint}", {"paused": True}),
                               ("DELETE", f"/api/me/webhooks/{endpoint}", None),
                               ("POST", f"/api/me/webhooks/{endpoint}/ping", None),
                               ("GET", f"/api/me/webhooks/{endpoint}/deliveries", None)]:
        reply = direct.request(method, path, token=mallory.access_token, json_body=body)
        assert (reply.status, reply.error) == (404, "webhook-not-found"), (method, path)
    assert direct.request("GET", "/api/me/webhooks", token=mallory.access_token).json() == {"items": []}
    assert direct.request("GET", "/api/me/webhooks", token=alice.access_token).json()["items"][0]["paused"] is False
    assert direct.request("GET", "/api/me/webhooks").status == 401
    assert direct.request("GET", "/api/me/webhooks/9999999999999999999/deliveries",
                          token=alice.access_token).status == 404


@pytest.mark.parametrize(("url", "message"), [
    ("http://hooks.example.com/x", "https"),
    ("https://user:secret@hooks.example.com/x", "credentials"),
    ("https://localhost:8443/x", "localhost"),
    ("https://127.0.0.1/x", "loopback"),
    ("https://169.254.169.254/latest/meta-data", "link-local"),
    ("https://[::ffff:10.0.0.1]/x", "private"),
    ("https://hooks.example.com/" + "x" * 2100, "2048"),
    ("not a url", "spaces"),
])
def test_urls_are_validated(direct, url, message):
    alice = register(direct)
    reply = direct.request("POST", "/api/me/webhooks", token=alice.access_token,
                           json_body={"url": url, "kinds": ["like"]})
    assert reply.status == 400 and message in reply.json()["message"], reply.json()


def test_kinds_are_validated_and_endpoints_capped(direct):
    alice = register(direct)
    for kinds in ([], ["reel"], None):
        body = {"url": URL} if kinds is None else {"url": URL, "kinds": kinds}
        assert direct.request("POST", "/api/me/webhooks", token=alice.access_token, json_body=body).status == 400
    for _ in range(webhooks.MAX_ENDPOINTS_PER_USER):
        assert direct.request("POST", "/api/me/webhooks", token=alice.access_token,
                              json_body={"url": URL, "kinds": ["like"]}).status == 201
    over = direct.request("POST", "/api/me/webhooks", token=alice.access_token,
                          json_body={"url": URL, "kinds": ["like"]})
    assert (over.status, over.error) == (400, "too-many-webhooks")


def test_a_ping_is_delivered_and_listed_with_its_status_code(direct, db, database_url, monkeypatch):
    monkeypatch.setenv(webhooks.ALLOW_LOCAL_ENV, "1")  # the receiver is http on 127.0.0.1
    alice = register(direct)
    with webhook_receiver() as receiver:
        receiver.statuses[:] = [500]
        created = direct.request("POST", "/api/me/webhooks", token=alice.access_token,
                                 json_body={"url": receiver.url(), "kinds": ["follow"]}).json()
        assert direct.request("GET", f"/api/me/webhooks/{created['id']}/deliveries",
                              token=alice.access_token).json() == {"items": []}
        ping = direct.request("POST", f"/api/me/webhooks/{created['id']}/ping", token=alice.access_token)
        assert ping.status == 202
        [outboxed] = [e for e in events(db, "webhook-ping", alice.id) if e["id"] == ping.json()["event_id"]]
        assert outboxed["data"] == {"user_id": str(alice.id), "endpoint_id": created["id"]}

        # What the webhook function does with it (its first attempt gets a 500, the retry a 200).
        database = Database(database_url)
        try:
            with pytest.raises(webhooks.DeliveriesPending):
                webhooks.deliver_event(database, Event.model_validate(outboxed))
            webhooks.deliver_event(database, Event.model_validate(outboxed))
        finally:
            database.close()
        [first, second] = receiver.received()
        assert webhooks.verify_signature(created["secret"], second.headers["x-kafkagram-signature"], second.body)
        assert json.loads(second.body)["type"] == "ping"

    [delivery] = direct.request("GET", f"/api/me/webhooks/{created['id']}/deliveries",
                                token=alice.access_token).json()["items"]
    assert delivery["kind"] == "ping" and delivery["state"] == "delivered"
    assert delivery["id"] == first.headers["x-kafkagram-delivery"] == second.headers["x-kafkagram-delivery"]
    assert [(a["attempt"], a["status_code"], a["error"]) for a in delivery["attempts"]] == [
        (1, 500, "HTTP 500"), (2, 200, None)]

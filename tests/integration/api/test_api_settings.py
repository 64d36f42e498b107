"""The caller's private settings: which notification kinds are emailed (GET/PATCH /api/me/settings)."""

from __future__ import annotations

from kafkagram.db import connect
from tests.support.api import register


def test_defaults_then_a_choice_that_is_kept(gateway, redis_client, database_url):
    account = register(gateway, redis_client)
    reply = gateway.request("GET", "/api/me/settings", token=account.access_token)
    assert reply.status == 200 and reply.json() == {"email_notifications": ["comment", "follow", "mention"]}

    # Any order, repeats folded; stored as the email handler reads it (users.settings).
    reply = gateway.request("PATCH", "/api/me/settings", token=account.access_token,
                            json_body={"email_notifications": ["mention", "like", "mention"]})
    assert reply.status == 200 and reply.json() == {"email_notifications": ["like", "mention"]}
    assert gateway.request("GET", "/api/me/settings", token=account.access_token
                           ).json() == {"email_notifications": ["like", "mention"]}
    connection = connect(database_url)
    try:
        [[settings]] = connection.run("SELECT settings FROM users WHERE id = :id", id=int(account.id))
    finally:
        connection.close()
    assert settings["email_notifications"] == ["like", "mention"]

    # An empty body changes nothing; [] turns email off.
    assert gateway.request("PATCH", "/api/me/settings", token=account.access_token, json_body={}
                           ).json() == {"email_notifications": ["like", "mention"]}
    assert gateway.request("PATCH", "/api/me/settings", token=account.access_token,
                           json_body={"email_notifications": []}).json() == {"email_notifications": []}


def test_settings_are_the_callers_own_and_validated(direct):
    alice, bob = register(direct), register(direct)
    assert direct.request("PATCH", "/api/me/settings", token=alice.access_token,
                          json_body={"email_notifications": ["like"]}).status == 200
    assert direct.request("GET", "/api/me/settings", token=bob.access_token
                          ).json() == {"email_notifications": ["comment", "follow", "mention"]}

    unknown = direct.request("PATCH", "/api/me/settings", token=alice.access_token,
                             json_body={"email_notifications": ["reel"]})
    assert unknown.status == 400 and unknown.json()["message"].startswith("email_notifications")
    typo = direct.request("PATCH", "/api/me/settings", token=alice.access_token, json_body={"email": ["like"]})
    assert typo.status == 400
    assert direct.request("GET", "/api/me/settings").status == 401
    assert direct.request("GET", "/api/me/settings", token=alice.access_token
                          ).json() == {"email_notifications": ["like"]}

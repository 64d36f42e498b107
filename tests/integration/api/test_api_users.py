"""The caller's account, profiles, search and follower lists."""

from __future__ import annotations

from tests.support.api import register, unique_name


def test_me_and_patch_me(gateway, redis_client):
    account = register(gateway, redis_client, display_name="Before")
    new_name = unique_name("r")
    reply = gateway.request("PATCH", "/api/me", token=account.access_token,
                            json_body={"display_name": "After", "bio": "hello", "username": new_name})
    assert reply.status == 200, reply.body
    me = reply.json()
    assert (me["display_name"], me["bio"], me["username"]) == ("After", "hello", new_name)
    # Omitted fields stay as they are.
    assert gateway.request("PATCH", "/api/me", token=account.access_token, json_body={"bio": "again"}
                           ).json()["display_name"] == "After"
    assert gateway.request("GET", f"/api/users/{new_name}", token=account.access_token).json()["bio"] == "again"


def test_patch_only_changes_the_callers_own_profile(direct):
    alice, bob = register(direct, display_name="Alice"), register(direct, display_name="Bob")
    # The only profile write names no user: whatever the body says, it is the caller's row.
    reply = direct.request("PATCH", "/api/me", token=alice.access_token, json_body={"display_name": "Mallory"})
    assert reply.status == 200 and reply.json()["id"] == alice.id
    assert direct.request("GET", f"/api/users/{bob.username}", token=alice.access_token
                          ).json()["display_name"] == "Bob"
    # Naming someone else in the body is refused, not applied.
    sneaky = direct.request("PATCH", "/api/me", token=alice.access_token, json_body={"id": bob.id, "bio": "x"})
    assert sneaky.status == 400 and sneaky.json()["message"].startswith("id:")
    # And there is no route that writes another user's profile.
    for method in ("PATCH", "PUT", "POST"):
        assert direct.request(method, f"/api/users/{bob.username}", token=alice.access_token,
                              json_body={"display_name": "Mallory"}).status in (404, 405)
    assert direct.request("GET", f"/api/users/{bob.username}", token=bob.access_token
                          ).json()["display_name"] == "Bob"


def test_patch_validation_and_conflicts(direct):
    alice, bob = register(direct), register(direct)
    taken = direct.request("PATCH", "/api/me", token=alice.access_token, json_body={"username": bob.username})
    assert taken.status == 409 and taken.error == "username-taken"
    long_bio = direct.request("PATCH", "/api/me", token=alice.access_token, json_body={"bio": "b" * 151})
    assert long_bio.status == 400 and long_bio.json()["message"].startswith("bio:")
    bad_name = direct.request("PATCH", "/api/me", token=alice.access_token, json_body={"username": "no/slash"})
    assert bad_name.status == 400 and bad_name.json()["message"].startswith("username:")


def test_profile_has_counts_and_is_following(direct):
    alice, bob = register(direct), register(direct)
    assert direct.request("PUT", f"/api/users/{bob.username}/follow", token=alice.access_token).status == 204
    seen_by_alice = direct.request("GET", f"/api/users/{bob.username}", token=alice.access_token).json()
    assert seen_by_alice["is_following"] is True and seen_by_alice["followers_count"] == 1
    assert "email" not in seen_by_alice
    seen_by_bob = direct.request("GET", f"/api/users/{alice.username}", token=bob.access_token).json()
    assert seen_by_bob["is_following"] is False and seen_by_bob["following_count"] == 1
    own = direct.request("GET", f"/api/users/{bob.username.upper()}", token=bob.access_token).json()
    assert own["is_following"] is False and own["id"] == bob.id


def test_unknown_user_is_404(direct):
    account = register(direct)
    for suffix in ("", "/followers", "/following"):
        path = f"/api/users/nobody_here_x{suffix}"
        reply = direct.request("GET", path, token=account.access_token)
        assert reply.status == 404 and reply.error == "user-not-found"


def test_search_by_prefix_is_paginated(direct):
    prefix = unique_name("s")[:12]
    names = sorted(f"{prefix}{i}" for i in range(5))
    accounts = [register(direct, username=name) for name in names]
    token = accounts[0].access_token
    seen, cursor = [], None
    for _ in range(5):
        query = f"/api/users?prefix={prefix.upper()}&limit=2" + (f"&cursor={cursor}" if cursor else "")
        page = direct.request("GET", query, token=token).json()
        seen += [item["username"] for item in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == names
    assert direct.request("GET", "/api/users?prefix=", token=token).status == 400
    assert direct.request("GET", "/api/users", token=token).status == 400


def test_pagination_parameters_are_validated(direct):
    account = register(direct)
    base = f"/api/users/{account.username}/followers"
    for query, name in (("?limit=0", "limit"), ("?limit=101", "limit"), ("?limit=ten", "limit")):
        reply = direct.request("GET", base + query, token=account.access_token)
        assert reply.status == 400 and reply.json()["message"].startswith(f"{name} (query)"), reply.body
    bad_cursor = direct.request("GET", base + "?cursor=abc", token=account.access_token)
    assert bad_cursor.status == 400 and bad_cursor.error == "invalid-cursor"

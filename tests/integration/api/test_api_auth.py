"""Register, login, refresh, logout, access tokens and rate limits, through the HTTP API."""

from __future__ import annotations

import time

import pytest

from kafkagram.auth import AccessTokens, RefreshSessions
from kafkagram.auth.ratelimit import (
    AUTH_PER_IP,
    DEFAULT_RULES,
    LOGIN_FAILURES_BEFORE_LOCKOUT,
    LOGIN_LOCKOUT_BASE_S,
    REFRESH_PER_IP,
    LoginThrottle,
)
from kafkagram.auth.tokens import LOCAL_DEVELOPMENT_SECRET
from tests.support.api import empty_bucket, register, reset_bucket, unique_name

PASSWORD = "correct horse battery"


def test_register_login_refresh_logout_through_the_gateway(gateway, redis_client):
    account = register(gateway, redis_client, display_name="Ada")
    me = gateway.request("GET", "/api/me", token=account.access_token)
    assert me.status == 200
    assert me.json()["username"] == account.username
    assert me.json()["display_name"] == "Ada"

    reset_bucket(redis_client, "auth-per-ip", "127.0.0.1")
    login = gateway.request("POST", "/api/auth/login", json_body={"username": account.username.upper(),
                                                                  "password": PASSWORD})
    assert login.status == 200, login.body
    session = login.json()
    assert session["user"]["id"] == account.id
    assert session["token_type"] == "Bearer" and session["expires_in"] > 0
    assert gateway.request("GET", "/api/me", token=session["access_token"]).status == 200

    refreshed = gateway.request("POST", "/api/auth/refresh", json_body={"refresh_token": session["refresh_token"]})
    assert refreshed.status == 200, refreshed.body
    pair = refreshed.json()
    assert pair["refresh_token"] != session["refresh_token"]
    assert gateway.request("GET", "/api/me", token=pair["access_token"]).status == 200

    logout = gateway.request("POST", "/api/auth/logout", json_body={"refresh_token": pair["refresh_token"]})
    assert logout.status == 204 and logout.body == b""
    again = gateway.request("POST", "/api/auth/refresh", json_body={"refresh_token": pair["refresh_token"]})
    assert again.status == 401 and again.error == "invalid-token"
    # Logout stays idempotent.
    assert gateway.request("POST", "/api/auth/logout", json_body={"refresh_token": pair["refresh_token"]}).status == 204


def test_register_answers_202_without_tokens_and_the_account_can_log_in(direct):
    name = unique_name()
    reply = direct.request("POST", "/api/auth/register", json_body={
        "username": name, "email": f"{name}@example.com", "password": PASSWORD, "display_name": "Bo"})
    assert reply.status == 202
    assert set(reply.json()) == {"message"}  # no tokens, no user: nothing that differs for a taken email
    login = direct.request("POST", "/api/auth/login", json_body={"username": name, "password": PASSWORD})
    assert login.status == 200
    body = login.json()
    assert body["user"]["username"] == name and body["user"]["email"] == f"{name}@example.com"
    assert body["user"]["display_name"] == "Bo" and body["user"]["id"].isdigit()
    assert body["access_token"] and body["refresh_token"] and "password_hash" not in body["user"]


def test_login_by_email(direct):
    account = register(direct)
    reply = direct.request("POST", "/api/auth/login", json_body={"email": f"{account.username}@EXAMPLE.com",
                                                                 "password": PASSWORD})
    assert reply.status == 200 and reply.json()["user"]["id"] == account.id


def test_wrong_password_and_unknown_user_are_the_same_401(direct):
    account = register(direct)
    wrong = direct.request("POST", "/api/auth/login", json_body={"username": account.username,
                                                                 "password": "not the password"})
    unknown = direct.request("POST", "/api/auth/login", json_body={"username": unique_name(), "password": PASSWORD})
    assert wrong.status == unknown.status == 401
    assert wrong.json() == unknown.json() == {"error": "invalid-credentials",
                                              "message": "wrong username, email or password"}


def test_a_taken_email_gets_the_same_answer_as_a_new_one(direct):
    account = register(direct)
    fresh = direct.request("POST", "/api/auth/register", json_body={
        "username": unique_name(), "email": f"{unique_name()}@example.com", "password": PASSWORD})
    taken = direct.request("POST", "/api/auth/register", json_body={
        "username": unique_name(), "email": f"{account.username.upper()}@example.com", "password": PASSWORD})
    assert (taken.status, taken.headers, taken.body) == (fresh.status, fresh.headers, fresh.body)
    # Nothing was created for the taken email: its owner's account is untouched.
    owner = direct.request("POST", "/api/auth/login", json_body={"email": f"{account.username}@example.com",
                                                                 "password": PASSWORD})
    assert owner.status == 200 and owner.json()["user"]["username"] == account.username


def test_a_taken_username_is_409_since_usernames_are_public(direct):
    account = register(direct)
    taken = direct.request("POST", "/api/auth/register", json_body={
        "username": account.username.upper(), "email": f"other{account.username}@example.com", "password": PASSWORD})
    assert taken.status == 409 and taken.error == "username-taken"


@pytest.mark.parametrize(("body", "field"), [
    ({}, "username"),
    ({"username": "has space", "email": "a@example.com", "password": PASSWORD}, "username"),
    ({"username": 12, "email": "a@example.com", "password": PASSWORD}, "username"),
    ({"username": "x" * 31, "email": "a@example.com", "password": PASSWORD}, "username"),
    ({"username": "okname", "email": "a@example.com", "password": PASSWORD, "display_name": "d" * 65}, "display_name"),
    ({"username": "okname", "email": "a@example.com", "password": PASSWORD, "is_admin": True}, "is_admin"),
    ({"username": "okname", "email": ["a@example.com"], "password": PASSWORD}, "email"),
    ({"username": "okname", "email": "a@example.com", "password": "p" * 600}, "password"),
])
def test_register_validation_errors_are_400_naming_the_field(direct, body, field):
    reply = direct.request("POST", "/api/auth/register", json_body=body)
    assert reply.status == 400, reply.body
    assert reply.error == "invalid-request"
    assert reply.json()["message"].startswith(f"{field}:"), reply.json()


def test_domain_and_policy_rules_are_400_with_their_code(direct):
    short = direct.request("POST", "/api/auth/register", json_body={
        "username": unique_name(), "email": "s@example.com", "password": "short"})
    assert short.status == 400 and short.error == "password-too-short"
    email = direct.request("POST", "/api/auth/register", json_body={
        "username": unique_name(), "email": "not-an-email", "password": PASSWORD})
    assert email.status == 400 and email.error == "invalid-email"


def test_login_needs_exactly_one_of_username_or_email(direct):
    for body in ({"password": PASSWORD}, {"username": "a", "email": "a@example.com", "password": PASSWORD}):
        reply = direct.request("POST", "/api/auth/login", json_body=body)
        assert reply.status == 400 and "username or email" in reply.json()["message"]


@pytest.mark.parametrize(("body", "status", "code"), [
    (b"{not json", 400, "invalid-json"),
    (b"[" * 30_000 + b"]" * 30_000, 400, "invalid-json"),  # RecursionError in json.loads
    (b"[" * 40 + b"]" * 40, 400, "invalid-json"),
    (b'{"username": "' + b"x" * 100_000 + b'"}', 413, "payload-too-large"),
    (b"null", 400, "invalid-request"),
    (b'"a string"', 400, "invalid-request"),
    (b"[1, 2]", 400, "invalid-request"),
])
def test_malformed_bodies_are_4xx_never_500(direct, body, status, code):
    reply = direct.request("POST", "/api/auth/register", body=body, headers={"Content-Type": "application/json"})
    assert (reply.status, reply.error) == (status, code), reply.body


def test_refresh_token_reuse_after_the_grace_window_revokes_the_session(direct, redis_client):
    account = register(direct)
    first = direct.request("POST", "/api/auth/refresh", json_body={"refresh_token": account.refresh_token})
    assert first.status == 200
    _end_grace_window(redis_client, first.json()["access_token"])
    replay = direct.request("POST", "/api/auth/refresh", json_body={"refresh_token": account.refresh_token})
    assert replay.status == 401 and replay.error == "refresh-token-reused"
    # Both holders are logged out: the token issued to the first refresh is dead too.
    latest = direct.request("POST", "/api/auth/refresh", json_body={"refresh_token": first.json()["refresh_token"]})
    assert latest.status == 401


def test_two_tabs_refreshing_with_the_same_token_both_stay_logged_in(direct):
    """Tab A rotates the shared token; tab B, a moment later, presents the one A just spent."""
    account = register(direct)
    tab_a = direct.request("POST", "/api/auth/refresh", json_body={"refresh_token": account.refresh_token})
    tab_b = direct.request("POST", "/api/auth/refresh", json_body={"refresh_token": account.refresh_token})
    assert tab_a.status == 200 and tab_b.status == 200, tab_b.body
    # B gets the session's current refresh token (the one A got), so both tabs now hold the same one.
    assert tab_b.json()["refresh_token"] == tab_a.json()["refresh_token"]
    assert direct.request("GET", "/api/me", token=tab_b.json()["access_token"]).status == 200
    # The session lives on: the current token rotates as usual.
    onward = direct.request("POST", "/api/auth/refresh", json_body={"refresh_token": tab_a.json()["refresh_token"]})
    assert onward.status == 200
    # A token older than the previous one is reuse even inside the window.
    stale = direct.request("POST", "/api/auth/refresh", json_body={"refresh_token": account.refresh_token})
    assert stale.status == 401 and stale.error == "refresh-token-reused"


def _end_grace_window(redis_client, access_token: str) -> None:
    """What REFRESH_GRACE_S later looks like: the session's grace record has expired."""
    session_id = AccessTokens(LOCAL_DEVELOPMENT_SECRET).verify(access_token).session_id
    assert session_id is not None
    redis_client.delete(RefreshSessions(redis_client).grace_key(session_id))


@pytest.mark.parametrize("authorization", [None, "", "Bearer", "Basic dXNlcjpwYXNz", "Bearer not.a.jwt",
                                           "Bearer " + "a" * 5000])
def test_missing_or_invalid_access_token_is_401(direct, authorization):
    headers = {} if authorization is None else {"Authorization": authorization}
    reply = direct.request("GET", "/api/me", headers=headers)
    assert reply.status == 401
    assert reply.error in ("missing-token", "invalid-token")
    assert reply.headers["www-authenticate"].startswith("Bearer")


def test_expired_forged_and_refresh_tokens_are_not_access_tokens(direct):
    account = register(direct)
    expired = AccessTokens(LOCAL_DEVELOPMENT_SECRET, clock=lambda: time.time() - 3600).issue(account.id)
    reply = direct.request("GET", "/api/me", token=expired)
    assert reply.status == 401 and reply.error == "token-expired"
    forged = AccessTokens("another-secret-that-is-long-enough-32b").issue(account.id)
    assert direct.request("GET", "/api/me", token=forged).status == 401
    assert direct.request("GET", "/api/me", token=account.refresh_token).status == 401


def test_a_request_without_token_is_401_before_its_body_is_looked_at(direct):
    reply = direct.request("PATCH", "/api/me", json_body={"bio": 5})
    assert reply.status == 401


def test_auth_routes_are_rate_limited_per_client_ip(direct, redis_client):
    empty_bucket(redis_client, "auth-per-ip", direct.source_ip)
    reply = direct.request("POST", "/api/auth/login", json_body={"username": unique_name(), "password": PASSWORD})
    assert reply.status == 429 and reply.error == "rate-limited"
    assert int(reply.headers["retry-after"]) >= 1
    # Another client is not affected.
    direct.source_ip = "192.0.2.77"
    reset_bucket(redis_client, "auth-per-ip", direct.source_ip)
    assert direct.request("POST", "/api/auth/login", json_body={"username": unique_name(), "password": PASSWORD}
                          ).status == 401


def test_the_auth_limit_counts_every_attempt(direct, redis_client):
    reset_bucket(redis_client, "auth-per-ip", direct.source_ip)
    statuses = [direct.request("POST", "/api/auth/login", json_body={"username": unique_name(), "password": PASSWORD}
                               ).status for _ in range(11)]
    assert statuses[:10] == [401] * 10 and statuses[10] == 429


def test_reads_and_writes_are_rate_limited_per_user(gateway, redis_client):
    account, other = register(gateway, redis_client), register(gateway, redis_client)
    empty_bucket(redis_client, "reads-per-user", account.id)
    read = gateway.request("GET", "/api/me", token=account.access_token)
    assert read.status == 429 and int(read.headers["retry-after"]) >= 1
    assert read.json()["error"] == "rate-limited"
    # Writes have their own bucket, and other users theirs.
    assert gateway.request("PATCH", "/api/me", token=account.access_token, json_body={"bio": "hi"}).status == 200
    assert gateway.request("GET", "/api/me", token=other.access_token).status == 200
    empty_bucket(redis_client, "writes-per-user", account.id)
    write = gateway.request("PUT", f"/api/users/{other.username}/follow", token=account.access_token)
    assert write.status == 429 and "retry-after" in write.headers


def test_every_documented_route_but_auth_needs_a_token(direct):
    document = direct.request("GET", "/api/openapi.json").json()
    for path, item in document["paths"].items():
        if path.startswith("/api/auth/"):
            continue
        for method in item:
            concrete = path.replace("{username}", "someone") + ("?prefix=a" if path == "/api/users" else "")
            reply = direct.request(method.upper(), concrete, json_body={} if method in ("post", "patch") else None)
            assert reply.status == 401, f"{method.upper()} {path} answered {reply.status} without a token"


# Per-account login throttling, client networks, the refresh bucket ------------------------------------

def _login(direct, password, **identifier):
    return direct.request("POST", "/api/auth/login", json_body={**identifier, "password": password})


def test_failed_logins_lock_the_account_whatever_the_ip_with_a_growing_lockout(direct, redis_client):
    account = register(direct)
    for attempt in range(LOGIN_FAILURES_BEFORE_LOCKOUT):
        direct.source_ip = f"198.51.100.{attempt + 1}"  # a botnet: every guess from another address
        assert _login(direct, "wrong password", username=account.username).status == 401
    direct.source_ip = "198.51.100.99"
    locked = _login(direct, PASSWORD, username=account.username)  # even the right password
    assert locked.status == 429 and locked.error == "login-locked"
    assert 1 <= int(locked.headers["retry-after"]) <= LOGIN_LOCKOUT_BASE_S
    assert locked.json()["message"].startswith("too many failed logins")
    # The account, not the name typed: its email is locked too.
    assert _login(direct, PASSWORD, email=f"{account.username}@example.com").status == 429

    throttle = LoginThrottle(redis_client)
    redis_client.delete(throttle.lock_key(f"user:{account.id}"))  # the lockout has run out
    assert _login(direct, "wrong again", username=account.username).status == 401
    longer = _login(direct, PASSWORD, username=account.username)
    assert longer.status == 429 and int(longer.headers["retry-after"]) > LOGIN_LOCKOUT_BASE_S  # doubled

    redis_client.delete(throttle.lock_key(f"user:{account.id}"))
    assert _login(direct, PASSWORD, username=account.username).status == 200
    # A successful login starts the count over: the next wrong password is one of five again.
    assert not redis_client.exists(throttle.failures_key(f"user:{account.id}"))
    assert _login(direct, "wrong password", username=account.username).status == 401
    assert _login(direct, PASSWORD, username=account.username).status == 200


def test_an_unknown_account_locks_like_a_real_one(direct, redis_client):
    name = unique_name()
    statuses = []
    for attempt in range(LOGIN_FAILURES_BEFORE_LOCKOUT + 1):
        direct.source_ip = f"203.0.113.{attempt + 1}"
        statuses.append(_login(direct, PASSWORD, username=name))
    assert [r.status for r in statuses] == [401] * LOGIN_FAILURES_BEFORE_LOCKOUT + [429]
    assert statuses[-1].error == "login-locked" and "retry-after" in statuses[-1].headers


def test_ipv6_clients_share_the_auth_bucket_of_their_64_and_ipv4_clients_have_their_own(direct, redis_client):
    empty_bucket(redis_client, "auth-per-ip", "2001:db8:7:8::/64")
    direct.source_ip = "2001:db8:7:8:aaaa:bbbb:cccc:dddd"  # another address of the same /64
    refused = _login(direct, PASSWORD, username=unique_name())
    assert refused.status == 429 and refused.error == "rate-limited" and int(refused.headers["retry-after"]) >= 1
    direct.source_ip = "2001:db8:7:9::1"  # the next /64
    reset_bucket(redis_client, "auth-per-ip", "2001:db8:7:9::/64")
    assert _login(direct, PASSWORD, username=unique_name()).status == 401

    empty_bucket(redis_client, "auth-per-ip", "192.0.2.10")
    direct.source_ip = "192.0.2.11"  # IPv4: per address
    reset_bucket(redis_client, "auth-per-ip", "192.0.2.11")
    assert _login(direct, PASSWORD, username=unique_name()).status == 401


def test_refresh_has_its_own_larger_bucket(direct, redis_client):
    account = register(direct)
    empty_bucket(redis_client, "auth-per-ip", direct.source_ip)  # logins and registrations used up
    assert _login(direct, PASSWORD, username=account.username).status == 429
    refreshed = direct.request("POST", "/api/auth/refresh", json_body={"refresh_token": account.refresh_token})
    assert refreshed.status == 200, refreshed.body
    # A carrier-grade NAT's many users refresh far more than they log in.
    assert DEFAULT_RULES[REFRESH_PER_IP].burst >= 10 * DEFAULT_RULES[AUTH_PER_IP].burst

    empty_bucket(redis_client, "refresh-per-ip", direct.source_ip)
    token = refreshed.json()["refresh_token"]
    refused = direct.request("POST", "/api/auth/refresh", json_body={"refresh_token": token})
    assert refused.status == 429 and refused.error == "rate-limited"
    assert int(refused.headers["retry-after"]) >= 1 and refused.json()["message"]

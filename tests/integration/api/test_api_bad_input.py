"""Issue 12: every bad input gets a clear 4xx, never a 500. Ids past PostgreSQL's bigint, NUL
characters, bodies that are not JSON or not UTF-8, and methods a path does not have; each answer is
the API's JSON error naming what was wrong."""

from __future__ import annotations

from typing import Any

import pytest

from tests.support.api import register
from tests.support.store import make_post

TOO_LARGE = "9999999999999999999"  # 19 digits: the id pattern allows it, bigint does not
NUL = "a\u0000b"


def _assert_error(reply: Any, status: int, *, error: str | None = None, names: str | None = None) -> None:
    assert reply.status == status, reply.body
    assert reply.headers["content-type"].startswith("application/json")
    if error is not None:
        assert reply.error == error, reply.body
    if names is not None:
        assert names in reply.json()["message"], reply.body


# --- 1. ids past 2^63 - 1 ---------------------------------------------------------------------------------

@pytest.mark.parametrize(("method", "path", "error"), [
    ("GET", f"/api/posts/{TOO_LARGE}", "post-not-found"),
    ("DELETE", f"/api/posts/{TOO_LARGE}", "post-not-found"),
    ("PUT", f"/api/posts/{TOO_LARGE}/like", "post-not-found"),
    ("GET", f"/api/posts/{TOO_LARGE}/comments", "post-not-found"),
    ("POST", f"/api/posts/{TOO_LARGE}/comments", "post-not-found"),
    ("DELETE", f"/api/posts/1/comments/{TOO_LARGE}", "comment-not-found"),
    ("GET", f"/api/media/{TOO_LARGE}", "media-not-found"),
    ("POST", f"/api/media/{TOO_LARGE}/complete", "media-not-found"),
])
def test_a_path_id_past_bigint_is_the_resources_404(direct, method, path, error):
    ada = register(direct)
    body = {"body": "hi"} if method == "POST" and path.endswith("/comments") else None
    _assert_error(direct.request(method, path, json_body=body, token=ada.access_token), 404, error=error)


@pytest.mark.parametrize(("method", "path", "body", "field"), [
    ("POST", "/api/posts", {"media_ids": [TOO_LARGE]}, "media_ids.0"),
    ("POST", "/api/notifications/read", {"ids": ["1", TOO_LARGE]}, "ids.1"),
    ("GET", f"/api/timeline?cursor={TOO_LARGE}", None, "cursor"),
    ("GET", f"/api/notifications?cursor={TOO_LARGE}", None, "cursor"),
    ("GET", f"/api/posts/1/comments?cursor={TOO_LARGE}", None, "cursor"),
])
def test_a_body_or_query_id_past_bigint_is_400_naming_it(gateway, redis_client, db, method, path, body, field):
    ada = register(gateway, redis_client)
    path = path.replace("/posts/1/", f"/posts/{make_post(db, int(ada.id)).id}/")
    _assert_error(gateway.request(method, path, json_body=body, token=ada.access_token), 400, names=field)


# --- 2. NUL characters ------------------------------------------------------------------------------------

def _nul_cases() -> list[tuple[str, str, dict[str, Any], str]]:
    # Usernames being written are left out: their pattern refuses NUL already (400 naming it).
    register_body = {"username": "nul_case", "email": "nul@example.com", "password": "correct horse battery"}
    return [
        ("PATCH", "/api/me", {"bio": NUL}, "bio"),
        ("PATCH", "/api/me", {"display_name": NUL}, "display_name"),
        ("POST", "/api/posts", {"caption": NUL, "media_ids": ["1"]}, "caption"),
        ("POST", "/api/posts/{post}/comments", {"body": NUL}, "body"),
        ("POST", "/api/auth/login", {"username": NUL, "password": "x"}, "username"),
        ("POST", "/api/auth/login", {"email": NUL, "password": "x"}, "email"),
        ("POST", "/api/auth/login", {"username": "someone", "password": NUL}, "password"),
        ("POST", "/api/auth/register", {**register_body, "email": f"{NUL}@example.com"}, "email"),
        ("POST", "/api/auth/register", {**register_body, "password": f"correct horse {NUL}"}, "password"),
        ("POST", "/api/auth/register", {**register_body, "display_name": NUL}, "display_name"),
        ("POST", "/api/auth/refresh", {"refresh_token": NUL}, "refresh_token"),
        ("POST", "/api/auth/logout", {"refresh_token": NUL}, "refresh_token"),
    ]


@pytest.mark.parametrize(("method", "path", "body", "field"), _nul_cases())
def test_a_nul_character_in_body_text_is_400_naming_the_field(direct, db, method, path, body, field):
    ada = register(direct)
    path = path.replace("{post}", str(make_post(db, int(ada.id)).id))
    reply = direct.request(method, path, json_body=body, token=ada.access_token)
    _assert_error(reply, 400, error="invalid-request", names=f"{field}: ")
    assert "U+0000" in reply.json()["message"]


@pytest.mark.parametrize("query", ["prefix=a%00b", "prefix=a&cursor=1%00", "cursor=%00"])
def test_a_nul_character_in_a_query_parameter_is_400_naming_it(gateway, redis_client, query):
    ada = register(gateway, redis_client)
    path = "/api/users" if query.startswith("prefix") else "/api/notifications"
    reply = gateway.request("GET", f"{path}?{query}", token=ada.access_token)
    _assert_error(reply, 400, names="prefix" if query.startswith("prefix=a%00") else "cursor")


def test_a_nul_character_in_a_path_username_is_not_a_500(gateway, redis_client):
    ada = register(gateway, redis_client)
    for path in ("/api/users/a%00b", "/api/users/a%00b/posts", "/api/users/a%00b/followers"):
        reply = gateway.request("GET", path, token=ada.access_token)
        assert reply.status in (400, 404), (path, reply.body)


# --- 3. content types -------------------------------------------------------------------------------------

CAPTION_BODY = b'{"caption": "x", "media_ids": ["1"]}'


@pytest.mark.parametrize(("content_type", "body"), [
    ("text/plain", CAPTION_BODY),
    ("text/plain;charset=UTF-8", CAPTION_BODY),
    ("application/xml", b"<post><caption>x</caption></post>"),
    ("multipart/form-data; boundary=x", b'--x\r\nContent-Disposition: form-data; name="caption"\r\n\r\nx\r\n--x--'),
    ("application/x-www-form-urlencoded", b"caption=x&media_ids=1"),
    ("application/merge-patch+json", CAPTION_BODY),
    ("text/plain", b""),  # no body at all still declares a type the route cannot read
])
def test_a_body_route_answers_415_to_a_non_json_content_type(gateway, redis_client, content_type, body):
    ada = register(gateway, redis_client)
    reply = gateway.request("POST", "/api/posts", body=body, headers={"Content-Type": content_type},
                            token=ada.access_token)
    _assert_error(reply, 415, error="unsupported-media-type", names="expects application/json")


@pytest.mark.parametrize("content_type", ["APPLICATION/JSON", "application/json; charset=utf-8",
                                          "Application/Json ; Charset=UTF-8", None])
def test_json_is_accepted_case_insensitively_with_parameters_or_undeclared(gateway, redis_client, content_type):
    ada = register(gateway, redis_client)
    headers = {} if content_type is None else {"Content-Type": content_type}
    reply = gateway.request("PATCH", "/api/me", body=b'{"bio": "typed"}', headers=headers, token=ada.access_token)
    assert reply.status == 200, reply.body
    assert reply.json()["bio"] == "typed"


def test_a_route_without_a_body_ignores_the_content_type(direct):
    ada = register(direct)
    reply = direct.request("GET", "/api/me", headers={"Content-Type": "text/plain"}, token=ada.access_token)
    assert reply.status == 200, reply.body


# --- 4. bodies that are not UTF-8 -------------------------------------------------------------------------

@pytest.mark.parametrize("body", [
    b'{"caption": "\xed\xa0\x80", "media_ids": ["1"]}',  # a UTF-8-encoded surrogate (CESU-8)
    b'{"caption": "\xff", "media_ids": ["1"]}',
    '{"caption": "x", "media_ids": ["1"]}'.encode("utf-16"),  # JSON, but not the UTF-8 JSON must be
])
def test_a_body_that_is_not_utf8_is_400(gateway, redis_client, body):
    ada = register(gateway, redis_client)
    reply = gateway.request("POST", "/api/posts", body=body, headers={"Content-Type": "application/json"},
                            token=ada.access_token)
    _assert_error(reply, 400, error="invalid-body", names="UTF-8")


def test_an_escaped_lone_surrogate_is_400_naming_the_field(direct):
    ada = register(direct)
    reply = direct.request("PATCH", "/api/me", body=b'{"bio": "a\\ud800b"}',
                           headers={"Content-Type": "application/json"}, token=ada.access_token)
    _assert_error(reply, 400, error="invalid-request", names="bio: ")


# --- 5. methods a path does not have ----------------------------------------------------------------------

@pytest.mark.parametrize(("method", "path", "allow"), [
    ("PUT", "/api/me", "GET, PATCH"),
    ("DELETE", "/api/me/settings", "GET, PATCH"),
    ("POST", "/api/posts/1/like", "DELETE, PUT"),
    ("PATCH", "/api/posts/1", "DELETE, GET"),
    ("GET", "/api/posts", "POST"),
    ("GET", "/api/auth/login", "POST"),
    ("POST", "/api/users/ada", "GET"),
])
def test_a_path_under_other_methods_answers_405_with_allow(gateway, redis_client, method, path, allow):
    ada = register(gateway, redis_client)
    reply = gateway.request(method, path, token=ada.access_token)
    _assert_error(reply, 405, error="method-not-allowed", names=allow)
    assert reply.headers["allow"] == allow


def test_an_unknown_path_is_still_404(direct):
    ada = register(direct)
    _assert_error(direct.request("GET", "/api/nowhere", token=ada.access_token), 404, error="not-found")
    _assert_error(direct.request("PUT", "/api/posts/1/nothing", token=ada.access_token), 404, error="not-found")


"""Admission's shortcuts, without services: a verified token is remembered but still expires, and the
home timeline's rate-limit token is left to its own Redis round trip (never dropped)."""

from __future__ import annotations

import importlib
import time
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
import redis

from kafkagram.auth import AccessTokens, RateLimiter
from kafkagram.auth.ratelimit import READS_PER_USER, TAKE_TOKEN_LUA, Take
from kafkagram.auth.tokens import ACCESS_TOKEN_TTL_S, LEEWAY_S, LOCAL_DEVELOPMENT_SECRET
from kafkagram.feed import HOME_PAGE_SCRIPT
from kafkagram.migrations import MIGRATIONS_DIR
from kafkagram.post_cache import CACHED_POSTS_LUA
from kafkagram.timeline import HOME_READ_LUA, LARGE_ACCOUNT_FOLLOWERS
from tests.support.api import API_DIR


def api_module(name: str) -> ModuleType:
    assert API_DIR.is_dir()
    return importlib.import_module(name)


@pytest.fixture
def tokens(monkeypatch: pytest.MonkeyPatch) -> AccessTokens:
    issuer = AccessTokens(LOCAL_DEVELOPMENT_SECRET)
    monkeypatch.setattr(api_module("deps"), "access_tokens", lambda: issuer)
    # A client that is never connected: the unit tier refuses any connection, so a command would fail.
    limiter = RateLimiter(redis.Redis(host="127.0.0.1", port=1))
    monkeypatch.setattr(api_module("deps"), "rate_limiter", lambda: limiter)
    return issuer


def event(method: str, path: str, token: str) -> dict[str, Any]:
    return {"rawPath": path, "headers": {"authorization": f"Bearer {token}"},
            "requestContext": {"http": {"method": method, "sourceIp": "10.0.0.1"}}}


def test_a_verified_token_is_refused_once_it_expires(tokens, monkeypatch):
    routes = api_module("routes")
    token = tokens.issue(42)
    assert routes._verify(f"Bearer {token}") == 42  # verified, and remembered
    assert routes._verify(f"Bearer {token}") == 42
    later = time.time() + ACCESS_TOKEN_TTL_S + LEEWAY_S + 1
    monkeypatch.setattr(time, "time", lambda: later)
    with pytest.raises(api_module("errors").ApiError) as refused:
        routes._verify(f"Bearer {token}")
    assert refused.value.status == 401 and refused.value.code == "token-expired"


def test_a_tampered_token_is_not_taken_for_a_remembered_one(tokens):
    routes = api_module("routes")
    token = tokens.issue(42)
    assert routes._verify(f"Bearer {token}") == 42
    with pytest.raises(api_module("errors").ApiError) as refused:
        routes._verify(f"Bearer {token[:-2]}{'A' if token[-2] != 'A' else 'B'}{token[-1]}")
    assert refused.value.code == "invalid-token"


def test_the_home_timeline_takes_its_token_in_its_own_round_trip(tokens):
    routes = api_module("routes")
    admission = routes.admit(event("GET", "/api/timeline", tokens.issue(42)))
    assert admission.caller == 42 and admission.refused is None
    take = admission.deferred
    assert isinstance(take, Take) and (take.rule, take.key, take.decision) == (READS_PER_USER, 42, None)
    assert ("GET", "/api/timeline") in routes.FOLDED_RATE_LIMIT and len(routes.FOLDED_RATE_LIMIT) == 1


def test_the_home_page_script_composes_its_owners_lua():
    for part in (TAKE_TOKEN_LUA, HOME_READ_LUA, CACHED_POSTS_LUA):
        assert part in HOME_PAGE_SCRIPT


def test_the_large_account_index_holds_the_accounts_above_the_threshold():
    [migration] = Path(MIGRATIONS_DIR).glob("*_large_accounts.sql")
    assert f"WHERE followers_count > {LARGE_ACCOUNT_FOLLOWERS};" in migration.read_text()

"""The API sandbox's long-lived resources: settings, the clients (one PostgreSQL connection, Redis,
the timeline and post-cache owners, the home-timeline reader) and the auth helpers, each made on first
use and kept across invocations. Module state is only touched through these functions, so tests can
`reset()` it.

Routes run their data access through `read` (autocommit) or `write` (one transaction); `write` also
clears the cached copies of the posts the transaction changed, once it has committed.
"""

from __future__ import annotations

from typing import TypeVar

from kafkagram.auth import AccessTokens, RateLimiter, RefreshSessions, ensure_secret_usable
from kafkagram.clients import Clients
from kafkagram.config import Settings, get_settings
from kafkagram.db import Work, changes
from kafkagram.feed import HomeTimeline
from kafkagram.post_cache import PostCache
from kafkagram.timeline import FeedManager

T = TypeVar("T")

_settings: Settings | None = None
_clients: Clients | None = None
_tokens: AccessTokens | None = None
_sessions: RefreshSessions | None = None
_limiter: RateLimiter | None = None
_home: HomeTimeline | None = None


def settings() -> Settings:
    global _settings
    if _settings is None:
        loaded = get_settings()
        # Refuse to serve with the local default secret on AWS (forged tokens otherwise).
        ensure_secret_usable(loaded.auth_token_secret)
        _settings = loaded
    return _settings


def clients() -> Clients:
    global _clients
    if _clients is None:
        _clients = Clients(settings().database_url, settings().redis_url)
    return _clients


def feeds() -> FeedManager:
    return clients().feeds


def post_cache() -> PostCache:
    return clients().post_cache


def home_timeline() -> HomeTimeline:
    global _home
    if _home is None:
        _home = HomeTimeline(feeds(), post_cache())
    return _home


def access_tokens() -> AccessTokens:
    global _tokens
    if _tokens is None:
        _tokens = AccessTokens(settings().auth_token_secret)
    return _tokens


def refresh_sessions() -> RefreshSessions:
    global _sessions
    if _sessions is None:
        _sessions = RefreshSessions(clients().redis)
    return _sessions


def rate_limiter() -> RateLimiter:
    global _limiter
    if _limiter is None:
        _limiter = RateLimiter(clients().redis)
    return _limiter


def read(work: Work[T]) -> T:
    """Read-only `work` in autocommit (retried once on a fresh connection if the old one was dead)."""
    return clients().database.read(work)


def write(work: Work[T]) -> T:
    """`work` in one transaction (the store enqueues its outbox events in it); then the cached copies of
    the posts it changed are forgotten, so the writer's next read shows its write."""
    with clients().database.transaction() as conn:
        result = work(conn)
        changed = changes(conn).posts
    post_cache().forget(*changed)
    return result


def reset() -> None:
    """Forget every singleton (tests that change the environment)."""
    global _settings, _clients, _tokens, _sessions, _limiter, _home
    if _clients is not None:
        _clients.close()
    _settings = _clients = _tokens = _sessions = _limiter = _home = None
    get_settings.cache_clear()



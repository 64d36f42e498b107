"""Per-sandbox singletons: settings, one PostgreSQL connection, the Redis client, the timeline and post
cache owners and the auth helpers.

A Lambda sandbox serves one request at a time and lives for many, so each resource is made on first
use and kept: the connection and the Redis pool are reused across invocations (no connect per
request), and a connection that died between invocations (database restart, idle timeout) is
replaced. Module state is only touched through these functions, so tests can `reset()` it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TypeVar

import pg8000.exceptions
import pg8000.native
import redis

from kafkagram.auth import AccessTokens, RateLimiter, RefreshSessions, ensure_secret_usable
from kafkagram.config import Settings, get_settings
from kafkagram.db import connect
from kafkagram.post_cache import PostCache
from kafkagram.timeline import FeedManager

logger = logging.getLogger(__name__)

T = TypeVar("T")

# What a dead connection raises: pg8000 wraps socket errors in InterfaceError; a server that went
# away mid-read can also surface as a bare OSError.
CONNECTION_ERRORS: tuple[type[BaseException], ...] = (pg8000.exceptions.InterfaceError, OSError)

_settings: Settings | None = None
_connection: pg8000.native.Connection | None = None
_redis: redis.Redis | None = None
_tokens: AccessTokens | None = None
_sessions: RefreshSessions | None = None
_limiter: RateLimiter | None = None
_feeds: FeedManager | None = None
_post_cache: PostCache | None = None


def settings() -> Settings:
    global _settings
    if _settings is None:
        loaded = get_settings()
        # Refuse to serve with the local default secret on AWS (forged tokens otherwise).
        ensure_secret_usable(loaded.auth_token_secret)
        _settings = loaded
    return _settings


def redis_client() -> redis.Redis:
    global _redis
    if _redis is None:
        # redis-py reconnects by itself; the timeouts keep a stuck Redis from eating the Lambda timeout.
        _redis = redis.Redis.from_url(settings().redis_url, socket_timeout=5, socket_connect_timeout=5,
                                      health_check_interval=30)
    return _redis


def feeds() -> FeedManager:
    global _feeds
    if _feeds is None:
        _feeds = FeedManager(redis_client())
    return _feeds


def post_cache() -> PostCache:
    global _post_cache
    if _post_cache is None:
        _post_cache = PostCache(redis_client())
    return _post_cache


def access_tokens() -> AccessTokens:
    global _tokens
    if _tokens is None:
        _tokens = AccessTokens(settings().auth_token_secret)
    return _tokens


def refresh_sessions() -> RefreshSessions:
    global _sessions
    if _sessions is None:
        _sessions = RefreshSessions(redis_client())
    return _sessions


def rate_limiter() -> RateLimiter:
    global _limiter
    if _limiter is None:
        _limiter = RateLimiter(redis_client())
    return _limiter


def _connection_or_new() -> pg8000.native.Connection:
    global _connection
    if _connection is None:
        _connection = connect(settings().database_url)
    return _connection


def _drop_connection() -> None:
    global _connection
    if _connection is not None:
        try:
            _connection.close()
        except Exception:  # already broken: closing is best effort
            logger.debug("closing a broken connection failed", exc_info=True)
    _connection = None


def read(work: Callable[[pg8000.native.Connection], T]) -> T:
    """Run read-only work in autocommit; retried once on a fresh connection if the old one was dead
    (safe: reads have no effect to repeat)."""
    try:
        return work(_connection_or_new())
    except CONNECTION_ERRORS:
        _drop_connection()
        return work(_connection_or_new())


def write(work: Callable[[pg8000.native.Connection], T]) -> T:
    """Run `work` in one transaction (the store enqueues its outbox events in it), committed on success
    and rolled back on any error. Only BEGIN is retried on a fresh connection: once work started,
    repeating it could apply a write twice."""
    try:
        conn = _connection_or_new()
        conn.run("BEGIN")
    except CONNECTION_ERRORS:
        _drop_connection()
        conn = _connection_or_new()
        conn.run("BEGIN")
    try:
        result = work(conn)
        conn.run("COMMIT")
    except CONNECTION_ERRORS:
        _drop_connection()  # the transaction died with the connection: nothing was committed
        raise
    except BaseException:
        try:
            conn.run("ROLLBACK")
        except CONNECTION_ERRORS:
            _drop_connection()
        raise
    return result


def reset() -> None:
    """Forget every singleton (tests that change the environment)."""
    global _settings, _redis, _tokens, _sessions, _limiter, _feeds, _post_cache
    _drop_connection()
    if _redis is not None:
        _redis.close()
    _settings = _redis = _tokens = _sessions = _limiter = _feeds = _post_cache = None
    get_settings.cache_clear()

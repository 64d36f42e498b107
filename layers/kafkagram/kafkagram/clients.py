"""A sandbox's long-lived clients: the database connection, Redis, and the owners built on Redis
(timelines, the WebSocket registry, the post watchers, the post cache).

Lambda reuses a sandbox for many invocations, so each client is made on first use and kept: no
connect per invocation. Settings are read at first use, not at import: handler modules make their
Clients at import, before a test (or `sam local --env-vars`) has set the environment.
"""

from __future__ import annotations

from functools import cached_property

import redis

from kafkagram.config import get_settings
from kafkagram.connections import ConnectionRegistry
from kafkagram.db import Database
from kafkagram.post_cache import PostCache
from kafkagram.timeline import FeedManager
from kafkagram.watchers import PostWatchers

# A stuck Redis fails the invocation (and it is retried) instead of eating the function's timeout.
REDIS_TIMEOUT_S = 5
REDIS_HEALTH_CHECK_S = 30


class Clients:
    def __init__(self, database_url: str | None = None, redis_url: str | None = None, key_prefix: str = "") -> None:
        self.database = Database(database_url)
        self._redis_url = redis_url
        self.key_prefix = key_prefix  # tests isolate their Redis keys with it

    @cached_property
    def redis(self) -> redis.Redis:
        # redis-py reconnects by itself after a dropped connection.
        return redis.Redis.from_url(self._redis_url or get_settings().redis_url, socket_timeout=REDIS_TIMEOUT_S,
                                    socket_connect_timeout=REDIS_TIMEOUT_S,
                                    health_check_interval=REDIS_HEALTH_CHECK_S)

    @cached_property
    def feeds(self) -> FeedManager:
        return FeedManager(self.redis, prefix=self.key_prefix)

    @cached_property
    def registry(self) -> ConnectionRegistry:
        return ConnectionRegistry(self.redis, prefix=self.key_prefix)

    @cached_property
    def watchers(self) -> PostWatchers:
        return PostWatchers(self.redis, prefix=self.key_prefix)

    @cached_property
    def post_cache(self) -> PostCache:
        return PostCache(self.redis, prefix=self.key_prefix)

    def close(self) -> None:
        self.database.close()
        if "redis" in self.__dict__:
            self.redis.close()
            for name in ("redis", "feeds", "registry", "watchers", "post_cache"):
                self.__dict__.pop(name, None)

"""The caller's home timeline (logic in kafkagram.feed: Redis read, rebuild, merge, one hydration)."""

from __future__ import annotations

import deps
import redis
from aws_lambda_powertools.event_handler.router import APIGatewayHttpRouter
from models import AUTHENTICATED, responses, success
from models_posts import PostPage

from kafkagram.feed import home_timeline
from kafkagram.timeline import FeedManager
from routes import BEARER, Caller
from routes.users import Cursor, Limit

router = APIGatewayHttpRouter()
TAGS = ["timeline"]

_feeds: tuple[redis.Redis, FeedManager] | None = None


def feeds() -> FeedManager:
    """One FeedManager per Redis client (deps.reset() makes a new client, so the manager follows it)."""
    global _feeds
    client = deps.redis_client()
    if _feeds is None or _feeds[0] is not client:
        _feeds = (client, FeedManager(client))
    return _feeds[1]


@router.get("/api/timeline", tags=TAGS, summary="The caller's home timeline, newest first", security=BEARER,
            responses=responses(success(200, "OK"), AUTHENTICATED))
def get_timeline(caller: Caller, cursor: Cursor = None, limit: Limit = None) -> PostPage:
    manager = feeds()
    return PostPage.of(deps.read(lambda conn: home_timeline(conn, manager, caller, cursor, limit)))

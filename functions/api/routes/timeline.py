"""The caller's home timeline (logic in kafkagram.feed: Redis read, rebuild, merge, one hydration)."""

from __future__ import annotations

from typing import Annotated, Literal

import deps
from aws_lambda_powertools.event_handler.openapi.params import Query
from aws_lambda_powertools.event_handler.router import APIGatewayHttpRouter
from models.common import AUTHENTICATED, Cursor, Limit, responses, success
from models.posts import PostPage

from kafkagram.db import Connection
from kafkagram.feed import home_timeline, ranked_home_timeline
from kafkagram.store.interactions import liked_post_ids
from routes import BEARER, Caller

router = APIGatewayHttpRouter()
TAGS = ["timeline"]

Order = Annotated[Literal["recent", "ranked"], Query(
    description="recent: newest first (default); ranked: the newest 100 by likes and comments, decayed by age")]


@router.get("/api/timeline", tags=TAGS, summary="The caller's home timeline, newest first or ranked",
            security=BEARER, responses=responses(success(200, "OK"), AUTHENTICATED))
def get_timeline(caller: Caller, cursor: Cursor = None, limit: Limit = None, order: Order = "recent") -> PostPage:
    feeds, cache = deps.feeds(), deps.post_cache()
    read = ranked_home_timeline if order == "ranked" else home_timeline

    def load(conn: Connection) -> PostPage:
        page = read(conn, feeds, cache, caller, cursor, limit)
        return PostPage.of(page, liked_post_ids(conn, caller, [post.id for post in page.items]))

    return deps.read(load)

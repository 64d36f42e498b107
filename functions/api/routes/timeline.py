"""The caller's home timeline (logic in kafkagram.feed: one Redis script for the rate-limit token, the
activity, the range read and the post cache; one PostgreSQL statement for large accounts and likes)."""

from __future__ import annotations

from typing import Annotated, Literal

import deps
from aws_lambda_powertools.event_handler.openapi.params import Query
from aws_lambda_powertools.event_handler.router import APIGatewayHttpRouter
from models.common import AUTHENTICATED, Cursor, Limit, responses, success
from models.posts import PostPage

from kafkagram.db import Connection
from kafkagram.feed import HomePage
from routes import BEARER, Caller, PendingTake

router = APIGatewayHttpRouter()
TAGS = ["timeline"]

Order = Annotated[Literal["recent", "ranked"], Query(
    description="recent: newest first (default); ranked: the newest 100 by likes and comments, decayed by age")]


@router.get("/api/timeline", tags=TAGS, summary="The caller's home timeline, newest first or ranked",
            security=BEARER, responses=responses(success(200, "OK"), AUTHENTICATED))
def get_timeline(caller: Caller, take: PendingTake, cursor: Cursor = None, limit: Limit = None,
                 order: Order = "recent") -> PostPage:
    home = deps.home_timeline()

    def load(conn: Connection) -> HomePage:
        if order == "ranked":
            return home.ranked(conn, caller, cursor, limit, take)
        return home.page(conn, caller, cursor, limit, take)

    page = deps.read(load)
    return PostPage.of(page.page, page.liked)

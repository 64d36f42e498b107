"""Explore: a grid of popular recent posts from people the caller does not follow, suggested people and
trending tags (kafkagram.explore: the grid and the tags are kept in Redis by the Explore handler; the
suggestions are one query)."""

from __future__ import annotations

from typing import Annotated

import deps
from aws_lambda_powertools.event_handler.openapi.params import Query
from aws_lambda_powertools.event_handler.router import APIGatewayHttpRouter
from models.common import AUTHENTICATED, Cursor, responses, success
from models.explore import SuggestionList, TrendingTags
from models.posts import PostPage

from kafkagram.db import Connection
from kafkagram.explore import (
    CANDIDATES,
    DEFAULT_PAGE_SIZE,
    DEFAULT_TRENDING_TAGS,
    SUGGESTIONS,
    TAG_WINDOW_HOURS,
    Discovery,
)
from kafkagram.store import Invalid, Page
from kafkagram.store.pagination import MAX_PAGE_SIZE, decode_cursor
from routes import BEARER, Caller

router = APIGatewayHttpRouter()
TAGS = ["explore"]
MAX_SUGGESTIONS = 50
MAX_TRENDING_TAGS = 50

GridLimit = Annotated[int | None, Query(ge=1, le=MAX_PAGE_SIZE,
                                        description=f"page size (default {DEFAULT_PAGE_SIZE})")]
SuggestionLimit = Annotated[int | None, Query(ge=1, le=MAX_SUGGESTIONS,
                                              description=f"at most (default {SUGGESTIONS})")]
TagLimit = Annotated[int | None, Query(ge=1, le=MAX_TRENDING_TAGS,
                                       description=f"at most (default {DEFAULT_TRENDING_TAGS})")]


def discovery() -> Discovery:
    return Discovery(deps.clients().redis)  # cheap: the scripts' hashes, the sandbox's Redis client


@router.get("/api/explore/posts", tags=TAGS,
            summary="Popular recent posts from people the caller does not follow",
            description=f"The best {CANDIDATES} posts of the last days by likes and comments, decayed by age, "
                        "without the caller's own and followed authors' posts. Ranked again at each request: "
                        "a later page may repeat a post of an earlier one (drop ids already shown).",
            security=BEARER, responses=responses(success(200, "OK"), AUTHENTICATED))
def explore_posts(caller: Caller, cursor: Cursor = None, limit: GridLimit = None) -> PostPage:
    # The cursor is how many of the caller's candidates were shown: bounded by CANDIDATES.
    offset = decode_cursor(cursor) or 0
    if offset >= CANDIDATES:
        raise Invalid("invalid-cursor", "the cursor is not one this list returned")
    n = limit or DEFAULT_PAGE_SIZE

    def load(conn: Connection) -> PostPage:
        page = discovery().page(conn, caller, offset, n)
        posts = deps.post_cache().get_many(conn, page.post_ids)  # deleted since: dropped
        next_cursor = None if page.next_offset is None else str(page.next_offset)
        return PostPage.of(Page(posts, next_cursor), page.liked)

    return deps.read(load)


@router.get("/api/explore/people", tags=TAGS, summary="People followed by people the caller follows",
            security=BEARER, responses=responses(success(200, "OK"), AUTHENTICATED))
def explore_people(caller: Caller, limit: SuggestionLimit = None) -> SuggestionList:
    return SuggestionList.of(deps.read(lambda conn: Discovery.suggestions(conn, caller, limit or SUGGESTIONS)))


@router.get("/api/explore/tags", tags=TAGS, summary="Tags most posted in the last hours",
            security=BEARER, responses=responses(success(200, "OK"), AUTHENTICATED))
def explore_tags(caller: Caller, limit: TagLimit = None) -> TrendingTags:
    return TrendingTags.of(discovery().trending_tags(limit or DEFAULT_TRENDING_TAGS), TAG_WINDOW_HOURS)

"""Hashtags: a tag's published posts, newest first (the web app's /t/<tag> page)."""

from __future__ import annotations

import deps
from aws_lambda_powertools.event_handler.router import APIGatewayHttpRouter
from models.common import AUTHENTICATED, Cursor, Limit, responses, success
from models.posts import PostPage
from models.tags import Hashtag

from kafkagram.store import tags as tags_store
from routes import BEARER, Caller

router = APIGatewayHttpRouter()
TAGS = ["tags"]


@router.get("/api/tags/<tag>/posts", tags=TAGS, summary="A hashtag's published posts, newest first",
            security=BEARER, responses=responses(success(200, "OK"), AUTHENTICATED))
def tag_posts(tag: Hashtag, caller: Caller, cursor: Cursor = None, limit: Limit = None) -> PostPage:
    # The page and the caller's likes of it in one statement, through the posts_hashtags GIN index.
    page, liked = deps.read(lambda conn: tags_store.tag_page(conn, tag, caller, cursor, limit))
    return PostPage.of(page, liked)

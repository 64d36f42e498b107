"""Posts: create (pending until its media are processed), get, delete one's own, and a user's grid."""

from __future__ import annotations

from typing import Annotated

import deps
import pg8000.native
from aws_lambda_powertools.event_handler import Response, content_types
from aws_lambda_powertools.event_handler.openapi.params import Path
from aws_lambda_powertools.event_handler.router import APIGatewayHttpRouter
from models import AUTHENTICATED, no_content, responses, success
from models_posts import (
    POST_CONFLICT,
    POST_FORBIDDEN,
    POST_NOT_FOUND,
    USER_NOT_FOUND,
    CreatePostRequest,
    PostOut,
    PostPage,
)

from kafkagram.events.catalog import ID_PATTERN
from kafkagram.store import posts as posts_store
from kafkagram.store import users as users_store
from kafkagram.store.interactions import liked_post_ids
from routes import BEARER, Caller
from routes.users import Cursor, Limit, Username

router = APIGatewayHttpRouter()
TAGS = ["posts"]

PostId = Annotated[str, Path(pattern=ID_PATTERN, description="post id")]


@router.post("/api/posts", status_code=201, tags=TAGS, summary="Create a post with 1 to 10 of the caller's media",
             security=BEARER, responses=responses(success(201, "Created (pending until its media are processed)"),
                                                  AUTHENTICATED, POST_FORBIDDEN, POST_NOT_FOUND, POST_CONFLICT))
def create_post(body: CreatePostRequest, caller: Caller) -> Response[PostOut]:
    # The store checks ownership (403), purpose and reuse (409) under row locks, in this transaction.
    post = deps.write(lambda conn: posts_store.create_post(conn, caller, body.caption, body.media_id_ints()))
    return Response(status_code=201, content_type=content_types.APPLICATION_JSON, body=PostOut.of(post))


@router.get("/api/posts/<post_id>", tags=TAGS, summary="A post (its author also sees it while pending)",
            security=BEARER, responses=responses(success(200, "OK"), AUTHENTICATED, POST_NOT_FOUND))
def get_post(post_id: PostId, caller: Caller) -> PostOut:
    def load(conn: pg8000.native.Connection) -> PostOut:
        post = posts_store.get_post(conn, int(post_id), viewer_id=caller)
        return PostOut.of(post, post.id in liked_post_ids(conn, caller, [post.id]))

    return deps.read(load)


@router.delete("/api/posts/<post_id>", status_code=204, tags=TAGS, summary="Delete one of the caller's posts",
               security=BEARER, responses=responses(no_content("Deleted"), AUTHENTICATED, POST_FORBIDDEN,
                                                    POST_NOT_FOUND))
def delete_post(post_id: PostId, caller: Caller) -> Response[None]:
    deps.write(lambda conn: posts_store.delete_post(conn, int(post_id), caller))
    deps.post_cache().forget(int(post_id))
    return Response(status_code=204)


@router.get("/api/users/<username>/posts", tags=TAGS, summary="A user's published posts, newest first (grid)",
            security=BEARER, responses=responses(success(200, "OK"), AUTHENTICATED, USER_NOT_FOUND))
def user_posts(username: Username, caller: Caller, cursor: Cursor = None, limit: Limit = None) -> PostPage:
    def load(conn: pg8000.native.Connection) -> PostPage:
        user = users_store.get_user_by_username(conn, username)
        page = posts_store.user_posts_page(conn, user.id, cursor, limit)
        return PostPage.of(page, liked_post_ids(conn, caller, [post.id for post in page.items]))

    return deps.read(load)

"""Posts: create (pending until its media are processed), get, delete one's own, and a user's grid."""

from __future__ import annotations

import deps
from aws_lambda_powertools.event_handler import Response, content_types
from aws_lambda_powertools.event_handler.router import APIGatewayHttpRouter
from models.common import AUTHENTICATED, Cursor, Limit, PostId, Username, no_content, responses, success
from models.media import MEDIA_NOT_FOUND
from models.posts import POST_CONFLICT, POST_FORBIDDEN, POST_NOT_FOUND, CreatePostRequest, PostOut, PostPage
from models.users import NOT_FOUND as USER_NOT_FOUND

from kafkagram.db import Connection
from kafkagram.store import pages
from kafkagram.store import posts as posts_store
from kafkagram.store.interactions import liked_post_ids
from routes import BEARER, Caller

router = APIGatewayHttpRouter()
TAGS = ["posts"]


@router.post("/api/posts", status_code=201, tags=TAGS, summary="Create a post with 1 to 10 of the caller's media",
             security=BEARER, responses=responses(success(201, "Created (pending until its media are processed)"),
                                                  AUTHENTICATED, POST_FORBIDDEN, MEDIA_NOT_FOUND, POST_CONFLICT))
def create_post(body: CreatePostRequest, caller: Caller) -> Response[PostOut]:
    # The store checks ownership (403), purpose and reuse (409) under row locks, in this transaction.
    post = deps.write(lambda conn: posts_store.create_post(conn, caller, body.caption, body.media_ids))
    return Response(status_code=201, content_type=content_types.APPLICATION_JSON, body=PostOut.of(post))


@router.get("/api/posts/<post_id>", tags=TAGS, summary="A post (its author also sees it while pending)",
            security=BEARER, responses=responses(success(200, "OK"), AUTHENTICATED, POST_NOT_FOUND))
def get_post(post_id: PostId, caller: Caller) -> PostOut:
    def load(conn: Connection) -> PostOut:
        post = posts_store.get_post(conn, post_id, viewer_id=caller)
        return PostOut.of(post, post.id in liked_post_ids(conn, caller, [post.id]))

    return deps.read(load)


@router.delete("/api/posts/<post_id>", status_code=204, tags=TAGS, summary="Delete one of the caller's posts",
               security=BEARER, responses=responses(no_content("Deleted"), AUTHENTICATED, POST_FORBIDDEN,
                                                    POST_NOT_FOUND))
def delete_post(post_id: PostId, caller: Caller) -> Response[None]:
    deps.write(lambda conn: posts_store.delete_post(conn, post_id, caller))
    return Response(status_code=204)


@router.get("/api/users/<username>/posts", tags=TAGS, summary="A user's published posts, newest first (grid)",
            security=BEARER, responses=responses(success(200, "OK"), AUTHENTICATED, USER_NOT_FOUND))
def user_posts(username: Username, caller: Caller, cursor: Cursor = None, limit: Limit = None) -> PostPage:
    # The user, the page and the caller's likes of it in one prepared statement (a third of the mix's reads).
    page, liked = deps.read(lambda conn: pages.user_grid_page(conn, username, caller, cursor, limit))
    return PostPage.of(page, liked)

"""Likes (idempotent: repeating is a 204 with no second effect or event) and comments (add, list,
delete by the comment's author or the post's author)."""

from __future__ import annotations

import deps
from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.router import APIGatewayHttpRouter
from models.comments import COMMENT_FORBIDDEN, COMMENT_NOT_FOUND, AddCommentRequest, CommentOut, CommentPage
from models.common import AUTHENTICATED, CommentId, Cursor, Limit, PostId, no_content, responses, success
from models.posts import POST_NOT_FOUND

from kafkagram.db import Connection
from kafkagram.store import interactions as interactions_store
from kafkagram.store import posts as posts_store
from routes import BEARER, Caller

router = APIGatewayHttpRouter()
LIKE_TAGS = ["likes"]
COMMENT_TAGS = ["comments"]
NO_CONTENT = no_content("Done (also when it already was)")


@router.put("/api/posts/<post_id>/like", status_code=204, tags=LIKE_TAGS, summary="Like a post",
            security=BEARER, responses=responses(NO_CONTENT, AUTHENTICATED, POST_NOT_FOUND))
def like(post_id: PostId, caller: Caller) -> Response[None]:
    deps.write(lambda conn: interactions_store.like(conn, caller, post_id))  # 404 unless published
    return Response(status_code=204)


@router.delete("/api/posts/<post_id>/like", status_code=204, tags=LIKE_TAGS, summary="Take back a like",
               security=BEARER, responses=responses(NO_CONTENT, AUTHENTICATED, POST_NOT_FOUND))
def unlike(post_id: PostId, caller: Caller) -> Response[None]:
    deps.write(lambda conn: interactions_store.unlike(conn, caller, post_id))
    return Response(status_code=204)


@router.get("/api/posts/<post_id>/comments", tags=COMMENT_TAGS, summary="A post's comments, oldest first",
            security=BEARER, responses=responses(success(200, "OK"), AUTHENTICATED, POST_NOT_FOUND))
def list_comments(post_id: PostId, caller: Caller, cursor: Cursor = None, limit: Limit = None) -> CommentPage:
    def load(conn: Connection) -> CommentPage:
        # The page alone is empty for a missing post; checking first answers it 404 instead.
        post = posts_store.get_post(conn, post_id, viewer_id=caller)
        return CommentPage.of(interactions_store.comments_page(conn, post.id, cursor, limit))

    return deps.read(load)


@router.post("/api/posts/<post_id>/comments", status_code=201, tags=COMMENT_TAGS, summary="Comment on a post",
             security=BEARER, responses=responses(success(201, "The new comment"), AUTHENTICATED, POST_NOT_FOUND))
def add_comment(post_id: PostId, body: AddCommentRequest, caller: Caller) -> CommentOut:
    # Length rules and mention parsing are the store's; the model only repeats the bounds for the schema.
    return CommentOut.of(deps.write(lambda conn: interactions_store.add_comment(conn, caller, post_id, body.body)))


@router.delete("/api/posts/<post_id>/comments/<comment_id>", status_code=204, tags=COMMENT_TAGS,
               summary="Delete a comment (its author, or the post's author)", security=BEARER,
               responses=responses(no_content("Deleted"), AUTHENTICATED, COMMENT_FORBIDDEN, COMMENT_NOT_FOUND))
def delete_comment(post_id: PostId, comment_id: CommentId, caller: Caller) -> Response[None]:
    deps.write(lambda conn: interactions_store.delete_comment(conn, comment_id, caller, post_id=post_id))
    return Response(status_code=204)

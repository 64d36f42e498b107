"""Likes (idempotent: repeating is a 204 with no second effect or event) and comments (add, list,
delete by the comment's author or the post's author)."""

from __future__ import annotations

import deps
import pg8000.native
from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.router import APIGatewayHttpRouter
from models import AUTHENTICATED, no_content, responses, success
from models_interactions import (
    COMMENT_NOT_FOUND,
    FORBIDDEN,
    POST_NOT_FOUND,
    AddCommentRequest,
    CommentId,
    CommentOut,
    CommentPage,
    PostId,
    db_id,
)

from kafkagram.store import NotFound
from kafkagram.store import interactions as interactions_store
from kafkagram.store import posts as posts_store
from routes import BEARER, Caller
from routes.users import Cursor, Limit

router = APIGatewayHttpRouter()
LIKE_TAGS = ["likes"]
COMMENT_TAGS = ["comments"]
NO_CONTENT = no_content("Done (also when it already was)")


def _post_id(value: str) -> int:
    return db_id(value, "post-not-found", "no such post")


@router.put("/api/posts/<post_id>/like", status_code=204, tags=LIKE_TAGS, summary="Like a post",
            security=BEARER, responses=responses(NO_CONTENT, AUTHENTICATED, POST_NOT_FOUND))
def like(post_id: PostId, caller: Caller) -> Response[None]:
    deps.write(lambda conn: interactions_store.like(conn, caller, _post_id(post_id)))  # 404 unless published
    deps.post_cache().forget(_post_id(post_id))  # its like count changed
    return Response(status_code=204)


@router.delete("/api/posts/<post_id>/like", status_code=204, tags=LIKE_TAGS, summary="Take back a like",
               security=BEARER, responses=responses(NO_CONTENT, AUTHENTICATED, POST_NOT_FOUND))
def unlike(post_id: PostId, caller: Caller) -> Response[None]:
    deps.write(lambda conn: interactions_store.unlike(conn, caller, _post_id(post_id)))
    deps.post_cache().forget(_post_id(post_id))
    return Response(status_code=204)


@router.get("/api/posts/<post_id>/comments", tags=COMMENT_TAGS, summary="A post's comments, oldest first",
            security=BEARER, responses=responses(success(200, "OK"), AUTHENTICATED, POST_NOT_FOUND))
def list_comments(post_id: PostId, caller: Caller, cursor: Cursor = None, limit: Limit = None) -> CommentPage:
    def load(conn: pg8000.native.Connection) -> CommentPage:
        # The page alone is empty for a missing post; checking first answers it 404 instead.
        post = posts_store.get_post(conn, _post_id(post_id), viewer_id=caller)
        return CommentPage.of(interactions_store.comments_page(conn, post.id, cursor, limit))

    return deps.read(load)


@router.post("/api/posts/<post_id>/comments", status_code=201, tags=COMMENT_TAGS, summary="Comment on a post",
             security=BEARER, responses=responses(success(201, "The new comment"), AUTHENTICATED, POST_NOT_FOUND))
def add_comment(post_id: PostId, body: AddCommentRequest, caller: Caller) -> CommentOut:
    # Length rules and mention parsing are the store's; the model only repeats the bounds for the schema.
    comment = deps.write(lambda conn: interactions_store.add_comment(conn, caller, _post_id(post_id), body.body))
    deps.post_cache().forget(comment.post_id)  # its comment count changed
    return CommentOut.of(comment)


@router.delete("/api/posts/<post_id>/comments/<comment_id>", status_code=204, tags=COMMENT_TAGS,
               summary="Delete a comment (its author, or the post's author)", security=BEARER,
               responses=responses(no_content("Deleted"), AUTHENTICATED, FORBIDDEN, COMMENT_NOT_FOUND))
def delete_comment(post_id: PostId, comment_id: CommentId, caller: Caller) -> Response[None]:
    def work(conn: pg8000.native.Connection) -> None:
        number = db_id(comment_id, "comment-not-found", "no such comment")
        # The store deletes by comment id alone; the URL must also name the comment's own post.
        if not conn.run("SELECT 1 FROM comments WHERE id = :id AND post_id = :post AND deleted_at IS NULL",
                        id=number, post=_post_id(post_id)):
            raise NotFound("comment-not-found", "no such comment")
        interactions_store.delete_comment(conn, number, caller)  # Forbidden (403) for anyone else

    deps.write(work)
    deps.post_cache().forget(_post_id(post_id))
    return Response(status_code=204)

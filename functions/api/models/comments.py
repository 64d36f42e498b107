"""Comments on a post."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field, field_validator

from kafkagram.events.catalog import COMMENT_MAX_LENGTH, MENTIONS_MAX
from kafkagram.store.models import Comment
from kafkagram.store.pagination import Page
from models.common import Request, error, next_cursor_field
from models.mentions import limit_mentions
from models.users import UserSummaryOut

COMMENT_FORBIDDEN = error(403, "Only the comment's author or the post's author may delete it")
COMMENT_NOT_FOUND = error(404, "No such post or comment")


class AddCommentRequest(Request):
    # The store strips and re-checks (a blank comment is `empty-comment`); bounds here reach the schema.
    body: str = Field(min_length=1, max_length=COMMENT_MAX_LENGTH,
                      description=f"1 to {COMMENT_MAX_LENGTH} characters; @mentions (at most {MENTIONS_MAX} "
                                  "distinct) notify existing users")

    _mentions = field_validator("body")(limit_mentions)


class CommentOut(BaseModel):
    id: str
    post_id: str
    author: UserSummaryOut
    body: str
    created_at: datetime

    @classmethod
    def of(cls, comment: Comment) -> CommentOut:
        return cls(id=str(comment.id), post_id=str(comment.post_id), author=UserSummaryOut.of(comment.author),
                   body=comment.body, created_at=comment.created_at)


class CommentPage(BaseModel):
    items: list[CommentOut] = Field(description="oldest first (conversation order)")
    next_cursor: str | None = next_cursor_field()

    @classmethod
    def of(cls, page: Page[Comment]) -> CommentPage:
        return cls(items=[CommentOut.of(c) for c in page.items], next_cursor=page.next_cursor)

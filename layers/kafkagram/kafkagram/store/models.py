"""Row models (frozen dataclasses: cheap to build for every row of a page) and the SELECT lists
that produce them, kept side by side so a column and its field cannot drift apart.

Ids are ints here (and in PostgreSQL); the HTTP layer writes them as strings.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import Enum
from typing import Any


class Keep(Enum):
    """`update_profile` argument meaning "leave as it is" (None would mean "clear")."""

    KEEP = "keep"


KEEP = Keep.KEEP

Row = Sequence[Any]


@dataclass(frozen=True, slots=True)
class UserSummary:
    """What lists show of a user (followers, search, authors, notification actors)."""

    id: int
    username: str
    display_name: str
    avatar_media_id: int | None
    avatar_key: str | None = None  # the avatar's smallest variant in the media bucket, for list thumbnails


@dataclass(frozen=True, slots=True)
class User:
    id: int
    username: str
    email: str
    password_hash: str
    display_name: str
    bio: str
    avatar_media_id: int | None
    settings: dict[str, Any]
    followers_count: int
    following_count: int
    posts_count: int
    created_at: datetime
    last_seen_at: datetime
    avatar_key: str | None = None

    @property
    def summary(self) -> UserSummary:
        return UserSummary(self.id, self.username, self.display_name, self.avatar_media_id, self.avatar_key)


# Variants are stored widest first: the last one is the smallest, which is what an avatar is shown at.
# A scalar subquery on the primary key: still one query per page.
_AVATAR_KEY = "(SELECT a.variants->-1->>'object_key' FROM media a WHERE a.id = u.avatar_media_id)"
USER_COLUMNS = ("u.id, u.username, u.email, u.password_hash, u.display_name, u.bio, u.avatar_media_id, "
                "u.settings, u.followers_count, u.following_count, u.posts_count, u.created_at, u.last_seen_at, "
                + _AVATAR_KEY)
SUMMARY_COLUMNS = "u.id, u.username, u.display_name, u.avatar_media_id, " + _AVATAR_KEY
SUMMARY_WIDTH = 5  # columns of SUMMARY_COLUMNS: lists append their cursor column after them
# The same summary as a JSON object, for aggregates (ids as numbers: JSON from PostgreSQL keeps bigints exact
# because pg8000 parses it with Python's json module, whose ints are unbounded).
SUMMARY_JSON = ("json_build_object('id', u.id, 'username', u.username, 'display_name', u.display_name, "
                "'avatar_media_id', u.avatar_media_id, 'avatar_key', " + _AVATAR_KEY + ")")


def user_from_row(row: Row) -> User:
    return User(*row)


def summary_from_row(row: Row) -> UserSummary:
    return UserSummary(*row[:SUMMARY_WIDTH])


def summary_from_json(value: dict[str, Any]) -> UserSummary:
    return UserSummary(value["id"], value["username"], value["display_name"], value["avatar_media_id"],
                       value.get("avatar_key"))


@dataclass(frozen=True, slots=True)
class Media:
    id: int
    owner_id: int
    purpose: str
    status: str
    content_type: str
    size_bytes: int
    object_key: str
    width: int | None
    height: int | None
    variants: list[dict[str, Any]]
    blurhash: str | None
    failure_reason: str | None
    failure_message: str | None
    created_at: datetime


MEDIA_COLUMNS = ("m.id, m.owner_id, m.purpose, m.status, m.content_type, m.size_bytes, m.object_key, m.width, "
                 "m.height, m.variants, m.blurhash, m.failure_reason, m.failure_message, m.created_at")


def media_from_row(row: Row) -> Media:
    return Media(*row)


@dataclass(frozen=True, slots=True)
class PostMedia:
    """A post's picture as shown: dimensions, placeholder and resized variants (empty until ready)."""

    id: int
    width: int | None
    height: int | None
    blurhash: str | None
    variants: list[dict[str, Any]]


@dataclass(frozen=True, slots=True)
class Post:
    id: int
    author: UserSummary
    caption: str
    status: str
    mentions: list[str]
    hashtags: list[str]
    likes_count: int
    comments_count: int
    created_at: datetime
    published_at: datetime | None
    media: list[PostMedia] = field(default_factory=list)
    failure_reason: str | None = None  # why processing refused a media of a failed post

    @property
    def author_id(self) -> int:
        return self.author.id


# A post with its author and its media in order, in one row (no query per post).
POST_SELECT = (
    "SELECT p.id, p.caption, p.status, p.mentions, p.hashtags, p.likes_count, p.comments_count, "
    "p.created_at, p.published_at, " + SUMMARY_COLUMNS + ", "
    "(SELECT coalesce(json_agg(json_build_object('id', m.id, 'width', m.width, 'height', m.height, "
    "'blurhash', m.blurhash, 'variants', m.variants) ORDER BY pm.position), '[]') "
    " FROM post_media pm JOIN media m ON m.id = pm.media_id WHERE pm.post_id = p.id) AS media, "
    "p.failure_reason "
    "FROM posts p JOIN users u ON u.id = p.author_id"
)


def post_from_row(row: Row) -> Post:
    media = [PostMedia(m["id"], m["width"], m["height"], m["blurhash"], m["variants"]) for m in row[9 + SUMMARY_WIDTH]]
    return Post(id=row[0], author=summary_from_row(row[9:]), caption=row[1], status=row[2], mentions=row[3],
                hashtags=row[4], likes_count=row[5], comments_count=row[6], created_at=row[7],
                published_at=row[8], media=media, failure_reason=row[10 + SUMMARY_WIDTH])


@dataclass(frozen=True, slots=True)
class Comment:
    id: int
    post_id: int
    author: UserSummary
    body: str
    created_at: datetime


COMMENT_COLUMNS = "c.id, c.post_id, c.body, c.created_at, " + SUMMARY_COLUMNS


def comment_from_row(row: Row) -> Comment:
    return Comment(id=row[0], post_id=row[1], body=row[2], created_at=row[3], author=summary_from_row(row[4:]))


@dataclass(frozen=True, slots=True)
class Notification:
    """A group: `actors` are the newest few (newest first), `actor_count` all of them."""

    id: int
    recipient_id: int
    kind: str
    post_id: int | None
    comment_id: int | None
    text: str | None
    actors: list[UserSummary]
    actor_count: int
    activity_id: int  # the list's order and cursor
    created_at: datetime
    updated_at: datetime
    read_at: datetime | None

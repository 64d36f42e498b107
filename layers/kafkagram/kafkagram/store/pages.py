"""The API's most frequent reads, each ONE prepared statement: what a home-timeline page asks
PostgreSQL (the followed large accounts' posts and the viewer's likes), and a user's grid page (the
user, their posts and the viewer's likes of them).

A statement is prepared once per connection (a named statement: parsed and planned once, then only
bound and executed), because these pages are most of the API's traffic and planning them each time
cost more than running them; pg8000 also rewrites a statement's text in Python on every `run`. The
large-account threshold is written into the text rather than bound, so even the generic plan reads the
partial index `users_large_accounts` (migration 0005), which holds only the users above it: a handful
at most, whatever the size of `users`.
"""

from __future__ import annotations

import weakref
from collections.abc import Iterable
from dataclasses import dataclass, field

import pg8000.native

from kafkagram.store.errors import NotFound
from kafkagram.store.models import POST_SELECT, Post, post_from_row
from kafkagram.store.pagination import MAX_ID, Page, decode_cursor, page_size

# Rows: (post id, author id, liked). A large account's post has its author; a liked post of the page
# has none. A post in both parts (a large account's post fanned out before it became large) comes twice.
_HOME_PAGE_EXTRAS = """
WITH large AS (
    SELECT p.id, p.author_id
    FROM users u
    CROSS JOIN LATERAL (
        SELECT id, author_id FROM posts
        WHERE author_id = u.id AND status = 'published' AND id < :before
        ORDER BY id DESC LIMIT :n) p
    WHERE u.followers_count > {threshold}
      AND EXISTS (SELECT 1 FROM follows f WHERE f.follower_id = :viewer AND f.followee_id = u.id)
    ORDER BY p.id DESC LIMIT :n
)
SELECT id, author_id, EXISTS (SELECT 1 FROM likes l WHERE l.post_id = large.id AND l.user_id = :viewer)
FROM large
UNION ALL
SELECT post_id, NULL, TRUE FROM likes WHERE post_id = ANY(CAST(:ids AS bigint[])) AND user_id = :viewer
"""

# Rows: (author id, liked, *POST_SELECT's columns), newest first; one row of NULL post columns when the
# user has no post below the cursor; no row when there is no such user.
_USER_GRID_PAGE = f"""
SELECT a.id, page.* FROM (SELECT id FROM users WHERE lower(username) = lower(:username)) a
LEFT JOIN LATERAL (
    SELECT EXISTS (SELECT 1 FROM likes l WHERE l.post_id = p.id AND l.user_id = :viewer),
    {POST_SELECT.removeprefix("SELECT ")}
    WHERE p.author_id = a.id AND p.status = 'published' AND p.id < :before
    ORDER BY p.id DESC LIMIT :n
) page ON TRUE
"""

_prepared: weakref.WeakKeyDictionary[pg8000.native.Connection, dict[str, pg8000.native.PreparedStatement]] = (
    weakref.WeakKeyDictionary())


def _statement(conn: pg8000.native.Connection, sql: str) -> pg8000.native.PreparedStatement:
    statements = _prepared.setdefault(conn, {})
    statement = statements.get(sql)
    if statement is None:
        statement = statements[sql] = conn.prepare(sql)
    return statement


@dataclass(frozen=True)
class HomePageExtras:
    large_posts: list[tuple[int, int]] = field(default_factory=list)  # (post_id, author_id), newest first
    liked: set[int] = field(default_factory=set)  # among the page's posts and large_posts


def home_page_extras(conn: pg8000.native.Connection, viewer_id: int, page_ids: Iterable[int], before: int | None,
                     limit: int, large_account_followers: int) -> HomePageExtras:
    """The newest `limit` published posts below `before` of the accounts with more than
    `large_account_followers` followers that the viewer follows, and which of `page_ids` and of those
    posts the viewer likes: one prepared statement."""
    statement = _statement(conn, _HOME_PAGE_EXTRAS.format(threshold=int(large_account_followers)))
    rows = statement.run(viewer=viewer_id, ids=list(dict.fromkeys(page_ids)), n=limit,
                         before=MAX_ID if before is None else before)
    large = [(int(post_id), int(author_id)) for post_id, author_id, _ in rows if author_id is not None]
    return HomePageExtras(large, {int(post_id) for post_id, _, liked in rows if liked})


def user_grid_page(conn: pg8000.native.Connection, username: str, viewer_id: int, cursor: str | None = None,
                   limit: int | None = None) -> tuple[Page[Post], set[int]]:
    """A user's published posts, newest first (the profile grid; the cursor is a post id), and the ids
    among them the viewer likes; NotFound("user-not-found") for no such user."""
    n = page_size(limit)
    before = decode_cursor(cursor)
    rows = _statement(conn, _USER_GRID_PAGE).run(username=username, viewer=viewer_id, n=n + 1,
                                                 before=MAX_ID if before is None else before)
    if not rows:
        raise NotFound("user-not-found", "no such user")
    posts = [row for row in rows if row[2] is not None]
    kept = [post_from_row(row[2:]) for row in posts[:n]]
    next_cursor = str(kept[-1].id) if len(posts) > n and kept else None
    return Page(kept, next_cursor), {post.id for post, row in zip(kept, posts, strict=False) if row[1]}

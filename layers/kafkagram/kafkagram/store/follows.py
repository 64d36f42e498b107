"""The follow graph: follow and unfollow (idempotent, counters kept with the rows), and its lists."""

from __future__ import annotations

import pg8000.native

from kafkagram.events import USER_FOLLOWED, USER_UNFOLLOWED, new_event
from kafkagram.outbox import enqueue, require_transaction
from kafkagram.store.errors import Invalid, NotFound
from kafkagram.store.models import SUMMARY_COLUMNS, SUMMARY_WIDTH, UserSummary, summary_from_row
from kafkagram.store.pagination import Page, build_page, decode_cursor, page_size

# One statement: the edge and both counters change together, and only when the edge really was
# inserted (a repeated follow changes nothing). The UPDATE also locks the follower's row, which
# orders this follower's followed/unfollowed events (their Kafka key) by commit.
_FOLLOW = """
WITH edge AS (
    INSERT INTO follows (follower_id, followee_id)
    SELECT :follower, :followee WHERE EXISTS (SELECT 1 FROM users WHERE id = :followee)
    ON CONFLICT DO NOTHING RETURNING 1
), counted AS (
    UPDATE users SET following_count = following_count + CASE WHEN id = :follower THEN 1 ELSE 0 END,
                     followers_count = followers_count + CASE WHEN id = :followee THEN 1 ELSE 0 END
    WHERE id IN (:follower, :followee) AND EXISTS (SELECT 1 FROM edge) RETURNING 1
)
SELECT (SELECT count(*) FROM edge), (SELECT count(*) FROM counted)
"""
_UNFOLLOW = """
WITH edge AS (
    DELETE FROM follows WHERE follower_id = :follower AND followee_id = :followee RETURNING 1
), counted AS (
    UPDATE users SET following_count = following_count - CASE WHEN id = :follower THEN 1 ELSE 0 END,
                     followers_count = followers_count - CASE WHEN id = :followee THEN 1 ELSE 0 END
    WHERE id IN (:follower, :followee) AND EXISTS (SELECT 1 FROM edge) RETURNING 1
)
SELECT (SELECT count(*) FROM edge), (SELECT count(*) FROM counted)
"""


def _edge_data(follower_id: int, followee_id: int) -> dict[str, str]:
    return {"follower_id": str(follower_id), "followee_id": str(followee_id)}


def follow(conn: pg8000.native.Connection, follower_id: int, followee_id: int) -> bool:
    """Follow a user; True if the follow is new (then user-followed is emitted), False if it existed."""
    require_transaction(conn, "follow")
    if follower_id == followee_id:
        raise Invalid("cannot-follow-self", "you cannot follow yourself")
    [[inserted, _]] = conn.run(_FOLLOW, follower=follower_id, followee=followee_id)
    if not inserted:
        if not conn.run("SELECT 1 FROM users WHERE id = :id", id=followee_id):
            raise NotFound("user-not-found", "no such user")
        return False
    enqueue(conn, new_event(USER_FOLLOWED, _edge_data(follower_id, followee_id), follower_id))
    return True


def unfollow(conn: pg8000.native.Connection, follower_id: int, followee_id: int) -> bool:
    """Stop following; True if there was a follow (then user-unfollowed is emitted)."""
    require_transaction(conn, "unfollow")
    [[deleted, _]] = conn.run(_UNFOLLOW, follower=follower_id, followee=followee_id)
    if not deleted:
        return False
    enqueue(conn, new_event(USER_UNFOLLOWED, _edge_data(follower_id, followee_id), follower_id))
    return True


def is_following(conn: pg8000.native.Connection, follower_id: int, followee_id: int) -> bool:
    return bool(conn.run("SELECT 1 FROM follows WHERE follower_id = :a AND followee_id = :b",
                         a=follower_id, b=followee_id))


def _edge_page(conn: pg8000.native.Connection, user_id: int, mine: str, theirs: str, cursor: str | None,
               limit: int | None) -> Page[UserSummary]:
    # Newest follow first; the cursor is the follow edge's id.
    n = page_size(limit)
    rows = conn.run(f"SELECT {SUMMARY_COLUMNS}, f.id FROM follows f JOIN users u ON u.id = f.{theirs} "
                    f"WHERE f.{mine} = :user AND f.id < :before ORDER BY f.id DESC LIMIT :n",
                    user=user_id, before=_before(cursor), n=n + 1)
    return build_page(rows, n, summary_from_row, lambda row: row[SUMMARY_WIDTH])


def _before(cursor: str | None) -> int:
    decoded = decode_cursor(cursor)
    return 2**63 - 1 if decoded is None else decoded


def followers_page(conn: pg8000.native.Connection, user_id: int, cursor: str | None = None,
                   limit: int | None = None) -> Page[UserSummary]:
    """Who follows `user_id`, most recent follow first."""
    return _edge_page(conn, user_id, "followee_id", "follower_id", cursor, limit)


def following_page(conn: pg8000.native.Connection, user_id: int, cursor: str | None = None,
                   limit: int | None = None) -> Page[UserSummary]:
    """Whom `user_id` follows, most recent follow first."""
    return _edge_page(conn, user_id, "follower_id", "followee_id", cursor, limit)


def follower_ids(conn: pg8000.native.Connection, user_id: int) -> list[int]:
    """Everyone who follows `user_id` (fan-out), from an index-only scan."""
    return [int(row[0]) for row in conn.run("SELECT follower_id FROM follows WHERE followee_id = :user",
                                            user=user_id)]


def follower_ids_unless_more_than(conn: pg8000.native.Connection, user_ids: list[int],
                                  count: int) -> dict[int, list[int] | None]:
    """Everyone who follows each of these users, in one query (a batch's fan-out); None for a user with
    more than `count` followers (`users.followers_count`), whose followers are not even read."""
    found: dict[int, list[int] | None] = {}
    rows = conn.run("SELECT u.id, u.followers_count > :count, f.follower_id FROM users u "
                    "LEFT JOIN follows f ON f.followee_id = u.id AND u.followers_count <= :count "
                    "WHERE u.id = ANY(CAST(:users AS bigint[]))", users=user_ids, count=count)
    for user_id, large, follower in rows:
        followers = found.setdefault(int(user_id), None if large else [])
        if followers is not None and follower is not None:
            followers.append(int(follower))
    return found


def followee_ids(conn: pg8000.native.Connection, user_id: int) -> list[int]:
    """Everyone `user_id` follows (timeline rebuilds)."""
    return [int(row[0]) for row in conn.run("SELECT followee_id FROM follows WHERE follower_id = :user",
                                            user=user_id)]



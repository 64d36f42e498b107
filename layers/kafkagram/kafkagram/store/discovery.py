"""What Explore asks PostgreSQL: the state of the posts events touched (the Discovery handler derives
its Redis entries from it, never from increments), the posts of a window for rebuilds, the filter that
keeps a viewer's own and followed authors' posts out of their grid, and suggested people.

The Redis side, the constants and the ranking are `kafkagram.explore.Discovery`'s; this module only reads.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import pg8000.native

from kafkagram.ids import min_id_at
from kafkagram.store.models import SUMMARY_COLUMNS, SUMMARY_WIDTH, UserSummary, summary_from_row

# Ids are made when a post is created and it is published once its media are processed: a day covers
# the slowest upload, so "published since" can bound its scan by the primary key.
PUBLISH_SLACK = timedelta(days=1)


@dataclass(frozen=True, slots=True)
class PostState:
    """A post as Explore ranks it. `published_at` stays on a deleted post, so its tag bucket is known."""

    id: int
    published: bool
    published_at: datetime | None
    likes_count: int
    comments_count: int
    hashtags: list[str]


_STATE_COLUMNS = "p.id, p.status = 'published', p.published_at, p.likes_count, p.comments_count, p.hashtags"


def _state(row: Sequence[Any]) -> PostState:
    post_id, published, published_at, likes, comments, hashtags = row
    return PostState(int(post_id), bool(published), published_at, int(likes), int(comments), list(hashtags or []))


def post_states(conn: pg8000.native.Connection, post_ids: Sequence[int]) -> dict[int, PostState]:
    """The current state of these posts (a missing id has no entry), in one query on the primary key."""
    ids = list(dict.fromkeys(post_ids))
    if not ids:
        return {}
    rows = conn.run(f"SELECT {_STATE_COLUMNS} FROM posts p WHERE p.id = ANY(CAST(:ids AS bigint[]))", ids=ids)
    return {state.id: state for state in map(_state, rows)}


def best_published_since(conn: pg8000.native.Connection, since: datetime, limit: int, comment_weight: float,
                         half_life_s: float) -> list[PostState]:
    """The best `limit` posts published since `since` by Discovery's ranking: log2 of 1 + likes +
    comment_weight x comments, plus the publication time in half-lives (`kafkagram.explore.popularity`,
    repeated here so that a rebuild transfers only what it keeps)."""
    rows = conn.run(f"SELECT {_STATE_COLUMNS} FROM posts p WHERE p.status = 'published' "
                    "AND p.id >= :min_id AND p.published_at >= :since "
                    "ORDER BY log(2.0, CAST(1 + p.likes_count + CAST(:weight AS float8) * p.comments_count "
                    "AS numeric)) "
                    "+ extract(epoch FROM p.published_at) / CAST(:half_life AS float8) DESC, p.id DESC LIMIT :n",
                    min_id=min_id_at(since - PUBLISH_SLACK), since=since, n=limit, weight=comment_weight,
                    half_life=half_life_s)
    return [_state(row) for row in rows]


def tagged_published_since(conn: pg8000.native.Connection, since: datetime) -> list[PostState]:
    """Published posts with hashtags published since `since` (the trending window's rebuild)."""
    rows = conn.run(f"SELECT {_STATE_COLUMNS} FROM posts p WHERE p.status = 'published' "
                    "AND p.id >= :min_id AND p.published_at >= :since AND cardinality(p.hashtags) > 0",
                    min_id=min_id_at(since - PUBLISH_SLACK), since=since)
    return [_state(row) for row in rows]


# The candidates in rank order (ordinality), without the viewer's own and followed authors' posts and
# without posts no longer published; with whether the viewer likes each. The follows primary key
# (follower_id, followee_id) answers each NOT EXISTS with one index probe.
_UNFOLLOWED_PAGE = """
SELECT c.id, EXISTS (SELECT 1 FROM likes l WHERE l.post_id = c.id AND l.user_id = :viewer)
FROM unnest(CAST(:ids AS bigint[])) WITH ORDINALITY AS c(id, rank)
JOIN posts p ON p.id = c.id
WHERE p.status = 'published' AND p.author_id <> :viewer
  AND NOT EXISTS (SELECT 1 FROM follows f WHERE f.follower_id = :viewer AND f.followee_id = p.author_id)
ORDER BY c.rank OFFSET :offset LIMIT :n
"""


def unfollowed_posts(conn: pg8000.native.Connection, viewer_id: int, ranked_ids: Sequence[int], offset: int,
                     limit: int) -> list[tuple[int, bool]]:
    """(post id, liked by the viewer) of `ranked_ids` whose author is neither the viewer nor followed by
    them, in the given order, from `offset`, at most `limit`: one query."""
    if not ranked_ids or limit < 1:
        return []
    rows = conn.run(_UNFOLLOWED_PAGE, viewer=viewer_id, ids=list(ranked_ids), offset=offset, n=limit)
    return [(int(post_id), bool(liked)) for post_id, liked in rows]


# People followed by the people the viewer follows, by how many of them (the mutuals). Both fan-outs are
# sampled (the most recent follows first), so a viewer following thousands costs at most
# :followees x :per_followee index rows; the counts are exact below those bounds.
_SUGGESTIONS = f"""
WITH mine AS (
    SELECT followee_id FROM follows WHERE follower_id = :viewer ORDER BY id DESC LIMIT :followees
), theirs AS (
    SELECT f2.followee_id AS user_id, count(*) AS mutuals
    FROM mine CROSS JOIN LATERAL (
        SELECT followee_id FROM follows
        WHERE follower_id = mine.followee_id ORDER BY id DESC LIMIT :per_followee) f2
    GROUP BY f2.followee_id
)
SELECT {SUMMARY_COLUMNS}, t.mutuals
FROM theirs t JOIN users u ON u.id = t.user_id
WHERE t.user_id <> :viewer
  AND NOT EXISTS (SELECT 1 FROM follows f WHERE f.follower_id = :viewer AND f.followee_id = t.user_id)
ORDER BY t.mutuals DESC, u.followers_count DESC, u.id
LIMIT :n
"""


def suggested_people(conn: pg8000.native.Connection, viewer_id: int, limit: int, followees_sample: int,
                     per_followee_sample: int) -> list[tuple[UserSummary, int]]:
    """(user, mutuals): people the viewer does not follow whom the people they follow follow, most
    mutuals first (then most followed): one query."""
    rows = conn.run(_SUGGESTIONS, viewer=viewer_id, n=limit, followees=followees_sample,
                    per_followee=per_followee_sample)
    return [(summary_from_row(row), int(row[SUMMARY_WIDTH])) for row in rows]

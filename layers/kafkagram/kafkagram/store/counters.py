"""The denormalized counters (followers, following, posts; likes and comments per post) recomputed
from the rows they count. The flows keep them current in the transaction of each change; this is the
repair for data loaded around them or damaged (`kafkagram rebuild counters`)."""

from __future__ import annotations

import pg8000.native

from kafkagram.outbox import require_transaction

# Each statement sets one counter to what the rows say, touching only the rows that were wrong.
_RECOUNTS = {
    "users.followers_count": """
        UPDATE users u SET followers_count = c.n
        FROM (SELECT u2.id, count(f.follower_id) AS n FROM users u2
              LEFT JOIN follows f ON f.followee_id = u2.id GROUP BY u2.id) c
        WHERE u.id = c.id AND u.followers_count <> c.n""",
    "users.following_count": """
        UPDATE users u SET following_count = c.n
        FROM (SELECT u2.id, count(f.followee_id) AS n FROM users u2
              LEFT JOIN follows f ON f.follower_id = u2.id GROUP BY u2.id) c
        WHERE u.id = c.id AND u.following_count <> c.n""",
    "users.posts_count": """
        UPDATE users u SET posts_count = c.n
        FROM (SELECT u2.id, count(p.id) AS n FROM users u2
              LEFT JOIN posts p ON p.author_id = u2.id AND p.status = 'published' GROUP BY u2.id) c
        WHERE u.id = c.id AND u.posts_count <> c.n""",
    "posts.likes_count": """
        UPDATE posts p SET likes_count = c.n
        FROM (SELECT p2.id, count(l.user_id) AS n FROM posts p2
              LEFT JOIN likes l ON l.post_id = p2.id GROUP BY p2.id) c
        WHERE p.id = c.id AND p.likes_count <> c.n""",
    "posts.comments_count": """
        UPDATE posts p SET comments_count = c.n
        FROM (SELECT p2.id, count(cm.id) AS n FROM posts p2
              LEFT JOIN comments cm ON cm.post_id = p2.id AND cm.deleted_at IS NULL GROUP BY p2.id) c
        WHERE p.id = c.id AND p.comments_count <> c.n""",
}


def recount(conn: pg8000.native.Connection) -> dict[str, int]:
    """Correct every counter in the caller's transaction; returns how many rows each one corrected."""
    require_transaction(conn, "recount")
    corrected = {}
    for counter, statement in _RECOUNTS.items():
        conn.run(statement)
        corrected[counter] = int(conn.row_count)
    return corrected

"""The ranked feed's score: engagement lifts a post, age sinks it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from kafkagram.feed import engagement_rank
from kafkagram.store.models import Post, UserSummary

NOW = datetime(2026, 11, 29, 12, 0, tzinfo=UTC)


def post(hours_old: float, likes: int = 0, comments: int = 0) -> Post:
    at = NOW - timedelta(hours=hours_old)
    return Post(id=1, author=UserSummary(1, "ada", "Ada", None), caption="", status="published", mentions=[],
                hashtags=[], likes_count=likes, comments_count=comments, created_at=at, published_at=at)


def test_more_engagement_ranks_higher_at_the_same_age():
    assert engagement_rank(post(1, likes=5), NOW) > engagement_rank(post(1, likes=4), NOW)
    assert engagement_rank(post(1, comments=1), NOW) > engagement_rank(post(1, likes=1), NOW)


def test_the_same_engagement_ranks_lower_with_age():
    assert engagement_rank(post(1, likes=10), NOW) > engagement_rank(post(24, likes=10), NOW)


def test_a_day_old_hit_yields_to_a_fresh_post_only_when_it_is_much_older():
    assert engagement_rank(post(24, likes=100), NOW) > engagement_rank(post(0), NOW)
    assert engagement_rank(post(24 * 30, likes=100), NOW) < engagement_rank(post(0), NOW)

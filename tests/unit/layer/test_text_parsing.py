"""@mentions and #hashtags in captions and comments."""

from __future__ import annotations

import pytest

from kafkagram.store import posts


@pytest.mark.parametrize(("text", "mentions", "hashtags"), [
    ("Engines #Math with @Bob.", ["bob"], ["math"]),
    ("@ada @ADA #x #X #y", ["ada"], ["x", "y"]),
    ("mail me at ada@example.com", [], []),
    ("(@bob_1, @c.d) #café#second", ["bob_1", "c.d"], ["café"]),
    ("issue#4 and @ alone #", [], []),
    ("@" + "a" * 31, [], []),
    ("#" + "t" * 101 + " #ok", [], ["ok"]),
])
def test_parse_text_finds_mentions_and_hashtags(text, mentions, hashtags):
    parsed = posts.parse_text(text)
    assert (parsed.mentions, parsed.hashtags) == (mentions, hashtags)

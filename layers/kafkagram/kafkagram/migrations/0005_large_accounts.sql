-- The accounts above kafkagram.timeline.LARGE_ACCOUNT_FOLLOWERS (10,000 followers), whose posts are
-- merged into their followers' home timelines at read time: every home-timeline page asks which of them
-- the reader follows (kafkagram.store.pages), so that question reads this index (a handful of rows at
-- most) instead of scanning `users`. The threshold must stay the one in timeline.py (a unit test checks).
CREATE INDEX users_large_accounts ON users (id) WHERE followers_count > 10000;

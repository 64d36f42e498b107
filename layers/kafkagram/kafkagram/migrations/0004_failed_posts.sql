-- A post whose media was refused by processing becomes 'failed' with the media's reason, instead of
-- waiting as 'pending' forever; its author sees why. Failed posts are never published or fanned out.
ALTER TABLE posts DROP CONSTRAINT posts_status_check;
ALTER TABLE posts ADD CONSTRAINT posts_status_check
    CHECK (status IN ('pending', 'published', 'deleted', 'failed'));
ALTER TABLE posts ADD COLUMN failure_reason text;
ALTER TABLE posts ADD CONSTRAINT posts_failure_reason_check CHECK ((status = 'failed') = (failure_reason IS NOT NULL));

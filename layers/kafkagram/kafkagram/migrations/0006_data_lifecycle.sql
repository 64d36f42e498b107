-- Failure records a function diverts (kafkagram.poison) keep the original record's key, and a record
-- may have had none: the outbox then publishes without a key.
ALTER TABLE outbox ALTER COLUMN key DROP NOT NULL;

-- When a media was first attached to a post or made someone's avatar. Media never attached expire
-- (kafkagram.flows.media_cleanup sweeps them after UNATTACHED_MEDIA_TTL); the triggers keep this
-- column true whoever attaches (the store, or the seed's bulk INSERTs).
ALTER TABLE media ADD COLUMN attached_at timestamptz;
UPDATE media m SET attached_at = m.updated_at
WHERE EXISTS (SELECT 1 FROM post_media pm WHERE pm.media_id = m.id)
   OR EXISTS (SELECT 1 FROM users u WHERE u.avatar_media_id = m.id);
-- The sweep's candidates only: the few media not attached yet, oldest first.
CREATE INDEX media_unattached ON media (created_at) WHERE attached_at IS NULL;

CREATE FUNCTION media_attached_to_posts() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE media m SET attached_at = now() FROM attached a WHERE m.id = a.media_id AND m.attached_at IS NULL;
    RETURN NULL;
END;
$$;
CREATE TRIGGER post_media_attaches AFTER INSERT ON post_media REFERENCING NEW TABLE AS attached
    FOR EACH STATEMENT EXECUTE FUNCTION media_attached_to_posts();

CREATE FUNCTION media_attached_as_avatar() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE media SET attached_at = now() WHERE id = NEW.avatar_media_id AND attached_at IS NULL;
    RETURN NULL;
END;
$$;
CREATE TRIGGER avatar_attaches AFTER INSERT OR UPDATE OF avatar_media_id ON users
    FOR EACH ROW WHEN (NEW.avatar_media_id IS NOT NULL) EXECUTE FUNCTION media_attached_as_avatar();

-- Deleting a comment redacts its text from the notifications quoting it (store.notifications.redact_comment).
CREATE INDEX notifications_comment ON notifications (comment_id) WHERE comment_id IS NOT NULL;

-- Email verification (kafkagram.store.email_verification): no email goes to an address its owner has
-- not confirmed by following the link sent at registration. Existing accounts start unverified.
ALTER TABLE users ADD COLUMN email_verified_at timestamptz;

-- One row per link sent; only the SHA-256 of the token is kept (a database read gives no working
-- link). `email` is the address the link was sent to: a link confirms that address only.
CREATE TABLE email_verifications (
    token_hash bytea       PRIMARY KEY,
    user_id    bigint      NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    email      text        NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    expires_at timestamptz NOT NULL,
    used_at    timestamptz
);
CREATE INDEX email_verifications_user ON email_verifications (user_id, created_at DESC);

-- The per-author cap on mention notifications (kafkagram.flows.notify) counts a recipient's recent ones.
CREATE INDEX notifications_recent_mentions ON notifications (recipient_id, created_at) WHERE kind = 'mention';

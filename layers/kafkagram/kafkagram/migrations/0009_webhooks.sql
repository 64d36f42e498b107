-- Webhooks (kafkagram.webhooks): endpoints a user registers for their own account, the deliveries made
-- to them (one per endpoint, event and kind: its id is the X-Kafkagram-Delivery header) and every
-- attempt of each (for the settings page).

-- `secret_box` is the signing secret encrypted with the key from settings (AES-256-GCM, the endpoint's
-- id as associated data): a database read alone gives no secret that signs.
CREATE TABLE webhook_endpoints (
    id         bigint      PRIMARY KEY,
    user_id    bigint      NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    url        text        NOT NULL,
    kinds      text[]      NOT NULL,
    secret_box bytea       NOT NULL,
    paused     boolean     NOT NULL DEFAULT false,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX webhook_endpoints_user ON webhook_endpoints (user_id, id);

-- `state` is failed once the attempts reached the event source mapping's last retry; a redrive of the
-- record may still deliver it. `payload` is the body, the same on every attempt.
CREATE TABLE webhook_deliveries (
    id          uuid        PRIMARY KEY,
    endpoint_id bigint      NOT NULL REFERENCES webhook_endpoints (id) ON DELETE CASCADE,
    event_id    text        NOT NULL,
    kind        text        NOT NULL,
    payload     jsonb       NOT NULL,
    state       text        NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'delivered', 'failed')),
    attempts    integer     NOT NULL DEFAULT 0,
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX webhook_deliveries_endpoint ON webhook_deliveries (endpoint_id, created_at DESC);

CREATE TABLE webhook_attempts (
    delivery_id  uuid        NOT NULL REFERENCES webhook_deliveries (id) ON DELETE CASCADE,
    attempt      integer     NOT NULL,
    attempted_at timestamptz NOT NULL DEFAULT now(),
    status_code  integer,
    duration_ms  integer     NOT NULL,
    error        text,
    PRIMARY KEY (delivery_id, attempt)
);

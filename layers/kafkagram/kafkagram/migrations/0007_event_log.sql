-- The outbox is also the event log (kafkagram.event_log): published rows stay for the retention
-- window (the audit log, and what `kafkagram replay` and a restart re-publish from).

-- Retention deletes and replays by time read the published rows in time order.
CREATE INDEX outbox_published_at ON outbox (published_at) WHERE published_at IS NOT NULL;

-- The newest outbox row every consumer is known to have finished: every event source mapping had
-- committed everything on its topic after that row was published. A local restart with a fresh
-- (memory-only) broker re-publishes the rows after it. One row.
CREATE TABLE event_log_checkpoint (
    singleton        boolean     PRIMARY KEY DEFAULT true CHECK (singleton),
    consumed_through bigint      NOT NULL,
    recorded_at      timestamptz NOT NULL DEFAULT now()
);

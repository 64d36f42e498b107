-- Time-ordered 64-bit ids made by the database, the transactional outbox and the consumers' record
-- of processed events.

-- next_id(): Instagram's scheme, the same layout and epoch as kafkagram.ids (41 bits of milliseconds
-- since 2025-01-01T00:00:00Z, 13 bits of shard, 10 bits of sequence). The database is shard 0
-- (kafkagram.ids.DATABASE_SHARD_ID); Python generators take shards 1..8191 from id_shard_sequence.
-- The sequence wraps modulo 1024: more than 1024 ids in one millisecond would repeat an id (the
-- primary keys would refuse it), far beyond what one database inserts.
CREATE SEQUENCE id_sequence AS bigint;
CREATE SEQUENCE id_shard_sequence AS integer MINVALUE 1 MAXVALUE 8191 CYCLE;

CREATE FUNCTION next_id() RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE
    epoch_ms   CONSTANT bigint := 1735689600000;
    shard_id   CONSTANT bigint := 0;
    -- ids live in a signed bigint: past 2^40 ms the top bit would make them negative.
    max_elapsed CONSTANT bigint := (1::bigint << 40) - 1;
    elapsed_ms bigint;
    seq_id     bigint;
BEGIN
    seq_id := nextval('id_sequence') % 1024;
    elapsed_ms := floor(extract(epoch FROM clock_timestamp()) * 1000)::bigint - epoch_ms;
    IF elapsed_ms < 0 OR elapsed_ms > max_elapsed THEN
        RAISE EXCEPTION 'next_id(): clock % ms from the id epoch is out of range', elapsed_ms;
    END IF;
    RETURN (elapsed_ms << 23) | (shard_id << 10) | seq_id;
END;
$$;

-- Events written in the same transaction as the state change they describe; the relay publishes
-- them to Kafka in id order and stamps published_at.
CREATE TABLE outbox (
    id           bigint      PRIMARY KEY DEFAULT next_id(),
    topic        text        NOT NULL,
    key          text        NOT NULL,
    payload      jsonb       NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now(),
    published_at timestamptz
);
-- The relay only ever reads unpublished rows; published ones are history.
CREATE INDEX outbox_unpublished ON outbox (id) WHERE published_at IS NULL;

-- Wake the relay (LISTEN outbox) when a transaction that wrote events commits; notifications are
-- delivered at commit and one per transaction is enough.
CREATE FUNCTION outbox_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('outbox', '');
    RETURN NULL;
END;
$$;
CREATE TRIGGER outbox_notify AFTER INSERT ON outbox FOR EACH STATEMENT EXECUTE FUNCTION outbox_notify();

-- One row per (consumer, event) a handler has applied, written in the handler's transaction, so a
-- redelivered event has no second effect.
CREATE TABLE processed_events (
    consumer     text        NOT NULL,
    event_id     text        NOT NULL,
    processed_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (consumer, event_id)
);

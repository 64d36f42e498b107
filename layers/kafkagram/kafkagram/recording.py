"""Storage of received Kafka records: one multi-row insert per batch, duplicates ignored."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

import pg8000.native
from aws_lambda_powertools.utilities.data_classes.kafka_event import KafkaEventRecord


@dataclass(frozen=True)
class Stored:
    received: int
    new: int


def record_received(connection: pg8000.native.Connection, records: list[KafkaEventRecord]) -> Stored:
    if not records:
        return Stored(0, 0)
    placeholders = []
    params: dict[str, object] = {}
    for i, record in enumerate(records):
        placeholders.append(f"(:t{i}, :p{i}, :o{i}, :k{i}, :v{i}, :ts{i})")
        params.update({
            f"t{i}": record.topic, f"p{i}": record.partition, f"o{i}": record.offset,
            # A record without a key or value has no such field (AWS's event) or null: both are stored as NULL.
            f"k{i}": record.decoded_key, f"v{i}": None if record.get("value") is None else record.decoded_value,
            f"ts{i}": datetime.fromtimestamp(record.timestamp / 1000, tz=UTC),
        })
    rows = connection.run(
        'INSERT INTO received_events (topic, partition, "offset", key, value, produced_at) VALUES '
        + ", ".join(placeholders) + ' ON CONFLICT (topic, partition, "offset") DO NOTHING RETURNING 1',
        **params,
    )
    return Stored(received=len(records), new=len(rows))

"""Events: the envelope, the catalogue of types (topic, key, JSON Schema) and validation."""

from kafkagram.events.catalog import (
    CATALOG,
    EventType,
    UnknownEventType,
    event_schema,
    spec_for,
    topic_for,
    topics,
    types_on,
)
from kafkagram.events.envelope import Event, EventValidationError, key_for, new_event, new_event_id, validate

__all__ = [
    "CATALOG",
    "Event",
    "EventType",
    "EventValidationError",
    "UnknownEventType",
    "event_schema",
    "key_for",
    "new_event",
    "new_event_id",
    "spec_for",
    "topic_for",
    "topics",
    "types_on",
    "validate",
]

"""The event envelope, its JSON form, its Kafka key, and validation against the per-type JSON Schemas.

Event ids are UUIDs (version 7), not the 64-bit row ids: an event id only has to be unique (consumers
deduplicate on it), and a UUID needs no shard allocation, so any producer (a Lambda sandbox, a script,
another program reading docs/asyncapi.yaml) can mint one. Version 7 starts with the time in
milliseconds, so ids of recent events sit together in the `processed_events` index. The 64-bit ids
identify the things the events are about (in `data`) and make the Kafka keys.
"""

from __future__ import annotations

import json
import os
import time
import uuid
from collections.abc import Mapping
from contextlib import suppress
from datetime import UTC, datetime
from functools import cache
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_serializer, field_validator

from kafkagram.events.catalog import (
    ID_PATTERN,
    TYPE_PATTERN,
    UUID_PATTERN,
    EventType,
    UnknownEventType,
    schema_path,
    spec_for,
)

MAX_REPORTED_ERRORS = 5
_UUID_VERSION_7 = 0x7
_UUID_VARIANT_RFC = 0b10


class EventValidationError(ValueError):
    pass


def new_event_id() -> str:
    """A UUID version 7 (RFC 9562): 48 bits of Unix milliseconds, then 74 random bits."""
    unix_ms = time.time_ns() // 1_000_000
    random_bits = int.from_bytes(os.urandom(10), "big")
    value = (unix_ms & ((1 << 48) - 1)) << 80 | random_bits
    value = (value & ~(0xF << 76)) | (_UUID_VERSION_7 << 76)
    value = (value & ~(0x3 << 62)) | (_UUID_VARIANT_RFC << 62)
    return str(uuid.UUID(int=value))


def utc_now() -> datetime:
    return datetime.now(UTC)


def format_utc(moment: datetime) -> str:
    """ISO 8601 in UTC with milliseconds and `Z`, the form JavaScript's Date parses everywhere."""
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


class Event(BaseModel):
    """What every topic carries: `{"id", "type", "version", "occurred_at", "actor_id", "data"}`."""

    # Ids are ints in Python and PostgreSQL but strings on the wire: accept an int actor_id.
    model_config = ConfigDict(frozen=True, extra="forbid", coerce_numbers_to_str=True)

    id: str = Field(default_factory=new_event_id, pattern=UUID_PATTERN)
    type: str = Field(pattern=TYPE_PATTERN)
    version: int = Field(ge=1)
    occurred_at: datetime = Field(default_factory=utc_now)
    actor_id: str | None = Field(pattern=ID_PATTERN)
    data: dict[str, Any]

    @field_validator("occurred_at")
    @classmethod
    def _utc_milliseconds(cls, value: datetime) -> datetime:
        if value.tzinfo is None:
            raise ValueError("occurred_at must be timezone-aware (UTC)")
        value = value.astimezone(UTC)
        # The JSON form keeps milliseconds; truncating here makes a JSON round trip lossless.
        return value.replace(microsecond=value.microsecond // 1000 * 1000)

    @field_serializer("occurred_at")
    def _iso_utc(self, value: datetime) -> str:
        return format_utc(value)

    def to_dict(self) -> dict[str, Any]:
        return self.model_dump(mode="json")

    def to_json(self) -> str:
        return self.model_dump_json()

    @classmethod
    def from_json(cls, raw: str | bytes) -> Event:
        return cls.model_validate_json(raw)


def new_event(type_name: str, data: dict[str, Any], actor_id: int | str | None,
              occurred_at: datetime | None = None) -> Event:
    """An event of a catalogued type, at the type's current version."""
    spec = spec_for(type_name)
    actor = None if actor_id is None else str(actor_id)
    return Event(type=spec.name, version=spec.version, actor_id=actor, data=data, occurred_at=occurred_at or utc_now())


def key_for(event: Event | Mapping[str, Any]) -> str:
    """The Kafka key: the id of the aggregate whose events must keep their order (see the catalogue)."""
    document = event.to_dict() if isinstance(event, Event) else event
    spec = _spec_of(document)
    value = (document.get("data") or {}).get(spec.key)
    if not isinstance(value, str | int) or isinstance(value, bool):
        raise EventValidationError(f"{spec.name} event has no data.{spec.key} to key it by")
    return str(value)


def validate(event: Event | Mapping[str, Any]) -> None:
    """Check an event against its type's JSON Schema; raise EventValidationError saying where and why."""
    document = event.to_dict() if isinstance(event, Event) else event
    if not isinstance(document, Mapping):
        raise EventValidationError(f"an event is a JSON object, got {type(document).__name__}")
    type_name = document.get("type")
    if not isinstance(type_name, str):
        raise EventValidationError("event has no string 'type'")
    try:
        validator = _validator(type_name, _spec_of(document).version)
    except UnknownEventType as exc:
        raise EventValidationError(str(exc)) from None
    errors = sorted(validator.iter_errors(document), key=lambda error: list(map(str, error.absolute_path)))
    if errors:
        details = "; ".join(f"{_where(error.absolute_path)}: {error.message}" for error in errors[:MAX_REPORTED_ERRORS])
        more = f" (and {len(errors) - MAX_REPORTED_ERRORS} more)" if len(errors) > MAX_REPORTED_ERRORS else ""
        raise EventValidationError(f"invalid {type_name} event: {details}{more}")


def _where(path: Any) -> str:
    parts = [f"[{part}]" if isinstance(part, int) else f".{part}" for part in path]
    return "".join(parts).lstrip(".") or "(envelope)"


def _spec_of(document: Mapping[str, Any]) -> EventType:
    """The catalogue's entry for the document's type and version: a retired version's when it names one,
    else the current one (whose schema then reports a wrong version)."""
    type_name, version = str(document.get("type")), document.get("version")
    spec = spec_for(type_name)
    if isinstance(version, int) and not isinstance(version, bool) and version != spec.version:
        with suppress(UnknownEventType):
            return spec_for(type_name, version)
    return spec


@cache
def _validator(type_name: str, version: int) -> Any:
    # jsonschema is imported on first validation only: handlers that never validate skip its import cost.
    from jsonschema import Draft202012Validator

    schema = json.loads(schema_path(type_name, version).read_text())
    return Draft202012Validator(schema, format_checker=Draft202012Validator.FORMAT_CHECKER)

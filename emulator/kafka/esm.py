"""Kafka event source mappings as declared in a SAM template (`Type: MSK` or `SelfManagedKafka`).

Defaults and limits are AWS's (see the Lambda API's CreateEventSourceMapping): batch size 100
(1 to 10,000), batching window 500 ms (0 to 300 s), infinite retries, no record age limit. A
`kafka://` on-failure destination needs provisioned mode (`ProvisionedPollerConfig`), as on AWS.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from emulator.kafka.filters import FilterCriteriaError, RecordFilter
from emulator.template import EventSpec, FunctionSpec, Template, TemplateError

MSK = "MSK"
SELF_MANAGED = "SelfManagedKafka"
KAFKA_EVENT_TYPES = (MSK, SELF_MANAGED)
DEFAULT_BATCH_SIZE = 100
MAX_BATCH_SIZE = 10_000
DEFAULT_BATCHING_WINDOW_S = 0.5
MAX_BATCHING_WINDOW_S = 300
STARTING_POSITIONS = ("TRIM_HORIZON", "LATEST", "AT_TIMESTAMP")
# The invocation event's eventSource: AWS's own sample events and Powertools' parser models
# (KafkaMskEventModel, KafkaSelfManagedEventModel) spell them so; self-managed has no "aws:" prefix.
EVENT_SOURCES = {MSK: "aws:kafka", SELF_MANAGED: "SelfManagedKafka"}
# ProvisionedPollerConfig bounds (Lambda API, ProvisionedPollerConfig).
MIN_POLLERS_RANGE = (1, 200)
MAX_POLLERS_RANGE = (1, 2000)
# With infinite retries and an on-failure destination, Lambda stops after 10 retries.
RETRIES_WITH_DESTINATION_CAP = 10
MAX_PAYLOAD_BYTES = 6 * 1024 * 1024
_KAFKA_DESTINATION = re.compile(r"^kafka://([^.][a-zA-Z0-9\-_.]{0,248})$")
_GROUP_ID = re.compile(r"^[a-zA-Z0-9\-/*:_+=.@]{1,200}$")


@dataclass(frozen=True)
class EventSourceMapping:
    function: FunctionSpec
    event_name: str
    event_source: str  # "aws:kafka" or "SelfManagedKafka"
    event_source_arn: str | None
    topic: str
    batch_size: int
    batching_window_s: float
    starting_position: str
    starting_position_timestamp: float | None
    consumer_group_id: str
    enabled: bool
    filter_criteria: dict[str, Any] | None
    maximum_retry_attempts: int  # -1 = until the records expire
    maximum_record_age_s: int  # -1 = never expire
    bisect_batch_on_error: bool
    report_batch_item_failures: bool
    on_failure_topic: str | None
    bootstrap_servers: str | None  # as declared (SelfManagedKafka); None for MSK
    provisioned_pollers: tuple[int, int] | None  # (MinimumPollers, MaximumPollers); None = on-demand mode

    @property
    def name(self) -> str:
        return f"{self.function.logical_id}.{self.event_name}"

    @property
    def retry_limit(self) -> int:
        """Retries after the first attempt, or -1 for unbounded."""
        if self.maximum_retry_attempts < 0 and self.on_failure_topic:
            return RETRIES_WITH_DESTINATION_CAP
        return self.maximum_retry_attempts


def _int_in_range(props: dict[str, Any], key: str, default: int, low: int, high: int, where: str) -> int:
    value = props.get(key, default)
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise TemplateError(where, f"{key} must be an integer, got {value!r}") from None
    unbounded = key.startswith("Maximum") and number == -1
    if not unbounded and not low <= number <= high:
        raise TemplateError(where, f"{key} must be between {low} and {high}, got {number}")
    return number


def _provisioned_pollers(props: dict[str, Any], where: str) -> tuple[int, int] | None:
    config = props.get("ProvisionedPollerConfig")
    if config is None:
        return None
    if not isinstance(config, dict):
        raise TemplateError(where, f"ProvisionedPollerConfig must be a mapping, got {config!r}")
    # AWS's defaults when one bound is left out: 1 and 200.
    low = _int_in_range(config, "MinimumPollers", 1, *MIN_POLLERS_RANGE, where)
    high = _int_in_range(config, "MaximumPollers", 200, *MAX_POLLERS_RANGE, where)
    if high == -1:  # _int_in_range lets Maximum* be -1 (unbounded); pollers have no such value
        raise TemplateError(where, f"MaximumPollers must be between {MAX_POLLERS_RANGE[0]} and {MAX_POLLERS_RANGE[1]}")
    if low > high:
        raise TemplateError(where, f"ProvisionedPollerConfig MinimumPollers ({low}) must not exceed "
                                   f"MaximumPollers ({high})")
    return low, high


def _on_failure_topic(props: dict[str, Any], where: str, source_topic: str,
                      provisioned: tuple[int, int] | None) -> str | None:
    destination = ((props.get("DestinationConfig") or {}).get("OnFailure") or {}).get("Destination")
    if destination is None:
        return None
    match = _KAFKA_DESTINATION.match(str(destination))
    if not match:
        raise TemplateError(where, f"OnFailure destination {destination!r} is not supported locally: "
                                   "use kafka://<topic>")
    # AWS refuses the mapping (CreateEventSourceMapping answers InvalidParameterValueException): Kafka
    # topic destinations exist only in provisioned mode (kafka-on-failure-destination.html). AWS does
    # not document the message's exact text; this one names the fix.
    if provisioned is None:
        raise TemplateError(where, f"InvalidParameterValueException: the Kafka on-failure destination "
                                   f"{destination} is only supported in provisioned mode; add "
                                   "ProvisionedPollerConfig (MinimumPollers, MaximumPollers) to this event")
    if match.group(1) == source_topic:
        raise TemplateError(where, "the on-failure topic must differ from the source topic")
    return match.group(1)


def _starting_position(props: dict[str, Any], where: str) -> tuple[str, float | None]:
    position = props.get("StartingPosition")
    if position not in STARTING_POSITIONS:
        raise TemplateError(where, f"StartingPosition must be one of {', '.join(STARTING_POSITIONS)}, "
                                   f"got {position!r}")
    timestamp = props.get("StartingPositionTimestamp")
    if position == "AT_TIMESTAMP" and timestamp is None:
        raise TemplateError(where, "StartingPosition AT_TIMESTAMP needs StartingPositionTimestamp")
    return str(position), None if timestamp is None else float(timestamp)


def mapping_from_event(function: FunctionSpec, event: EventSpec) -> EventSourceMapping:
    """Validate one Kafka event of a function; raises TemplateError naming function and event."""
    where = f"{function.logical_id} event {event.name}"
    props = event.properties
    topics = props.get("Topics")
    if not isinstance(topics, list) or len(topics) != 1:
        raise TemplateError(where, "Topics must list exactly one topic")
    topic = str(topics[0])
    if event.type == MSK and not props.get("Stream"):
        raise TemplateError(where, "MSK events need Stream (the cluster ARN)")
    servers = props.get("KafkaBootstrapServers")
    if event.type == SELF_MANAGED and not servers:
        raise TemplateError(where, "SelfManagedKafka events need KafkaBootstrapServers")
    position, position_timestamp = _starting_position(props, where)
    config_key = "AmazonManagedKafkaEventSourceConfig" if event.type == MSK else "SelfManagedKafkaEventSourceConfig"
    group_id = props.get("ConsumerGroupId") or (props.get(config_key) or {}).get("ConsumerGroupId")
    group_id = str(group_id or f"{function.function_name}-{event.name}")
    if not _GROUP_ID.match(group_id):
        raise TemplateError(where, f"ConsumerGroupId {group_id!r} is not a valid group id")
    criteria = props.get("FilterCriteria")
    try:
        RecordFilter.from_criteria(criteria)
    except FilterCriteriaError as exc:
        raise TemplateError(where, f"invalid FilterCriteria: {exc}") from None
    window = float(props.get("MaximumBatchingWindowInSeconds", DEFAULT_BATCHING_WINDOW_S))
    if not 0 <= window <= MAX_BATCHING_WINDOW_S:
        raise TemplateError(where, f"MaximumBatchingWindowInSeconds must be 0 to {MAX_BATCHING_WINDOW_S}")
    provisioned = _provisioned_pollers(props, where)
    response_types = props.get("FunctionResponseTypes") or []
    unknown_types = set(response_types) - {"ReportBatchItemFailures"}
    if unknown_types:
        raise TemplateError(where, f"unknown FunctionResponseTypes {sorted(unknown_types)}")
    return EventSourceMapping(
        function=function,
        event_name=event.name,
        event_source=EVENT_SOURCES[event.type],
        event_source_arn=str(props["Stream"]) if event.type == MSK else None,
        topic=topic,
        batch_size=_int_in_range(props, "BatchSize", DEFAULT_BATCH_SIZE, 1, MAX_BATCH_SIZE, where),
        batching_window_s=window,
        starting_position=position,
        starting_position_timestamp=position_timestamp,
        consumer_group_id=group_id,
        enabled=str(props.get("Enabled", True)).lower() != "false",
        filter_criteria=criteria,
        maximum_retry_attempts=_int_in_range(props, "MaximumRetryAttempts", -1, 0, 10_000, where),
        maximum_record_age_s=_int_in_range(props, "MaximumRecordAgeInSeconds", -1, 60, 604_800, where),
        bisect_batch_on_error=str(props.get("BisectBatchOnFunctionError", False)).lower() == "true",
        report_batch_item_failures="ReportBatchItemFailures" in response_types,
        on_failure_topic=_on_failure_topic(props, where, topic, provisioned),
        bootstrap_servers=",".join(servers) if isinstance(servers, list) else (str(servers) if servers else None),
        provisioned_pollers=provisioned,
    )


def kafka_mappings(template: Template) -> list[EventSourceMapping]:
    """Every Kafka event source mapping of the template, validated."""
    return [
        mapping_from_event(function, event)
        for function in template.functions.values()
        for event in function.events_of_type(*KAFKA_EVENT_TYPES)
    ]

"""Kafka event source mappings read from a template, without a broker: what AWS refuses at
CreateEventSourceMapping is refused when the runtime starts, and the event carries AWS's eventSource."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from emulator.kafka.esm import EventSourceMapping, kafka_mappings
from emulator.template import TemplateError, parse_template
from tests.support.repo import TEMPLATE

CLUSTER = "arn:aws:kafka:us-east-1:000000000000:cluster/c/00000000-0000-0000-0000-000000000000-1"
POLLERS = {"MinimumPollers": 1, "MaximumPollers": 2}
DESTINATION = {"OnFailure": {"Destination": "kafka://orders-failed"}}


def mappings(tmp_path: Path, event_type: str = "MSK", **properties: Any) -> list[EventSourceMapping]:
    (tmp_path / "src").mkdir(exist_ok=True)
    (tmp_path / "src" / "fn.py").write_text("def handler(event, context):\n    return None\n")
    source = {"Stream": CLUSTER} if event_type == "MSK" else {"KafkaBootstrapServers": ["b-1:9092", "b-2:9092"]}
    event = {"Type": event_type, "Properties": {**source, "Topics": ["orders"], "StartingPosition": "TRIM_HORIZON",
                                                **properties}}
    document = {"Transform": "AWS::Serverless-2016-10-31", "Resources": {"Fn": {
        "Type": "AWS::Serverless::Function",
        "Properties": {"CodeUri": "src", "Handler": "fn.handler", "Runtime": "python3.12",
                       "Events": {"Orders": event}}}}}
    path = tmp_path / "template.yaml"
    path.write_text(yaml.safe_dump(document))
    return kafka_mappings(parse_template(path))


@pytest.mark.parametrize("event_type", ["MSK", "SelfManagedKafka"])
def test_a_kafka_destination_without_provisioned_mode_is_refused_at_start_up(tmp_path, event_type):
    with pytest.raises(TemplateError, match=r"^Fn event Orders: InvalidParameterValueException: the Kafka "
                                            r"on-failure destination kafka://orders-failed is only supported in "
                                            r"provisioned mode; add ProvisionedPollerConfig"):
        mappings(tmp_path, event_type, DestinationConfig=DESTINATION)


@pytest.mark.parametrize("event_type", ["MSK", "SelfManagedKafka"])
def test_a_kafka_destination_in_provisioned_mode_is_accepted(tmp_path, event_type):
    [mapping] = mappings(tmp_path, event_type, DestinationConfig=DESTINATION, ProvisionedPollerConfig=POLLERS)
    assert mapping.on_failure_topic == "orders-failed"
    assert mapping.provisioned_pollers == (1, 2)


def test_no_destination_needs_no_provisioned_mode(tmp_path):
    [mapping] = mappings(tmp_path)
    assert mapping.provisioned_pollers is None and mapping.on_failure_topic is None


@pytest.mark.parametrize(("config", "message"), [
    ({"MinimumPollers": 0, "MaximumPollers": 2}, "MinimumPollers must be between 1 and 200"),
    ({"MinimumPollers": 1, "MaximumPollers": 2001}, "MaximumPollers must be between 1 and 2000"),
    ({"MinimumPollers": 1, "MaximumPollers": -1}, "MaximumPollers must be between 1 and 2000"),
    ({"MinimumPollers": 3, "MaximumPollers": 2}, r"MinimumPollers \(3\) must not exceed MaximumPollers \(2\)"),
    ("two", "ProvisionedPollerConfig must be a mapping"),
])
def test_provisioned_poller_bounds_are_aws_s(tmp_path, config, message):
    with pytest.raises(TemplateError, match=message):
        mappings(tmp_path, DestinationConfig=DESTINATION, ProvisionedPollerConfig=config)


def test_provisioned_poller_defaults_are_aws_s(tmp_path):
    [mapping] = mappings(tmp_path, DestinationConfig=DESTINATION, ProvisionedPollerConfig={})
    assert mapping.provisioned_pollers == (1, 200)


@pytest.mark.parametrize(("event_type", "event_source", "arn"), [
    ("MSK", "aws:kafka", CLUSTER),
    # AWS's self-managed sample event and Powertools' KafkaSelfManagedEventModel: no "aws:" prefix.
    ("SelfManagedKafka", "SelfManagedKafka", None),
])
def test_the_event_source_is_the_one_aws_sends(tmp_path, event_type, event_source, arn):
    [mapping] = mappings(tmp_path, event_type)
    assert (mapping.event_source, mapping.event_source_arn) == (event_source, arn)


def test_a_filter_on_a_field_other_than_value_is_refused_at_start_up(tmp_path):
    with pytest.raises(TemplateError, match=r"^Fn event Orders: invalid FilterCriteria: .*only support filtering "
                                            r"on the value key"):
        mappings(tmp_path, FilterCriteria={"Filters": [{"Pattern": '{"key": [{"exists": true}]}'}]})


def test_every_kafka_destination_of_template_yaml_is_in_provisioned_mode():
    for mapping in kafka_mappings(parse_template(TEMPLATE)):
        assert mapping.on_failure_topic, f"{mapping.name}: every Kafka event has a failure topic"
        assert mapping.provisioned_pollers is not None, mapping.name
        low, high = mapping.provisioned_pollers
        # Each poller bills by the hour: a small stack keeps one always on and few at most.
        assert low == 1 and high <= 3, f"{mapping.name}: {mapping.provisioned_pollers}"

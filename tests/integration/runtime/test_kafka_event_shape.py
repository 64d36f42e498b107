"""The invocation event is exactly what Lambda sends for Amazon MSK and self-managed Kafka, checked
against AWS's sample events and Powertools' parser models (KafkaMskEventModel, KafkaSelfManagedEventModel)."""

from __future__ import annotations

import json

from aws_lambda_powertools.utilities.data_classes import KafkaEvent
from aws_lambda_powertools.utilities.parser.models import KafkaMskEventModel, KafkaSelfManagedEventModel
from confluent_kafka import Producer

from tests.support.kafka import CLUSTER_ARN, Probe, create_topic, kafka_event, produce, running, write_template
from tests.support.waiting import wait_for

# Keys and value types of AWS's sample MSK event (Lambda developer guide, "with-msk").
AWS_EVENT_KEYS = {"eventSource", "eventSourceArn", "bootstrapServers", "records"}
AWS_RECORD_TYPES = {"topic": str, "partition": int, "offset": int, "timestamp": int, "timestampType": str,
                    "key": str, "value": str, "headers": list}


def test_event_matches_aws_msk_event(tmp_path, kafka_bootstrap, kafka_session_timeout_ms, redis_client, unique):
    topic = f"shape-{unique}"
    create_topic(kafka_bootstrap, topic)
    template = write_template(tmp_path, {"Probe": {"Events": {"Stream": kafka_event(
        topic, BatchSize=10, MaximumBatchingWindowInSeconds=0)}}}, prefix=unique)
    produce(kafka_bootstrap, topic, [{"n": 1}], key=b"user-1", headers=[("traceId", "abë".encode())])

    with running(template, kafka_bootstrap, kafka_session_timeout_ms):
        probe = Probe(redis_client, unique)
        invocation = wait_for(lambda: probe.invocations(), message="an invocation")[0]

    event = invocation["event"]
    assert set(event) == AWS_EVENT_KEYS
    assert event["eventSource"] == "aws:kafka"
    assert event["eventSourceArn"] == CLUSTER_ARN
    assert event["bootstrapServers"] == kafka_bootstrap
    assert list(event["records"]) == [f"{topic}-0"]
    record = event["records"][f"{topic}-0"][0]
    assert {key: type(value) for key, value in record.items()} == AWS_RECORD_TYPES
    assert record["headers"] == [{"traceId": [97, 98, -61, -85]}]  # signed bytes, as Java sends them
    assert record["timestampType"] == "CREATE_TIME"
    assert len(str(record["timestamp"])) == 13  # milliseconds

    parsed = KafkaMskEventModel.model_validate(event)
    assert json.loads(parsed.records[f"{topic}-0"][0].value) == {"n": 1}
    data_class = KafkaEvent(event)
    first = next(data_class.records)
    assert first.decoded_key == b"user-1"
    assert first.json_value == {"n": 1}
    assert first.decoded_headers["traceid"] == "abë".encode()
    assert data_class.decoded_bootstrap_servers == kafka_bootstrap.split(",")
    assert 0 < invocation["remaining_ms"] <= 10_000


def test_self_managed_event_matches_aws_self_managed_event(tmp_path, kafka_bootstrap, kafka_session_timeout_ms,
                                                         redis_client, unique):
    topic = f"shape-sm-{unique}"
    create_topic(kafka_bootstrap, topic)
    event_spec = {"Type": "SelfManagedKafka", "Properties": {
        "KafkaBootstrapServers": ["broker-1.example.com:9092"], "Topics": [topic], "StartingPosition": "TRIM_HORIZON",
        "BatchSize": 10, "MaximumBatchingWindowInSeconds": 0}}
    template = write_template(tmp_path, {"Probe": {"Events": {"Stream": event_spec}}}, prefix=unique)
    produce(kafka_bootstrap, topic, [{"n": 1}], key=b"user-1")

    with running(template, kafka_bootstrap, kafka_session_timeout_ms):
        probe = Probe(redis_client, unique)
        event = wait_for(lambda: probe.invocations(), message="an invocation")[0]["event"]

    # AWS's self-managed sample: "eventSource": "SelfManagedKafka" (no aws: prefix) and no eventSourceArn.
    assert set(event) == {"eventSource", "bootstrapServers", "records"}
    assert event["eventSource"] == "SelfManagedKafka"
    parsed = KafkaSelfManagedEventModel.model_validate(event)
    assert json.loads(parsed.records[f"{topic}-0"][0].value) == {"n": 1}


def test_a_record_without_key_or_value_has_no_such_field(tmp_path, kafka_bootstrap, kafka_session_timeout_ms,
                                                         redis_client, unique):
    topic = f"shape-nokey-{unique}"
    create_topic(kafka_bootstrap, topic)
    template = write_template(tmp_path, {"Probe": {"Events": {"Stream": kafka_event(
        topic, BatchSize=10, MaximumBatchingWindowInSeconds=0)}}}, prefix=unique)
    producer = Producer({"bootstrap.servers": kafka_bootstrap, "linger.ms": 0})
    producer.produce(topic, value=b'{"n": 1}')  # no key
    producer.produce(topic, key=b"user-1", value=None)  # a tombstone
    assert producer.flush(30) == 0

    with running(template, kafka_bootstrap, kafka_session_timeout_ms):
        probe = Probe(redis_client, unique)
        wait_for(lambda: len(probe.done()) == 2, message="both records delivered")
    records = [r for invocation in probe.invocations() for r in invocation["event"]["records"][f"{topic}-0"]]
    keyless, tombstone = sorted(records, key=lambda r: r["offset"])
    # As in AWS's sample records: absent, not null.
    assert "key" not in keyless and keyless["value"]
    assert "value" not in tombstone and tombstone["key"]
    keyless_event = {**probe.invocations()[0]["event"], "records": {f"{topic}-0": [keyless]}}
    assert KafkaMskEventModel.model_validate(keyless_event).records[f"{topic}-0"][0].key is None

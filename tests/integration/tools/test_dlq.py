"""`kafkagram dlq list | show | redrive` against the real broker, on failure records written by the
runtime's own code (emulator.kafka.records.failure_record) and by the poison-record path's shape."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time

from confluent_kafka import OFFSET_BEGINNING, Consumer, Producer, TopicPartition

from emulator.kafka import dlq
from emulator.kafka.records import KafkaRecord, failure_record
from tests.support.kafka import create_topic
from tests.support.repo import REPO
from tests.support.waiting import wait_for

FUNCTION_ARN = "arn:aws:lambda:us-east-1:000000000000:function:kafkagram-fan-out"


def failed_record(source: str, offset: int, value: dict, *, reason: dict | None = None) -> bytes:
    record = KafkaRecord(source, 0, offset, int(time.time() * 1000), False, b"user-7", json.dumps(value).encode(),
                         [("traceparent", b"00-abc-def-01")])
    document = json.loads(failure_record(record, condition="RetriesExhausted", function_arn=FUNCTION_ARN,
                                         invoke_count=3, function_error="Unhandled", event_source_arn=None,
                                         event_source="aws:kafka", bootstrap_servers="local",
                                         now_ms=int(time.time() * 1000)))
    if reason is not None:
        document["reason"] = reason
    return json.dumps(document).encode()


def produce(bootstrap: str, topic: str, values: list[bytes]) -> None:
    producer = Producer({"bootstrap.servers": bootstrap})
    for value in values:
        producer.produce(topic, value=value)
    assert producer.flush(30) == 0


def read_all(bootstrap: str, topic: str, count: int) -> list[tuple[bytes | None, bytes | None, list]]:
    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": f"check-{topic}", "enable.auto.commit": False})
    consumer.assign([TopicPartition(topic, 0, OFFSET_BEGINNING)])
    found: list[tuple[bytes | None, bytes | None, list]] = []
    try:
        wait_for(lambda: found.extend((m.key(), m.value(), m.headers() or []) for m in consumer.consume(100, 0.2)
                                      if not m.error()) or len(found) >= count, timeout=30,
                 message=f"{count} records on {topic}")
    finally:
        consumer.close()
    return found


def kafkagram(bootstrap: str, *args: str) -> str:
    # No runtime listens on this status port: the nudge after a redrive finds nobody and says nothing.
    done = subprocess.run([sys.executable, "-m", "kafkagram_local.cli", "--status-port", "9", "dlq", *args],
                          env={**os.environ, "KAFKA_BOOTSTRAP_SERVERS": bootstrap}, cwd=REPO,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_list_show_and_redrive_put_the_original_records_back_once(kafka_bootstrap, unique):
    source, failed = f"posts-{unique}", f"posts-{unique}-failed"
    create_topic(kafka_bootstrap, source)
    create_topic(kafka_bootstrap, failed)
    event = {"id": "e1", "type": "post-created", "version": 1, "data": {"post_id": "1"}}
    produce(kafka_bootstrap, failed, [
        failed_record(source, 41, event),
        failed_record(source, 42, {"id": "e2", "type": "no-such-type"},
                      reason={"code": "UnknownEventType", "message": "event e2 has type 'no-such-type'"}),
        b"not a failure record",
    ])

    failures = dlq.read_failures(kafka_bootstrap, failed)
    assert [(f.offset, f.condition, f.function, f.source_offset) for f in failures] == [
        (0, "RetriesExhausted", "kafkagram-fan-out", 41), (1, "RetriesExhausted", "kafkagram-fan-out", 42),
        (2, dlq.UNREADABLE, "?", -1)]
    assert failures[0].event_type == "post-created" and failures[0].key == b"user-7"
    assert failures[1].error == "UnknownEventType: event e2 has type 'no-such-type'"

    listed = kafkagram(kafka_bootstrap, "list")
    assert "kafkagram-fan-out" in listed and "UnknownEventType" in listed and dlq.UNREADABLE in listed
    shown = kafkagram(kafka_bootstrap, "show", failed)
    assert f"source    {source}[0]@41" in shown and '"type": "post-created"' in shown

    assert kafkagram(kafka_bootstrap, "redrive", failed, "--dry-run").strip() == (
        f"{failed}: would produce 2 to {source}; 1 unreadable left on {failed} (see `kafkagram dlq show`)")
    assert kafkagram(kafka_bootstrap, "redrive", failed).startswith(f"{failed}: produced 2 to {source}")

    back = read_all(kafka_bootstrap, source, 2)
    assert [json.loads(value) for _key, value, _headers in back] == [event, {"id": "e2", "type": "no-such-type"}]
    assert all(key == b"user-7" and headers == [("traceparent", b"00-abc-def-01")] for key, _v, headers in back)

    # Nothing was removed from the failure topic, and a second redrive has nothing left to do.
    again = dlq.read_failures(kafka_bootstrap, failed)
    assert [(f.offset, f.redriven) for f in again] == [(0, True), (1, True), (2, False)]
    assert kafkagram(kafka_bootstrap, "redrive", failed).startswith(f"{failed}: produced nothing")

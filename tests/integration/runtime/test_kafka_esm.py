"""Kafka event source mappings behave as AWS's: batching, ordering, filters, errors, offsets, scaling.

Everything runs for real: the broker, the runtime's poller processes, the probe function in its
sandbox, and Redis where the probe records what it received.
"""

from __future__ import annotations

import json
import os
import signal
import time

import pytest
from confluent_kafka import Consumer, TopicPartition

from emulator.template import TemplateError
from tests.support.kafka import Probe, create_topic, kafka_event, produce, running, write_template
from tests.support.waiting import wait_for

# Kafka on-failure destinations need provisioned mode (AWS refuses the mapping without it).
POLLERS = {"MinimumPollers": 1, "MaximumPollers": 1}


def committed_offsets(bootstrap: str, group: str, topic: str, partitions: int) -> list[int]:
    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": group})
    try:
        found = consumer.committed([TopicPartition(topic, p) for p in range(partitions)], timeout=10)
        return [tp.offset for tp in found]
    finally:
        consumer.close()


def read_topic(bootstrap: str, topic: str, count: int, timeout: float = 30) -> list[bytes]:
    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": f"reader-{topic}-{time.time()}",
                         "auto.offset.reset": "earliest", "session.timeout.ms": 6000})
    consumer.subscribe([topic])
    values: list[bytes] = []
    try:
        wait_for(lambda: values.extend(m.value() for m in consumer.consume(100, 0.2) if not m.error())
                 or len(values) >= count, timeout=timeout, message=f"{count} records on {topic}")
    finally:
        consumer.close()
    return values


@pytest.fixture
def probe(redis_client, unique):
    return Probe(redis_client, unique)


@pytest.fixture
def setup(tmp_path, kafka_bootstrap, kafka_session_timeout_ms, unique):
    """Creates the test's topic and returns a function that writes its template."""

    def make(partitions: int = 1, functions: dict | None = None, **event_properties):
        topic = f"t-{unique}"
        create_topic(kafka_bootstrap, topic, partitions)
        functions = functions or {"Probe": {"Events": {"Stream": kafka_event(topic, **event_properties)}}}
        return topic, write_template(tmp_path, functions, prefix=unique)

    return make


def run(template, kafka_bootstrap, kafka_session_timeout_ms, **options):
    return running(template, kafka_bootstrap, kafka_session_timeout_ms, **options)


# ---------------------------------------------------------------------------------------------- batching


def test_batch_size_splits_a_backlog(setup, probe, kafka_bootstrap, kafka_session_timeout_ms):
    topic, template = setup(BatchSize=10, MaximumBatchingWindowInSeconds=0)
    produce(kafka_bootstrap, topic, [{"n": i} for i in range(25)])
    with run(template, kafka_bootstrap, kafka_session_timeout_ms):
        wait_for(lambda: len(probe.done()) >= 25, message="25 records handled")
    sizes = [sum(len(b) for b in inv["event"]["records"].values()) for inv in probe.invocations()]
    assert max(sizes) == 10
    assert sum(sizes) == 25
    assert [v["n"] for v in probe.delivered_values()] == list(range(25))


def test_batching_window_gathers_records(setup, probe, kafka_bootstrap, kafka_session_timeout_ms):
    topic, template = setup(BatchSize=100, MaximumBatchingWindowInSeconds=2)
    with run(template, kafka_bootstrap, kafka_session_timeout_ms) as runtime:
        wait_for(lambda: runtime.status()["Probe.Stream"]["partitions"], message="partition assigned")
        produced_at = time.time()
        produce(kafka_bootstrap, topic, [{"n": i} for i in range(3)])
        invocation = wait_for(probe.invocations, message="an invocation")[0]
    assert sum(len(b) for b in invocation["event"]["records"].values()) == 3
    # The poller waited for the window instead of invoking on the first record.
    assert invocation["started"] - produced_at >= 1.5


def test_default_batching_window_is_half_a_second(setup, probe, kafka_bootstrap, kafka_session_timeout_ms):
    topic, template = setup()
    with run(template, kafka_bootstrap, kafka_session_timeout_ms) as runtime:
        wait_for(lambda: runtime.status()["Probe.Stream"]["partitions"], message="partition assigned")
        produced_at = time.time()
        produce(kafka_bootstrap, topic, [{"n": 1}])
        invocation = wait_for(probe.invocations, message="an invocation")[0]
    assert 0.4 <= invocation["started"] - produced_at < 5


def test_payload_limit_splits_batches(setup, probe, kafka_bootstrap, kafka_session_timeout_ms):
    topic, template = setup(BatchSize=50, MaximumBatchingWindowInSeconds=0)
    big = [b"x" * 700_000 for _ in range(12)]  # 933 KB each in base64: at most 6 per 6 MB invocation
    produce(kafka_bootstrap, topic, big)
    with run(template, kafka_bootstrap, kafka_session_timeout_ms):
        wait_for(lambda: len(probe.done()) >= 12, message="12 large records handled")
    sizes = [sum(len(b) for b in inv["event"]["records"].values()) for inv in probe.invocations()]
    assert sum(sizes) == 12
    assert max(sizes) <= 6


# ---------------------------------------------------------------------------------------------- ordering


def test_order_within_a_partition(setup, probe, kafka_bootstrap, kafka_session_timeout_ms):
    topic, template = setup(BatchSize=7, MaximumBatchingWindowInSeconds=0)
    produce(kafka_bootstrap, topic, [{"n": i} for i in range(150)])
    with run(template, kafka_bootstrap, kafka_session_timeout_ms):
        wait_for(lambda: len(probe.done()) >= 150, message="150 records handled")
    assert [v["n"] for v in probe.delivered_values()] == list(range(150))
    spans = sorted((inv["started"], inv["started"]) for inv in probe.invocations())
    assert len(spans) >= 150 // 7


def test_partitions_run_in_parallel_but_each_in_order(setup, probe, kafka_bootstrap, kafka_session_timeout_ms):
    topic, template = setup(partitions=2, BatchSize=1, MaximumBatchingWindowInSeconds=0)
    for partition in (0, 1):
        produce(kafka_bootstrap, topic, [{"sleep": 1, "p": partition, "i": i} for i in range(2)],
                partition=partition)
    with run(template, kafka_bootstrap, kafka_session_timeout_ms):
        wait_for(lambda: len(probe.done()) >= 4, message="4 slow records handled")
    started = {}
    for inv in probe.invocations():
        (records,) = inv["event"]["records"].values()
        started[(records[0]["partition"], records[0]["offset"])] = inv["started"]
    # Different partitions overlap in time...
    assert abs(started[(0, 0)] - started[(1, 0)]) < 0.9
    # ...while a partition's next batch waits for the previous one (each takes 1 s).
    assert started[(0, 1)] - started[(0, 0)] >= 0.95
    assert started[(1, 1)] - started[(1, 0)] >= 0.95


# ---------------------------------------------------------------------------------------------- filters


def test_filtered_records_are_not_delivered_but_committed(setup, probe, kafka_bootstrap, kafka_session_timeout_ms,
                                                          unique):
    pattern = json.dumps({"value": {"kind": ["keep"]}})
    topic, template = setup(BatchSize=10, MaximumBatchingWindowInSeconds=0,
                            FilterCriteria={"Filters": [{"Pattern": pattern}]})
    values = [{"kind": "keep" if i % 3 == 0 else "drop", "i": i} for i in range(12)]
    produce(kafka_bootstrap, topic, values)
    produce(kafka_bootstrap, topic, [b"plain text, not JSON"])
    with run(template, kafka_bootstrap, kafka_session_timeout_ms):
        wait_for(lambda: committed_offsets(kafka_bootstrap, "Probe-Stream", topic, 1) == [13],
                 message="every offset committed, filtered ones included")
    # The plain-text record is delivered: against a JSON pattern, AWS evaluates only the pattern's
    # metadata fields for a value that is not JSON, and this pattern has none.
    assert sorted(probe.deliveries()) == ["0:0", "0:12", "0:3", "0:6", "0:9"]


def test_invalid_filter_is_reported_at_start_up(setup, kafka_bootstrap, kafka_session_timeout_ms):
    _topic, template = setup(FilterCriteria={"Filters": [{"Pattern": '{"value": {"kind": [{"wildcard": "*"}]}}'}]})
    with pytest.raises(TemplateError, match=r"Probe event Stream: invalid FilterCriteria"), \
            run(template, kafka_bootstrap, kafka_session_timeout_ms):
        pass


# ---------------------------------------------------------------------------------------------- errors


def test_failed_batch_is_retried_until_it_succeeds(setup, probe, kafka_bootstrap, kafka_session_timeout_ms):
    topic, template = setup(BatchSize=10, MaximumBatchingWindowInSeconds=0)
    produce(kafka_bootstrap, topic, [{"i": 0}, {"fail_first": 3}, {"i": 2}])
    with run(template, kafka_bootstrap, kafka_session_timeout_ms):
        wait_for(lambda: len(probe.done()) >= 3, message="batch eventually handled")
        wait_for(lambda: committed_offsets(kafka_bootstrap, "Probe-Stream", topic, 1) == [3], message="commit")
    # The whole batch is retried and the partition held: every record was delivered 4 times.
    assert probe.deliveries() == {"0:0": 4, "0:1": 4, "0:2": 4}


def _destination_setup(setup, kafka_bootstrap, unique, **properties):
    dlq = f"dlq-{unique}"
    create_topic(kafka_bootstrap, dlq)
    topic, template = setup(BatchSize=10, MaximumBatchingWindowInSeconds=0,
                            DestinationConfig={"OnFailure": {"Destination": f"kafka://{dlq}"}},
                            ProvisionedPollerConfig=POLLERS, **properties)
    return topic, dlq, template


def test_retries_exhausted_go_to_the_failure_destination(setup, probe, kafka_bootstrap, kafka_session_timeout_ms,
                                                         unique):
    topic, dlq, template = _destination_setup(setup, kafka_bootstrap, unique, MaximumRetryAttempts=1)
    produce(kafka_bootstrap, topic, [{"fail": True}], key=b"k1")
    with run(template, kafka_bootstrap, kafka_session_timeout_ms) as runtime:
        (document,) = [json.loads(v) for v in read_topic(kafka_bootstrap, dlq, 1)]
        wait_for(lambda: committed_offsets(kafka_bootstrap, "Probe-Stream", topic, 1) == [1], message="commit")
        produce(kafka_bootstrap, topic, [{"after": True}])
        wait_for(lambda: probe.done() == ["0:1"], message="the next record handled")
        status = wait_for(lambda: runtime.status()["Probe.Stream"]["to_failure_destination"] and
                          runtime.status()["Probe.Stream"], message="status counts the failure")
    assert probe.deliveries()["0:0"] == 2  # first attempt + 1 retry
    assert status["to_failure_destination"] == 1
    assert set(document) == {"requestContext", "responseContext", "version", "timestamp", "KafkaBatchInfo",
                             "payload"}
    assert document["requestContext"]["condition"] == "RetriesExhausted"
    assert document["requestContext"]["approximateInvokeCount"] == 2
    assert document["requestContext"]["functionArn"].endswith(":function:Probe:$LATEST")
    assert document["responseContext"] == {"statusCode": 200, "executedVersion": "$LATEST",
                                           "functionError": "Unhandled"}
    info = document["KafkaBatchInfo"]
    assert info["batchSize"] == 1 and info["recordInfo"]["offset"] == "0"
    assert info["bootstrapServers"] == kafka_bootstrap
    (records,) = document["payload"]["records"].values()
    assert records[0]["offset"] == 0 and records[0]["key"] == "azE="


def test_bisect_isolates_the_bad_record(setup, probe, kafka_bootstrap, kafka_session_timeout_ms, unique):
    topic, dlq, template = _destination_setup(setup, kafka_bootstrap, unique, MaximumRetryAttempts=0,
                                              BisectBatchOnFunctionError=True)
    produce(kafka_bootstrap, topic, [{"i": 0}, {"i": 1}, {"fail": True}, {"i": 3}])
    with run(template, kafka_bootstrap, kafka_session_timeout_ms):
        (document,) = [json.loads(v) for v in read_topic(kafka_bootstrap, dlq, 1)]
        wait_for(lambda: set(probe.done()) == {"0:0", "0:1", "0:3"}, message="good records handled")
    assert document["KafkaBatchInfo"]["recordInfo"]["offset"] == "2"


@pytest.mark.parametrize("identifier_key", ["partition", "topic-partition"])
def test_partial_batch_response_retries_from_the_failed_record(setup, probe, kafka_bootstrap,
                                                               kafka_session_timeout_ms, unique, identifier_key):
    dlq = f"dlq-{unique}"
    create_topic(kafka_bootstrap, dlq)
    topic = f"t-{unique}"
    event = kafka_event(topic, BatchSize=10, MaximumBatchingWindowInSeconds=0, MaximumRetryAttempts=1,
                        FunctionResponseTypes=["ReportBatchItemFailures"],
                        DestinationConfig={"OnFailure": {"Destination": f"kafka://{dlq}"}},
                        ProvisionedPollerConfig=POLLERS)
    topic, template = setup(functions={"Probe": {"Events": {"Stream": event},
                                                 "Variables": {"PROBE_ID_KEY": identifier_key}}})
    produce(kafka_bootstrap, topic, [{"i": 0}, {"report_failure": True}, {"i": 2}])
    with run(template, kafka_bootstrap, kafka_session_timeout_ms):
        (document,) = [json.loads(v) for v in read_topic(kafka_bootstrap, dlq, 1)]
        wait_for(lambda: committed_offsets(kafka_bootstrap, "Probe-Stream", topic, 1) == [3], message="commit")
    # Record 0 succeeded the first time; 1 and 2 were retried once; only 1 is lost to the destination.
    assert probe.deliveries() == {"0:0": 1, "0:1": 2, "0:2": 2}
    assert document["KafkaBatchInfo"]["recordInfo"]["offset"] == "1"


def test_partial_response_naming_an_unknown_record_fails_the_batch(setup, probe, kafka_bootstrap,
                                                                    kafka_session_timeout_ms, unique):
    topic = f"t-{unique}"
    event = kafka_event(topic, BatchSize=10, MaximumBatchingWindowInSeconds=0, MaximumRetryAttempts=1,
                        FunctionResponseTypes=["ReportBatchItemFailures"])
    topic, template = setup(functions={"Probe": {"Events": {"Stream": event},
                                                 "Variables": {"PROBE_ID_KEY": "unknown-key"}}})
    produce(kafka_bootstrap, topic, [{"i": 0}, {"report_failure": True}])
    with run(template, kafka_bootstrap, kafka_session_timeout_ms):
        wait_for(lambda: committed_offsets(kafka_bootstrap, "Probe-Stream", topic, 1) == [2], message="commit")
    assert probe.deliveries() == {"0:0": 2, "0:1": 2}


def test_timeout_counts_as_a_function_error(setup, probe, kafka_bootstrap, kafka_session_timeout_ms, unique):
    dlq = f"dlq-{unique}"
    create_topic(kafka_bootstrap, dlq)
    topic = f"t-{unique}"
    event = kafka_event(topic, BatchSize=1, MaximumBatchingWindowInSeconds=0, MaximumRetryAttempts=0,
                        DestinationConfig={"OnFailure": {"Destination": f"kafka://{dlq}"}},
                        ProvisionedPollerConfig=POLLERS)
    topic, template = setup(functions={"Probe": {"Events": {"Stream": event}, "Timeout": 1}})
    produce(kafka_bootstrap, topic, [{"sleep": 30}, {"i": 1}])
    started = time.monotonic()
    with run(template, kafka_bootstrap, kafka_session_timeout_ms):
        (document,) = [json.loads(v) for v in read_topic(kafka_bootstrap, dlq, 1)]
        wait_for(lambda: probe.done() == ["0:1"], message="the next record handled")
    assert time.monotonic() - started < 20  # the 30 s sleep was cut at the 1 s timeout
    assert document["responseContext"]["functionError"] == "Unhandled"


def test_crashing_function_is_retried_in_a_new_sandbox(setup, probe, kafka_bootstrap, kafka_session_timeout_ms,
                                                       redis_client, unique):
    topic, template = setup(BatchSize=1, MaximumBatchingWindowInSeconds=0, MaximumRetryAttempts=2)
    produce(kafka_bootstrap, topic, [{"exit": True}, {"i": 1}])
    with run(template, kafka_bootstrap, kafka_session_timeout_ms):
        wait_for(lambda: probe.done() == ["0:1"], message="the record after the crash handled")
    assert probe.deliveries()["0:0"] == 3


# ---------------------------------------------------------------------------------------------- positions


def test_latest_skips_the_backlog_and_group_offsets_win(setup, probe, tmp_path, kafka_bootstrap,
                                                        kafka_session_timeout_ms):
    topic, template = setup(StartingPosition="LATEST", BatchSize=10, MaximumBatchingWindowInSeconds=0)
    for i in range(3):  # one produce request each: Tansu's high watermark is wrong for multi-record batches
        produce(kafka_bootstrap, topic, [{"old": i}])
    with run(template, kafka_bootstrap, kafka_session_timeout_ms) as runtime:
        wait_for(lambda: runtime.status()["Probe.Stream"]["partitions"], message="partition assigned")
        produce(kafka_bootstrap, topic, [{"new": 1}])
        wait_for(lambda: len(probe.done()) == 1, message="the new record")
    assert probe.delivered_values() == [{"new": 1}]
    # Records produced while the runtime is down are not skipped on restart: the group's
    # committed offset wins over LATEST.
    produce(kafka_bootstrap, topic, [{"while_down": 1}])
    with run(template, kafka_bootstrap, kafka_session_timeout_ms):
        wait_for(lambda: len(probe.done()) == 2, message="the record produced while down")
    assert probe.delivered_values()[-1] == {"while_down": 1}


def test_at_timestamp_starts_at_the_first_later_record(setup, probe, kafka_bootstrap, kafka_session_timeout_ms,
                                                       unique):
    topic = f"t-{unique}"
    create_topic(kafka_bootstrap, topic)
    produce(kafka_bootstrap, topic, [{"early": 1}])
    # The start is taken after the early record is stored, so a busy machine cannot push it past it.
    start = int(time.time()) + 1
    wait_for(lambda: time.time() > start + 0.05, message="the clock to pass the timestamp")
    produce(kafka_bootstrap, topic, [{"late": 1}])
    topic, template = setup(StartingPosition="AT_TIMESTAMP", BatchSize=10, MaximumBatchingWindowInSeconds=0,
                            StartingPositionTimestamp=start)
    with run(template, kafka_bootstrap, kafka_session_timeout_ms):
        wait_for(lambda: probe.done(), message="a record")
    assert probe.delivered_values() == [{"late": 1}]


def test_disabled_mapping_does_not_poll(setup, kafka_bootstrap, kafka_session_timeout_ms):
    _topic, template = setup(Enabled=False)
    with run(template, kafka_bootstrap, kafka_session_timeout_ms) as runtime:
        assert runtime.poller_pids() == []
        assert runtime.status()["Probe.Stream"]["enabled"] is False


# ---------------------------------------------------------------------------------------------- resilience


@pytest.mark.slow
def test_kill_9_mid_batch_loses_nothing(setup, probe, kafka_bootstrap, kafka_session_timeout_ms):
    topic, template = setup(partitions=3, BatchSize=20, MaximumBatchingWindowInSeconds=0)
    total = 600
    produce(kafka_bootstrap, topic, [{"i": i, "sleep": 0.01} for i in range(total)])
    with run(template, kafka_bootstrap, kafka_session_timeout_ms) as runtime:
        wait_for(lambda: len(probe.done()) >= 60, message="some batches handled")
        (pid,) = runtime.poller_pids()
        os.kill(pid, signal.SIGKILL)
        wait_for(lambda: runtime.poller_pids() and runtime.poller_pids() != [pid], message="poller restarted")
        wait_for(lambda: len(set(probe.done())) >= total, timeout=90, message="every record handled")
        assert runtime.status()["Probe.Stream"]["restarts"] == 1
    handled = set(probe.done())
    assert len(handled) == total  # at least once: none lost (duplicates allowed)
    assert sum(probe.deliveries().values()) >= total


@pytest.mark.slow
def test_two_workers_share_partitions_and_take_over(setup, probe, kafka_bootstrap, kafka_session_timeout_ms):
    topic, template = setup(partitions=4, BatchSize=10, MaximumBatchingWindowInSeconds=0)
    with run(template, kafka_bootstrap, kafka_session_timeout_ms, workers=2) as runtime:
        def owners() -> set[int]:
            return {p["worker"] for p in runtime.status()["Probe.Stream"]["partitions"].values()}

        wait_for(lambda: len(owners()) == 2 and len(runtime.status()["Probe.Stream"]["partitions"]) == 4,
                 message="4 partitions shared by 2 workers")
        leaving, staying = runtime.poller_pids()
        runtime.retire_poller(leaving)
        wait_for(lambda: owners() == {staying} and len(runtime.status()["Probe.Stream"]["partitions"]) == 4,
                 message="the remaining worker owns every partition")
        for partition in range(4):
            produce(kafka_bootstrap, topic, [{"p": partition}], partition=partition)
        wait_for(lambda: len(probe.done()) >= 4, message="records on every partition handled")
    assert {inv["event"]["records"][next(iter(inv["event"]["records"]))][0]["partition"]
            for inv in probe.invocations()} == {0, 1, 2, 3}


# ---------------------------------------------------------------------------------------------- template errors


def test_unknown_handler_is_reported_at_start_up(setup, kafka_bootstrap, kafka_session_timeout_ms, unique):
    topic = f"t-{unique}"
    _topic, template = setup(functions={"Broken": {"Handler": "nowhere.handler",
                                                   "Events": {"Stream": kafka_event(topic)}}})
    with pytest.raises(TemplateError, match=r"^Broken: handler nowhere.handler"), \
            run(template, kafka_bootstrap, kafka_session_timeout_ms):
        pass


def test_missing_topic_is_reported_at_start_up(tmp_path, kafka_bootstrap, kafka_session_timeout_ms, unique):
    template = write_template(tmp_path, {"Probe": {"Events": {"Stream": kafka_event(f"absent-{unique}")}}},
                              prefix=unique)
    with pytest.raises(TemplateError, match=rf"^Probe.Stream: topic absent-{unique} does not exist"), \
            run(template, kafka_bootstrap, kafka_session_timeout_ms):
        pass


@pytest.mark.parametrize(("properties", "message"), [
    ({"BatchSize": 10_001}, "BatchSize must be between 1 and 10000"),
    ({"StartingPosition": "NOW"}, "StartingPosition must be one of"),
    ({"MaximumBatchingWindowInSeconds": 301}, "MaximumBatchingWindowInSeconds must be 0 to 300"),
    ({"DestinationConfig": {"OnFailure": {"Destination": "arn:aws:sqs:us-east-1:1:q"}}},
     "OnFailure destination .* is not supported locally"),
    ({"DestinationConfig": {"OnFailure": {"Destination": "kafka://elsewhere"}}},
     "InvalidParameterValueException: the Kafka on-failure destination kafka://elsewhere is only supported in "
     "provisioned mode"),
])
def test_invalid_mapping_settings_are_reported(setup, kafka_bootstrap, kafka_session_timeout_ms, properties,
                                               message):
    _topic, template = setup(**properties)
    with pytest.raises(TemplateError, match=rf"^Probe event Stream: {message}"), \
            run(template, kafka_bootstrap, kafka_session_timeout_ms):
        pass

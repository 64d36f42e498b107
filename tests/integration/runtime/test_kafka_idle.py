"""Idle pollers sleep: no fetch requests at all, yet a record still arrives at once when the runtime is
nudged (the outbox relay of `kafkagram up` does it after producing), and within the look interval when
it is not (another program produced it).

The poller-level tests run a Poller in this process, its consumer counting fetch requests through
librdkafka's statistics; the runtime-level ones go through Runtime.nudge, the status server's
POST /nudge and OutboxRelay(on_published=...)."""

from __future__ import annotations

import json
import os
import threading
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import pytest

from emulator.kafka.esm import kafka_mappings
from emulator.kafka.poller import Poller, PollerOptions
from emulator.status import nudge
from emulator.template import parse_template
from tests.support.kafka import Probe, create_topic, kafka_event, produce, running, write_template
from tests.support.services import free_port
from tests.support.waiting import wait_for


@dataclass
class FetchCounter:
    """Fetch requests the consumer sent, from librdkafka's statistics (one report every 100 ms)."""

    reports: int = 0
    fetches: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def __call__(self, stats_json: str) -> None:
        stats = json.loads(stats_json)
        with self.lock:
            self.reports += 1
            self.fetches = sum(broker.get("req", {}).get("Fetch", 0) for broker in stats["brokers"].values())


class CountingPoller(Poller):
    def __init__(self, *args: Any, counter: FetchCounter, **kwargs: Any) -> None:
        self.counter = counter
        super().__init__(*args, **kwargs)

    def _consumer_config(self) -> dict[str, Any]:
        return {**super()._consumer_config(), "statistics.interval.ms": 100, "stats_cb": self.counter}


@contextmanager
def poller_running(template, bootstrap: str, session_timeout_ms: int, **options: Any) -> Iterator[
        tuple[CountingPoller, FetchCounter, int]]:
    """A Poller of the template's one mapping in a thread; yields it, its fetch counter and the write
    end of its nudge pipe."""
    (mapping,) = kafka_mappings(parse_template(template))
    nudge_read, nudge_write = os.pipe()
    counter = FetchCounter()
    poller = CountingPoller(mapping, PollerOptions(bootstrap_servers=bootstrap, region="us-east-1",
                                                   session_timeout_ms=session_timeout_ms, **options),
                            nudge_fd=nudge_read, counter=counter)
    thread = threading.Thread(target=poller.run, daemon=True)
    thread.start()
    try:
        yield poller, counter, nudge_write
    finally:
        poller.stop()
        thread.join(timeout=30)
        os.close(nudge_read)
        os.close(nudge_write)


def stats_reports_pass(counter: FetchCounter, count: int) -> None:
    """Wait for `count` more statistics reports: time passing, seen by the consumer itself."""
    start = counter.reports
    wait_for(lambda: counter.reports >= start + count, timeout=30, message=f"{count} statistics reports")


@pytest.fixture
def one_topic(tmp_path, kafka_bootstrap, unique):
    topic = f"idle-{unique}"
    create_topic(kafka_bootstrap, topic)
    template = write_template(tmp_path, {"Probe": {"Events": {"Stream": kafka_event(
        topic, BatchSize=10, MaximumBatchingWindowInSeconds=0)}}}, prefix=unique)
    return topic, template


def test_a_sleeping_poller_fetches_nothing_until_nudged(one_topic, kafka_bootstrap, kafka_session_timeout_ms,
                                                         redis_client, unique):
    topic, template = one_topic
    probe = Probe(redis_client, unique)
    # Looks so rare that only the nudge can bring the record in during the test.
    with poller_running(template, kafka_bootstrap, kafka_session_timeout_ms,
                        look_interval_s=3600) as (poller, counter, nudge):
        wait_for(lambda: poller.partitions and poller.asleep, message="the poller asleep")
        stats_reports_pass(counter, 2)  # fetches sent before the pause are counted by now
        asleep_fetches = counter.fetches
        produce(kafka_bootstrap, topic, [{"n": 1}])
        stats_reports_pass(counter, 5)
        assert counter.fetches == asleep_fetches, "a sleeping poller sent fetch requests"
        assert probe.invocations() == []

        os.write(nudge, b"n")
        invocation = wait_for(probe.invocations, timeout=30, message="the record after the nudge")[0]
        assert poller.nudges == 1 and poller.looks == 0
        assert counter.fetches > asleep_fetches
    assert [r["offset"] for records in invocation["event"]["records"].values() for r in records] == [0]


def test_a_sleeping_poller_looks_by_itself(one_topic, kafka_bootstrap, kafka_session_timeout_ms, redis_client,
                                           unique):
    topic, template = one_topic
    probe = Probe(redis_client, unique)
    with poller_running(template, kafka_bootstrap, kafka_session_timeout_ms,
                        look_interval_s=0.5) as (poller, _counter, _nudge):
        wait_for(lambda: poller.partitions and poller.asleep, message="the poller asleep")
        produce(kafka_bootstrap, topic, [{"n": 1}])  # nobody nudges
        wait_for(probe.invocations, timeout=30, message="the record found by a look")
        assert poller.looks >= 1 and poller.nudges == 0
        # Back to sleep once the record is done.
        wait_for(lambda: poller.asleep, message="asleep again")


def _post(url: str, body: bytes | None) -> tuple[int, dict]:
    request = urllib.request.Request(url, data=body, method="POST", headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.load(response)
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def test_runtime_nudge_and_the_status_endpoint_wake_the_topics_pollers(tmp_path, kafka_bootstrap,
                                                                        kafka_session_timeout_ms, redis_client,
                                                                        unique):
    topics = [f"idle-{unique}-a", f"idle-{unique}-b"]
    for topic in topics:
        create_topic(kafka_bootstrap, topic)
    template = write_template(tmp_path, {
        "ProbeA": {"Events": {"Stream": kafka_event(topics[0], BatchSize=10, MaximumBatchingWindowInSeconds=0)}},
        "ProbeB": {"Events": {"Stream": kafka_event(topics[1], BatchSize=10, MaximumBatchingWindowInSeconds=0)}},
    }, prefix=unique)
    probe = Probe(redis_client, unique)
    with running(template, kafka_bootstrap, kafka_session_timeout_ms, look_interval_s=3600) as runtime:
        wait_for(lambda: all(m["asleep"] for m in runtime.status().values()), timeout=60,
                 message="both pollers asleep")
        produce(kafka_bootstrap, topics[0], [{"via": "nudge"}])
        assert runtime.nudge([topics[0]]) == 1
        wait_for(lambda: probe.delivered_values() == [{"via": "nudge"}], message="the nudged record")

        status_url = runtime.urls["status"]
        produce(kafka_bootstrap, topics[1], [{"via": "endpoint"}])
        assert _post(f"{status_url}/nudge?topic={topics[1]}", None) == (200, {"nudged": 1})
        wait_for(lambda: {"via": "endpoint"} in probe.delivered_values(), message="the record nudged over HTTP")
        assert _post(f"{status_url}/nudge", json.dumps({"topics": ["no-such-topic"]}).encode()) == (200, {"nudged": 0})
        port = int(status_url.rsplit(":", 1)[1])
        assert nudge("127.0.0.1", port, [topics[0], topics[1]]) == 2  # what `kafkagram produce` calls
        assert nudge("127.0.0.1", free_port(), [topics[0]]) is None  # no runtime there
        assert _post(f"{status_url}/nudge", b"not json")[0] == 400
        assert _post(f"{status_url}/nudge", json.dumps({"topics": "a string"}).encode())[0] == 400
        wait_for(lambda: all(m["nudges"] >= 1 for m in runtime.status().values()),
                 message="the nudges in the status")


def test_the_outbox_relay_nudges_the_runtime_after_it_produced(tmp_path, kafka_bootstrap, kafka_session_timeout_ms,
                                                               redis_client, database_url, unique):
    from kafkagram.db import connect, transaction
    from kafkagram.events import new_event, topic_for
    from kafkagram.outbox import OutboxRelay, enqueue

    topic = topic_for("user-registered")
    create_topic(kafka_bootstrap, topic)
    template = write_template(tmp_path, {"Probe": {"Events": {"Stream": kafka_event(
        topic, BatchSize=10, MaximumBatchingWindowInSeconds=0, StartingPosition="LATEST",
        ConsumerGroupId=f"idle-relay-{unique}")}}}, prefix=unique)
    probe = Probe(redis_client, unique)
    with running(template, kafka_bootstrap, kafka_session_timeout_ms, look_interval_s=3600) as runtime:
        wait_for(lambda: runtime.status()["Probe.Stream"]["asleep"], timeout=60, message="the poller asleep")
        published: list[set[str]] = []

        def on_published(topics: set[str]) -> int:
            published.append(topics)
            return runtime.nudge(topics)

        database = connect(database_url)
        try:
            database.run("DELETE FROM outbox WHERE published_at IS NULL")
            with transaction(database):
                enqueue(database, new_event("user-registered", {"user_id": "42", "username": f"u{unique}",
                                                                "display_name": "Idle"}, actor_id=42))
        finally:
            database.close()
        with OutboxRelay(database_url, kafka_bootstrap, on_published=on_published) as relay:
            assert relay.relay_once() == 1
        assert published == [{topic}]
        wait_for(lambda: any(value.get("data", {}).get("username") == f"u{unique}"
                             for value in probe.delivered_values()), message="the relayed event, nudged")
        wait_for(lambda: runtime.status()["Probe.Stream"]["nudges"] >= 1, message="the nudge in the status")

"""The Python examples of docs/kafka-clients.md, run as they are written there against a real broker
(the session's Tansu, or KAFKA_BOOTSTRAP_SERVERS): each client emits a `user-registered` event, reads
it back in its own consumer group, and prints it. These are the "automated" rows of that page's
compatibility table.

The only change to an example is its bootstrap address: `127.0.0.1:9092` (what `make up` serves)
becomes the test broker's. Each printed event must be a valid kafkagram event, and its partition the one
the outbox relay's producer (Java's murmur2 partitioner) picks for the same key."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from typing import Any

import pytest
from confluent_kafka import Producer

from emulator.kafka.broker import ensure_topics
from kafkagram.events import key_for, validate
from kafkagram.outbox import producer_config
from tests.support.repo import REPO

DOC = REPO / "docs" / "kafka-clients.md"
DOC_BOOTSTRAP = "127.0.0.1:9092"
TOPIC = "user-events"
PYTHON_CLIENTS = ["confluent-kafka", "aiokafka", "kafka-python"]
# A group join on Tansu takes about half the session timeout (3 s for the examples' 6 s).
EXAMPLE_TIMEOUT_S = 60


def example(client: str) -> str:
    """The code block that follows `<!-- example:<client> -->` in docs/kafka-clients.md."""
    found = re.search(rf"<!-- example:{re.escape(client)} -->\s*```\w+\n(.*?)```", DOC.read_text(), re.DOTALL)
    assert found, f"docs/kafka-clients.md has no example for {client}"
    return found.group(1)


@pytest.fixture(scope="module")
def bootstrap(kafka_bootstrap: str) -> str:
    # Three partitions, as the other tests on the session broker create it: who comes first wins.
    ensure_topics(kafka_bootstrap, {TOPIC: 3})
    return kafka_bootstrap


def relay_partition(bootstrap: str, key: str) -> int:
    """The partition the outbox relay's producer sends `key` to on TOPIC."""
    reports: list[tuple[Any, Any]] = []
    producer = Producer(producer_config(bootstrap))
    producer.produce(TOPIC, key=key.encode(), value=b'{"type": "partition-probe"}',
                     on_delivery=lambda error, message: reports.append((error, message)))
    assert producer.flush(10) == 0
    error, message = reports[0]
    assert error is None, error
    return int(message.partition())


def test_the_doc_has_an_example_per_working_client():
    for client in [*PYTHON_CLIENTS, "kafkajs"]:
        assert DOC_BOOTSTRAP in example(client)


@pytest.mark.parametrize("client", PYTHON_CLIENTS)
def test_example_round_trip(client, bootstrap, tmp_path):
    code = example(client)
    assert DOC_BOOTSTRAP in code
    script = tmp_path / "example.py"  # not `<client>.py`: that name would shadow the client's module
    script.write_text(code.replace(DOC_BOOTSTRAP, bootstrap))

    result = subprocess.run([sys.executable, str(script)], capture_output=True, text=True,
                            timeout=EXAMPLE_TIMEOUT_S, cwd=tmp_path)

    assert result.returncode == 0, result.stderr
    partition, offset, value = result.stdout.strip().splitlines()[-1].split(" ", 2)
    event = json.loads(value)
    validate(event)  # kafkagram's own check of the envelope and of user-registered's data
    assert event["type"] == "user-registered"
    assert int(offset) >= 0
    assert int(partition) == relay_partition(bootstrap, key_for(event))

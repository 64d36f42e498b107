"""The runtime as a whole: one template with an HTTP route, a WebSocket API and a Kafka handler.

A record produced to Kafka reaches a browser-side WebSocket client through the handler's boto3
`post_to_connection`, at the endpoint the template builds for AWS; environment overrides work as
`sam local --env-vars`; the status endpoint reports the mapping.
"""

from __future__ import annotations

import asyncio
import json
import urllib.request

import websockets

from emulator.runtime import Runtime, RuntimeOptions
from tests.support.kafka import create_topic, produce
from tests.support.repo import APPS
from tests.support.services import free_port
from tests.support.waiting import wait_for

APP = APPS / "runtime_app" / "template.yaml"


def get_json(url: str) -> dict:
    with urllib.request.urlopen(url, timeout=10) as response:
        return json.load(response)


def test_kafka_record_reaches_a_websocket_client(tmp_path, kafka_bootstrap, kafka_session_timeout_ms, redis_client,
                                                 unique):
    topic = f"rt-{unique}"
    create_topic(kafka_bootstrap, topic)
    env_file = tmp_path / "env.json"
    env_file.write_text(json.dumps({"Parameters": {"GREETING": "hello from the env file"},
                                    "EnvironmentFunction": {"UNDECLARED": "ignored, as sam local does"}}))
    ports = {"http": free_port(), "ws": free_port(), "status": free_port()}
    runtime = Runtime(RuntimeOptions(
        template_path=APP, kafka_bootstrap_servers=kafka_bootstrap, session_timeout_ms=kafka_session_timeout_ms,
        parameter_overrides={"Topic": topic, "TestPrefix": unique}, env_vars_file=env_file,
        http_port=ports["http"], websocket_port=ports["ws"], status_port=ports["status"]))
    runtime.start()
    try:
        environment = get_json(f"http://127.0.0.1:{ports['http']}/environment")
        assert environment["GREETING"] == "hello from the env file"
        assert environment["WS_ENDPOINT"] == f"http://127.0.0.1:{ports['ws']}/test"
        assert environment["TEST_PREFIX"] == unique

        received = asyncio.run(_connect_and_receive(ports["ws"], redis_client, unique, kafka_bootstrap, topic))
        assert received == "a record became a push"

        def mapping_status() -> dict:
            return get_json(f"http://127.0.0.1:{ports['status']}/status")["PushFunction.Stream"]

        status = wait_for(lambda: mapping_status()["invocations"] and mapping_status(),
                          message="the invocation in the status")
        assert status["errors"] == 0
        assert status["partitions"][f"{topic}-0"]["committed"] == 1
    finally:
        runtime.stop()


async def _connect_and_receive(port: int, redis_client, prefix: str, bootstrap: str, topic: str) -> str:
    async with websockets.connect(f"ws://127.0.0.1:{port}/test") as client:
        connection_id = wait_for(lambda: redis_client.lindex(f"{prefix}:connections", 0), message="$connect")
        produce(bootstrap, topic, [{"connection_id": connection_id.decode(), "message": "a record became a push"}])
        message = await asyncio.wait_for(client.recv(), timeout=30)
    return message if isinstance(message, str) else message.decode()

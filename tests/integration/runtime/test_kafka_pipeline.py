"""Batches of one partition travel to a sandbox together (FunctionPool.invoke_many): each is still one
invocation, in order, and nothing after a failed one runs before the failure is dealt with."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from emulator.sandbox import FunctionPool
from emulator.template import parse_template
from tests.support.kafka import Probe, create_topic, kafka_event, produce, running, write_template
from tests.support.waiting import wait_for

HANDLER = """
import os, time

def handler(event, context):
    if event.get("sleep"):
        time.sleep(event["sleep"])
    if event.get("fail"):
        raise ValueError("asked to fail")
    if event.get("exit"):
        os._exit(3)
    return {"n": event["n"], "pid": os.getpid(), "remaining_ms": context.get_remaining_time_in_millis(),
            "request_id": context.aws_request_id, **event.get("return", {})}
"""


@pytest.fixture
def pool(tmp_path: Path):
    code = tmp_path / "src"
    code.mkdir()
    (code / "fn.py").write_text(textwrap.dedent(HANDLER))
    template = tmp_path / "template.yaml"
    template.write_text(textwrap.dedent(f"""
        Transform: AWS::Serverless-2016-10-31
        Resources:
          Fn:
            Type: AWS::Serverless::Function
            Properties: {{CodeUri: {code}, Handler: fn.handler, Runtime: python3.11, Timeout: 1}}
    """))
    pool = FunctionPool(parse_template(template).functions["Fn"], region="us-east-1", max_workers=1)
    yield pool
    pool.close()


def test_invoke_many_runs_each_event_as_its_own_invocation(pool):
    invocations = pool.invoke_many([{"n": 0}, {"n": 1}, {"n": 2}])
    assert [i.outcome for i in invocations] == ["success"] * 3
    assert [i.payload["n"] for i in invocations] == [0, 1, 2]
    assert len({i.request_id for i in invocations}) == 3
    assert [i.payload["request_id"] for i in invocations] == [i.request_id for i in invocations]
    assert len({i.payload["pid"] for i in invocations}) == 1  # one sandbox, one after the other
    assert all(900 < i.payload["remaining_ms"] <= 1000 for i in invocations)  # each its whole timeout
    assert all(i.started_at is not None and i.handler_ms is not None for i in invocations)


def test_invoke_many_stops_after_a_failure(pool):
    invocations = pool.invoke_many([{"n": 0}, {"n": 1, "fail": True}, {"n": 2}])
    assert [i.outcome for i in invocations] == ["success", "error"]
    assert invocations[1].error["errorType"] == "ValueError"
    assert pool.invoke({"n": 3}).payload["n"] == 3  # the sandbox stays


def test_invoke_many_stops_after_reported_failures_when_asked(pool):
    events = [{"n": 0, "return": {"batchItemFailures": [{"itemIdentifier": {"offset": 1}}]}}, {"n": 1}]
    assert len(pool.invoke_many(events, stop_on_reported_failures=True)) == 1
    assert len(pool.invoke_many(events)) == 2


def test_a_timeout_or_crash_in_a_pipeline_ends_it_and_the_sandbox(pool):
    first = pool.invoke({"n": 0}).payload["pid"]
    invocations = pool.invoke_many([{"n": 1}, {"n": 2, "sleep": 5}, {"n": 3}])
    assert [i.outcome for i in invocations] == ["success", "timeout"]
    second = pool.invoke({"n": 4}).payload["pid"]
    assert second != first  # a timed-out sandbox is replaced
    invocations = pool.invoke_many([{"n": 5}, {"n": 6, "exit": True}, {"n": 7}])
    assert [i.outcome for i in invocations] == ["success", "crash"]
    assert "exit status 3" in invocations[1].error["errorMessage"]
    assert pool.invoke({"n": 8}).payload["pid"] not in (first, second)


def test_a_failing_batch_holds_the_batches_behind_it(tmp_path, kafka_bootstrap, kafka_session_timeout_ms,
                                                      redis_client, unique):
    topic = f"pipe-{unique}"
    create_topic(kafka_bootstrap, topic)
    # 8 batches of 5 records, all ready at once: they go to the sandbox together.
    produce(kafka_bootstrap, topic, [{"i": i, **({"fail_first": 2} if i == 12 else {})} for i in range(40)])
    template = write_template(tmp_path, {"Probe": {"Events": {"Stream": kafka_event(
        topic, BatchSize=5, MaximumBatchingWindowInSeconds=0)}}}, prefix=unique)
    probe = Probe(redis_client, unique)
    with running(template, kafka_bootstrap, kafka_session_timeout_ms):
        wait_for(lambda: len(set(probe.done())) >= 40, timeout=60, message="40 records handled")
    deliveries = probe.deliveries()
    # The batch of record 12 (offsets 10-14) ran three times; every other record once: the batches
    # after it waited for it instead of running (and being run again) meanwhile.
    assert {offset: count for offset, count in deliveries.items() if count != 1} == {
        f"0:{offset}": 3 for offset in range(10, 15)}
    assert len(deliveries) == 40
    firsts = [records[0]["offset"] for invocation in probe.invocations()
              for records in invocation["event"]["records"].values()]
    assert firsts == [0, 5, 10, 10, 10, 15, 20, 25, 30, 35]  # in order, one partition at a time

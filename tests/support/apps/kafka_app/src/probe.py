"""A Kafka-triggered test function: records every invocation in Redis, and misbehaves on request.

Each record value may be JSON with instructions: {"fail": true} raises, {"fail_first": n} raises on
the first n deliveries of that record, {"sleep": s} sleeps, {"exit": true} kills the process,
{"report_failure": true} is reported in a partial batch response, {"metric": name, "value": n} adds to
an embedded-format metric (Powertools Metrics), {"print": text} prints a line.
"""

from __future__ import annotations

import base64
import json
import os
import time
from typing import Any

import redis
from aws_lambda_powertools import Metrics
from aws_lambda_powertools.metrics import MetricUnit

_redis = redis.Redis.from_url(os.environ.get("PROBE_REDIS_URL", "redis://127.0.0.1:6379/15"))
_PREFIX = os.environ.get("PROBE_PREFIX", "probe")
_metrics = Metrics(namespace="probe", service="probe")


def _instructions(record: dict[str, Any]) -> dict[str, Any]:
    try:
        value = json.loads(base64.b64decode(record.get("value") or ""))  # a tombstone has no value field
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    records = [record for batch in event["records"].values() for record in batch]
    started = time.time()
    pipe = _redis.pipeline()
    pipe.rpush(f"{_PREFIX}:invocations", json.dumps({"event": event, "pid": os.getpid(), "started": started,
                                                     "request_id": context.aws_request_id,
                                                     "remaining_ms": context.get_remaining_time_in_millis()}))
    for record in records:
        pipe.hincrby(f"{_PREFIX}:deliveries", f"{record['partition']}:{record['offset']}", 1)
    deliveries = pipe.execute()[1:]
    failures = []
    for record, delivery in zip(records, deliveries, strict=True):
        instructions = _instructions(record)
        if instructions.get("sleep"):
            time.sleep(float(instructions["sleep"]))
        if instructions.get("exit"):
            os._exit(7)
        if instructions.get("fail") or delivery <= int(instructions.get("fail_first", 0)):
            raise RuntimeError(f"asked to fail at offset {record['offset']}")
        if instructions.get("report_failure"):
            failures.append({"itemIdentifier": {os.environ.get("PROBE_ID_KEY", "partition"):
                                                f"{record['topic']}-{record['partition']}",
                                                "offset": record["offset"]}})
    for record in records:
        instructions = _instructions(record)
        if instructions.get("metric"):  # an embedded-format metric line, as Powertools Metrics prints it
            _metrics.add_metric(name=instructions["metric"], unit=MetricUnit.Count, value=instructions["value"])
        if instructions.get("print"):
            print(instructions["print"], flush=True)
    _metrics.flush_metrics()
    _redis.rpush(f"{_PREFIX}:done", *[f"{r['partition']}:{r['offset']}" for r in records])
    return {"batchItemFailures": failures}

"""The outbox relay on AWS: a scheduled function that publishes committed outbox rows to Kafka.

Locally `make up` runs `kafkagram.outbox.OutboxRelay.run` in a thread for as long as it runs. On
Lambda nothing runs for ever, so template.yaml invokes this function every minute (a Schedule
event) with ReservedConcurrentExecutions 1, and each invocation runs the same loop for DRAIN_S:
it publishes what is waiting, then waits on LISTEN/NOTIFY, so while it runs a committed event is
published at once, as locally. Between the end of one invocation and the start of the next (~10 s
a minute) rows wait for the next one: that is the latency this costs (docs/deploy.md, "The outbox
relay on AWS"). One relay at a time is guarded twice: the reserved concurrency and the relay's
advisory lock (a second relay publishes nothing while the first holds it).
"""

from __future__ import annotations

import threading
import time
from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.typing import LambdaContext

from kafkagram.config import get_settings
from kafkagram.observability import metrics
from kafkagram.outbox import DEFAULT_DELIVERY_TIMEOUT_S, FLUSH_MARGIN_S, OutboxRelay

logger = Logger()

DRAIN_S = 50.0  # of each invocation; the schedule is rate(1 minute)
# A batch started just before the stop may wait this long for its delivery reports: keep it inside
# the function's timeout (template.yaml: Timeout 75).
LAST_BATCH_S = DEFAULT_DELIVERY_TIMEOUT_S + FLUSH_MARGIN_S


def drain_seconds(context: LambdaContext) -> float:
    """DRAIN_S, or less when the invocation has less time left than a draining plus a last batch."""
    remaining_s = context.get_remaining_time_in_millis() / 1000
    return max(0.0, min(DRAIN_S, remaining_s - LAST_BATCH_S))


@metrics.log_metrics
@logger.inject_lambda_context
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    settings = get_settings()
    if not settings.kafka_bootstrap_servers:
        raise RuntimeError("KAFKA_BOOTSTRAP_SERVERS is not set: the relay has no broker to publish to")
    seconds = drain_seconds(context)
    stop = threading.Event()
    timer = threading.Timer(seconds, stop.set)
    started = time.monotonic()
    # A relay per invocation: no connection left idle (and cut) while the sandbox is frozen.
    with OutboxRelay(settings.database_url, settings.kafka_bootstrap_servers, kafka_auth=settings.kafka_auth) as relay:
        timer.start()
        try:
            relay.run(stop)  # publishes, waits on LISTEN, retries with back-off until `stop`
        finally:
            timer.cancel()
        waiting = relay.unpublished()
    result = {"drained_s": round(time.monotonic() - started, 1), "unpublished": waiting}
    logger.info("outbox relay", extra=result)
    return result

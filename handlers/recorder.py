"""Records every Kafka record it receives in PostgreSQL (`received_events`), once per position.

The first flow step: it proves the path from template.yaml's event source mapping to a running
function, and gives developers a way to see what crossed a topic (`kafkagram status`, or SQL).
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.data_classes import KafkaEvent, event_source
from aws_lambda_powertools.utilities.typing import LambdaContext

from kafkagram.db import Database
from kafkagram.observability import count, metrics
from kafkagram.recording import record_received

logger = Logger()
database = Database()  # the sandbox's connection, made at the first batch


@metrics.log_metrics
@logger.inject_lambda_context
@event_source(data_class=KafkaEvent)
def handler(event: KafkaEvent, context: LambdaContext) -> dict[str, Any]:
    with database.transaction() as conn:
        stored = record_received(conn, list(event.records))
    logger.info("recorded", extra={"received": stored.received, "new": stored.new})
    count("RecordsRecorded", stored.new)
    return {"received": stored.received, "new": stored.new}

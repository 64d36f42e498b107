"""Event log retention on AWS: a scheduled function that drops published events and consumers'
processed-event markers older than the retention window (kafkagram.event_log).

Locally `make up` does the same from a thread (kafkagram_local.event_log_keeper), since the local
runtime does not emulate schedules.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.typing import LambdaContext

from kafkagram.config import get_settings
from kafkagram.db import Database
from kafkagram.event_log import prune
from kafkagram.observability import metrics

logger = Logger()
database = Database()


@metrics.log_metrics
@logger.inject_lambda_context
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    retention = timedelta(days=get_settings().event_log_retention_days)
    with database.transaction() as connection:
        pruned = prune(connection, retention)
    logger.info("event log pruned", extra={"events": pruned.events, "processed_markers": pruned.processed_markers,
                                           "retention_days": retention.days})
    return {"events": pruned.events, "processed_markers": pruned.processed_markers}

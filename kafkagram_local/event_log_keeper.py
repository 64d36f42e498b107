"""While `make up` runs: the event log's checkpoint moves forward and the log is pruned on schedule.

On AWS the broker keeps records and a scheduled function prunes (handlers/event_log_retention.py);
here the broker keeps them in memory only, so the checkpoint says which published events a restart
must re-publish (kafkagram.event_log.requeue_unconsumed).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from datetime import timedelta

from kafkagram.db import Database
from kafkagram.event_log import consumed_through, newest_published, prune, record_consumed_through

CHECK_INTERVAL_S = 5.0  # how often the checkpoint may move (only when something was published)
PRUNE_INTERVAL_S = 3600.0

logger = logging.getLogger("kafkagram.event_log")


class EventLogKeeper:
    def __init__(self, database_url: str, lag: Callable[[], dict[str, int]], retention: timedelta) -> None:
        """`lag()`: records each event source mapping has not committed yet, by mapping."""
        self._database = Database(database_url)
        self._lag = lag
        self._retention = retention
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True, name="event-log-keeper")

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=30)
        self._database.close()

    def checkpoint(self) -> bool:
        """Move the checkpoint to the newest published event if every mapping has caught up since it
        was published (read in that order, so the lag seen covers it); True when it is current."""
        with self._database.transaction() as connection:
            newest = newest_published(connection)
            if newest is None or newest <= (consumed_through(connection) or 0):
                return True
        if any(self._lag().values()):
            return False
        with self._database.transaction() as connection:
            record_consumed_through(connection, newest)
        return True

    def prune(self) -> None:
        with self._database.transaction() as connection:
            pruned = prune(connection, self._retention)
        if pruned.events or pruned.processed_markers:
            logger.info("event log pruned: %d events, %d processed markers older than %s",
                        pruned.events, pruned.processed_markers, self._retention)

    def _run(self) -> None:
        next_prune = time.monotonic()
        while not self._stop.wait(CHECK_INTERVAL_S if next_prune > time.monotonic() else 0):
            try:
                if time.monotonic() >= next_prune:
                    self.prune()
                    next_prune = time.monotonic() + PRUNE_INTERVAL_S
                self.checkpoint()
            except Exception:  # the database or the broker is away: try again at the next round
                logger.exception("event log keeper")

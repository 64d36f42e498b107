"""The gateway's access log: one JSON line per request, in the shape of the gateway's other log lines
(Powertools Logger's: level, location, message, timestamp, service, then the request's fields).

Written straight to standard output instead of through the Logger: Powertools formats a line by
walking every attribute of a LogRecord and trying to parse its message as JSON, which cost 67 µs a
line here, as much as the rest of the gateway's work for a 401; one json.dumps costs under 7. The
line is written only while the gateway's logger takes INFO (POWERTOOLS_LOG_LEVEL=WARNING silences it,
as it silences the Logger's lines).
"""

from __future__ import annotations

import json
import logging
import sys
import time
from typing import Any, TextIO

SERVICE = "emulator.http"
MESSAGE = "http request"
_LOCATION = "access_log:0"


class AccessLog:
    def __init__(self, stream: TextIO | None = None) -> None:
        self._stream = stream  # None: sys.stdout at each write (it may be replaced, as pytest does)
        self._level_source = logging.getLogger(SERVICE)
        self._second = -1
        self._second_text = ("", "")

    def write(self, fields: dict[str, Any]) -> None:
        if not self._level_source.isEnabledFor(logging.INFO):
            return
        line = {"level": "INFO", "location": _LOCATION, "message": MESSAGE, "timestamp": self._timestamp(),
                "service": SERVICE, **fields}
        stream = self._stream or sys.stdout
        stream.write(json.dumps(line, default=str, separators=(",", ":")) + "\n")
        stream.flush()

    def _timestamp(self) -> str:
        """Powertools' default format, local time, "2026-12-07 00:25:59,446+0000": strftime once a second."""
        now = time.time()
        second = int(now)
        if second != self._second:
            local = time.localtime(second)
            self._second = second
            self._second_text = (time.strftime("%Y-%m-%d %H:%M:%S", local), time.strftime("%z", local))
        date_time, zone = self._second_text
        return f"{date_time},{int((now - second) * 1000):03d}{zone}"

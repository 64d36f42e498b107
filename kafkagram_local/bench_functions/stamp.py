"""A handler that notes when each record reached it: `produce -> handler` for the latency benchmark.

Appends one line per record to the file named by STAMP_FILE: the record's timestamp (ms, the
producer's clock) and the time the handler started (ms), both on this machine's clock.
"""

import os
import time
from typing import Any


def handler(event: dict[str, Any], context: Any) -> None:
    started_ms = time.time() * 1000
    lines = [f"{record['timestamp']} {started_ms:.3f}\n"
             for records in event["records"].values() for record in records]
    with open(os.environ["STAMP_FILE"], "a") as stamps:
        stamps.writelines(lines)

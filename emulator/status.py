"""Per-function runtime figures: invocations, errors, durations, throughput and consumer lag."""

from __future__ import annotations

import json
import threading
import time
import urllib.error
import urllib.request
from collections import deque
from dataclasses import dataclass, field
from typing import Any

DURATION_SAMPLES = 5_000
# Where a record's time goes, per batch: produce -> fetched by the poller (from the record's timestamp),
# fetched -> the sandbox starts the handler (queue, pipe, event building), the handler itself.
HOPS = ("produce_to_fetch_ms", "fetch_to_invoke_ms", "handler_ms")
RATE_WINDOW_S = 10.0
STALE_REPORT_S = 15.0
RECENT_ERRORS = 20  # failed invocations kept per mapping


def percentile(samples: list[float], fraction: float) -> float | None:
    """statistics.quantiles(samples, n=100, method="inclusive")'s cut point for `fraction` (1 % to 99 %),
    computed for one cut only."""
    if not samples:
        return None
    if len(samples) == 1:
        return samples[0]
    data = sorted(samples)
    cut = min(99, max(1, round(fraction * 100)))
    index, remainder = divmod(cut * (len(data) - 1), 100)
    if remainder == 0:
        return data[index]
    return (data[index] * (100 - remainder) + data[index + 1] * remainder) / 100


@dataclass
class _MappingFigures:
    function: str
    invocations: int = 0
    errors: int = 0
    records: int = 0
    filtered: int = 0
    to_destination: int = 0
    durations: deque[float] = field(default_factory=lambda: deque(maxlen=DURATION_SAMPLES))
    hops: dict[str, deque[float]] = field(default_factory=lambda: {
        hop: deque(maxlen=DURATION_SAMPLES) for hop in HOPS})
    recent_records: deque[tuple[float, int]] = field(default_factory=deque)
    partitions_by_worker: dict[int, tuple[float, dict[str, Any]]] = field(default_factory=dict)
    # Per worker: (asleep, looks, nudges, assigned_at) from its latest report.
    sleep_by_worker: dict[int, tuple[bool, int, int, float | None]] = field(default_factory=dict)
    last_batch_at: float | None = None
    enabled: bool = True
    recent_errors: deque[dict[str, Any]] = field(default_factory=lambda: deque(maxlen=RECENT_ERRORS))
    metrics: dict[str, float] = field(default_factory=dict)  # the handler's EMF metrics, totals


class StatusBoard:
    """Collects the reports poller processes send and answers the status command and endpoint."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._mappings: dict[str, _MappingFigures] = {}
        self.workers: dict[str, list[int]] = {}
        self.restarts: dict[str, int] = {}

    def declare(self, esm: str, function: str, enabled: bool) -> None:
        with self._lock:
            self._mappings.setdefault(esm, _MappingFigures(function=function, enabled=enabled))

    def record(self, pid: int, report: dict[str, Any]) -> None:
        now = time.monotonic()
        with self._lock:
            figures = self._mappings.setdefault(report["esm"], _MappingFigures(function=report["function"]))
            figures.invocations += report["invocations"]
            figures.errors += report["errors"]
            figures.records += report["records"]
            figures.filtered += report["filtered"]
            figures.to_destination += report["to_destination"]
            figures.durations.extend(report["durations_ms"])
            for hop in HOPS:
                figures.hops[hop].extend(report.get(hop, ()))
            figures.recent_records.append((now, report["records"]))
            figures.partitions_by_worker[pid] = (now, report["partitions"])
            figures.sleep_by_worker[pid] = (bool(report.get("asleep")), int(report.get("looks", 0)),
                                            int(report.get("nudges", 0)), report.get("assigned_at"))
            figures.recent_errors.extend({**error, "worker": pid} for error in report.get("recent_errors", ()))
            for name, value in report.get("metrics", {}).items():
                figures.metrics[name] = figures.metrics.get(name, 0.0) + value
            if report.get("last_batch_at") is not None:
                figures.last_batch_at = max(figures.last_batch_at or 0.0, report["last_batch_at"])

    def snapshot(self) -> dict[str, Any]:
        now = time.monotonic()
        with self._lock:
            return {esm: self._describe(esm, figures, now) for esm, figures in sorted(self._mappings.items())}

    def _describe(self, esm: str, figures: _MappingFigures, now: float) -> dict[str, Any]:
        while figures.recent_records and now - figures.recent_records[0][0] > RATE_WINDOW_S:
            figures.recent_records.popleft()
        live_pids = set(self.workers.get(esm, []))
        partitions: dict[str, Any] = {}
        fresh: list[int] = []
        for pid, (at, reported) in figures.partitions_by_worker.items():
            if pid in live_pids and now - at < STALE_REPORT_S:
                fresh.append(pid)
                partitions.update({key: {**value, "worker": pid} for key, value in reported.items()})
        sleep = [figures.sleep_by_worker[pid] for pid in fresh if pid in figures.sleep_by_worker]
        durations = list(figures.durations)
        p50, p99 = percentile(durations, 0.5), percentile(durations, 0.99)
        hops: dict[str, float | None] = {}
        for hop, samples in figures.hops.items():
            values = list(samples)
            for name, fraction in (("p50", 0.5), ("p99", 0.99)):
                value = percentile(values, fraction)
                hops[f"{hop}_{name}"] = None if value is None else round(value, 2)
        assigned = [at for *_, at in sleep if at is not None]
        return {
            "function": figures.function,
            "enabled": figures.enabled,
            "workers": sorted(live_pids),
            "restarts": self.restarts.get(esm, 0),
            "invocations": figures.invocations,
            "errors": figures.errors,
            "records": figures.records,
            "filtered": figures.filtered,
            "to_failure_destination": figures.to_destination,
            "duration_ms_p50": None if p50 is None else round(p50, 2),
            "duration_ms_p99": None if p99 is None else round(p99, 2),
            "records_per_second": round(sum(n for _, n in figures.recent_records) / RATE_WINDOW_S, 1),
            "lag": sum(p["lag"] for p in partitions.values()),
            # Sleeping pollers fetch nothing until nudged or their next look (every LOOK_INTERVAL_S, 2 s).
            "asleep": bool(sleep) and all(asleep for asleep, *_ in sleep),
            "looks": sum(looks for _, looks, _, _ in sleep),
            "nudges": sum(nudges for _, _, nudges, _ in sleep),
            **hops,
            # Epoch seconds: when the latest assignment happened and when the latest batch was done.
            "assigned_at": max(assigned) if assigned else None,
            "last_batch_at": figures.last_batch_at,
            "partitions": dict(sorted(partitions.items())),
            "recent_errors": list(reversed(figures.recent_errors)),  # newest first
            "metrics": dict(sorted(figures.metrics.items())),
        }


def fetch_status(host: str, port: int) -> dict[str, Any]:
    """The status of a running runtime; ConnectionError naming the URL when none answers."""
    url = f"http://{host}:{port}/status"
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            snapshot: dict[str, Any] = json.load(response)
    except (urllib.error.URLError, OSError) as exc:
        raise ConnectionError(f"no runtime answers on {url}") from exc
    return snapshot


def nudge(host: str, port: int, topics: list[str], timeout_s: float = 2.0) -> int | None:
    """Ask a running runtime to wake its pollers of `topics` now (POST /nudge): how many it woke, or
    None when no runtime answers (its pollers then find the records within about 2 s anyway)."""
    request = urllib.request.Request(f"http://{host}:{port}/nudge", method="POST",
                                     data=json.dumps({"topics": topics}).encode(),
                                     headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=timeout_s) as response:
            return int(json.load(response)["nudged"])
    except (urllib.error.URLError, OSError, ValueError, KeyError):
        return None


def format_status(snapshot: dict[str, Any]) -> str:
    """A table for people: one line per event source mapping, then lag per partition."""
    header = (f"{'event source mapping':<40} {'inv':>7} {'err':>5} {'p50 ms':>8} {'p99 ms':>8} "
              f"{'rec/s':>8} {'failed':>7} {'lag':>6}")
    lines = [header, "-" * len(header)]
    for esm, figures in snapshot.items():
        state = "" if figures["enabled"] else " (disabled)"
        lines.append(
            f"{esm + state:<40} {figures['invocations']:>7} {figures['errors']:>5} "
            f"{_number(figures['duration_ms_p50']):>8} {_number(figures['duration_ms_p99']):>8} "
            f"{figures['records_per_second']:>8} {figures['to_failure_destination']:>7} {figures['lag']:>6}")
        for key, partition in figures["partitions"].items():
            lines.append(f"    {key:<36} committed={partition['committed']} end={partition['end']} "
                         f"lag={partition['lag']} worker={partition['worker']}")
    return "\n".join(lines)


def _number(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f}"

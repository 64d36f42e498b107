"""How much the local HTTP API costs over calling a handler directly.

For each concurrency level, N clients send GET requests for a trivial function through the gateway
(aiohttp client -> aiohttp server -> sandbox process and back) for `duration_s`, and the same
clients call the function's FunctionPool without HTTP (the sandbox share of the cost). The
baseline is the handler called in-process, one call after another. The gateway's per-request log
line is still formatted but written to /dev/null.

    python -m emulator.http.bench [--duration 3] [--levels 1,16,64]
"""

from __future__ import annotations

import argparse
import asyncio
import importlib.util
import os
import time
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp import web

from emulator import event_loop
from emulator.context import LambdaContext
from emulator.http.access_log import AccessLog
from emulator.http.gateway import HttpApiGateway
from emulator.sandbox import FunctionPool
from emulator.template import FunctionSpec, parse_template

DEFAULT_TEMPLATE = Path(__file__).resolve().parents[2] / "tests" / "support" / "apps" / "http_app" / "template.yaml"
DEFAULT_FUNCTION = "HelloFunction"
DEFAULT_PATH = "/hello"
_WARMUP_SECONDS = 0.5


@dataclass(frozen=True)
class Measurement:
    requests: int
    elapsed_s: float
    p50_ms: float
    p99_ms: float

    @property
    def rps(self) -> float:
        return self.requests / self.elapsed_s if self.elapsed_s else 0.0

    @classmethod
    def of(cls, latencies: list[float], elapsed_s: float) -> Measurement:
        ordered = sorted(latencies)
        return cls(len(ordered), elapsed_s, _percentile(ordered, 50) * 1000, _percentile(ordered, 99) * 1000)


def _percentile(ordered: list[float], percent: float) -> float:
    if not ordered:
        return float("nan")
    rank = max(0, min(len(ordered) - 1, round(percent / 100 * len(ordered)) - 1))
    return ordered[rank]


async def _drive(send: Callable[[], Awaitable[Any]], concurrency: int, duration_s: float) -> Measurement:
    """`concurrency` clients calling `send` back to back until the time is up."""
    loop = asyncio.get_running_loop()
    latencies: list[float] = []
    started = loop.time()
    deadline = started + duration_s

    async def client() -> None:
        while loop.time() < deadline:
            sent = time.perf_counter()
            await send()
            latencies.append(time.perf_counter() - sent)

    await asyncio.gather(*(client() for _ in range(concurrency)))
    return Measurement.of(latencies, loop.time() - started)


def _sample_event(path: str) -> dict[str, Any]:
    return {"version": "2.0", "routeKey": f"GET {path}", "rawPath": path, "rawQueryString": "",
            "headers": {"host": "localhost"}, "isBase64Encoded": False,
            "requestContext": {"http": {"method": "GET", "path": path}}}


def _load_handler(spec: FunctionSpec) -> Callable[[Any, Any], Any]:
    module_name, _, function_name = spec.handler.rpartition(".")
    source = spec.code_dir / (module_name.replace(".", "/") + ".py")
    module_spec = importlib.util.spec_from_file_location(f"emulator_bench_{spec.logical_id}", source)
    if module_spec is None or module_spec.loader is None:
        raise RuntimeError(f"cannot load {source}")
    module = importlib.util.module_from_spec(module_spec)
    module_spec.loader.exec_module(module)
    handler: Callable[[Any, Any], Any] = getattr(module, function_name)
    return handler


def _in_process_baseline(spec: FunctionSpec, path: str, duration_s: float) -> Measurement:
    handler = _load_handler(spec)
    event = _sample_event(path)
    context = LambdaContext(spec.function_name, "$LATEST", spec.arn, str(spec.memory_mb), "bench",
                            f"/aws/lambda/{spec.function_name}", "bench", int(time.time() * 1000) + 60_000)
    latencies: list[float] = []
    started = time.perf_counter()
    while (now := time.perf_counter()) - started < duration_s:
        handler(event, context)
        latencies.append(time.perf_counter() - now)
    return Measurement.of(latencies, time.perf_counter() - started)


async def _bench_gateway(gateway: HttpApiGateway, pool: FunctionPool, path: str,
                         concurrency_levels: tuple[int, ...], duration_s: float) -> list[tuple[int, Measurement,
                                                                                                  Measurement]]:
    runner = web.AppRunner(gateway.build_app())
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    url = f"http://127.0.0.1:{runner.addresses[0][1]}{path}"
    event = _sample_event(path)
    results = []
    try:
        for concurrency in concurrency_levels:
            connector = aiohttp.TCPConnector(limit=concurrency)
            async with aiohttp.ClientSession(connector=connector) as session:

                async def over_http(session: aiohttp.ClientSession = session) -> None:
                    async with session.get(url) as response:
                        await response.read()
                        if response.status != 200:
                            raise RuntimeError(f"{url} answered {response.status}")

                await _drive(over_http, concurrency, _WARMUP_SECONDS)
                http = await _drive(over_http, concurrency, duration_s)
            sandbox = await _sandbox_only(pool, event, concurrency, duration_s)
            results.append((concurrency, http, sandbox))
    finally:
        await runner.cleanup()
    return results


async def _sandbox_only(pool: FunctionPool, event: dict[str, Any], concurrency: int,
                        duration_s: float) -> Measurement:
    loop = asyncio.get_running_loop()
    with ThreadPoolExecutor(max_workers=concurrency) as threads:
        return await _drive(lambda: loop.run_in_executor(threads, pool.invoke, event), concurrency, duration_s)


def run_http_bench(concurrency_levels: tuple[int, ...] = (1, 16, 64), duration_s: float = 3.0, *,
                   template_path: Path = DEFAULT_TEMPLATE, function_id: str = DEFAULT_FUNCTION,
                   path: str = DEFAULT_PATH, max_workers: int = 4) -> list[dict[str, Any]]:
    """Requests/s and p50/p99 latency through the gateway per concurrency level, with the ratio to
    the in-process call (`rps_ratio` = gateway rps / in-process rps; `p50_ratio` likewise)."""
    template = parse_template(template_path)
    spec = template.functions[function_id]
    pool = FunctionPool(spec, region=template.region, max_workers=max_workers)
    try:
        pool.warm(max_workers)
        # Only `path` is requested, so every routed function may share the one warm pool.
        # The access log is written, as in `make up`, but to /dev/null rather than the terminal.
        with open(os.devnull, "w") as devnull:
            gateway = HttpApiGateway(template, dict.fromkeys(template.functions, pool), access_log=AccessLog(devnull))
            measured = event_loop.run(_bench_gateway(gateway, pool, path, concurrency_levels, duration_s))
    finally:
        pool.close()
    baseline = _in_process_baseline(spec, path, duration_s)
    return [_row(concurrency, http, sandbox, baseline) for concurrency, http, sandbox in measured]


def _row(concurrency: int, http: Measurement, sandbox: Measurement, baseline: Measurement) -> dict[str, Any]:
    return {
        "concurrency": concurrency,
        "requests": http.requests,
        "rps": round(http.rps, 1),
        "p50_ms": round(http.p50_ms, 3),
        "p99_ms": round(http.p99_ms, 3),
        "sandbox_rps": round(sandbox.rps, 1),
        "sandbox_p50_ms": round(sandbox.p50_ms, 3),
        "sandbox_p99_ms": round(sandbox.p99_ms, 3),
        "baseline_rps": round(baseline.rps, 1),
        "baseline_p50_ms": round(baseline.p50_ms, 5),
        "baseline_p99_ms": round(baseline.p99_ms, 5),
        "rps_ratio": round(http.rps / baseline.rps, 6) if baseline.rps else None,
        "p50_ratio": round(http.p50_ms / baseline.p50_ms, 1) if baseline.p50_ms else None,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--duration", type=float, default=3.0, help="seconds per measurement")
    parser.add_argument("--levels", default="1,16,64", help="comma-separated client counts")
    parser.add_argument("--max-workers", type=int, default=4, help="sandboxes in the function's pool")
    args = parser.parse_args()
    levels = tuple(int(level) for level in args.levels.split(","))
    rows = run_http_bench(levels, args.duration, max_workers=args.max_workers)
    columns = list(rows[0])
    print(" ".join(f"{c:>15}" for c in columns))
    for row in rows:
        print(" ".join(f"{row[c]!s:>15}" for c in columns))


if __name__ == "__main__":
    main()

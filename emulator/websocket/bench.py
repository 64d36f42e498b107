"""Benchmark of the local WebSocket gateway: connect rate, and `post_to_connection` delivery latency.

    python -m emulator.websocket.bench [--connections 500] [--messages 300] [--budget 180]

The gateway runs in a child process (its RSS is measured alone) with a small generated app: a `$connect`
function that accepts, and a two-way `$default` that tells a client its connectionId. This process opens
the connections with aiohttp and times, per message, from the start of a management API call to the
moment the client holds the frame: once through boto3 (`apigatewaymanagementapi`, SigV4 signing and
all), once through a plain aiohttp POST. Every phase is bounded by the time budget.
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import json
import os
import resource
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import boto3
from aiohttp import web
from botocore.config import Config

from emulator import event_loop
from emulator.lifetime import die_with_parent
from emulator.sandbox import FunctionPool
from emulator.template import parse_template
from emulator.websocket.gateway import WebSocketGateway

STAGE = "bench"
_REPO_ROOT = Path(__file__).resolve().parents[2]
_PER_OPERATION_TIMEOUT_S = 15.0
_CONNECT_CONCURRENCY = 50
_BROADCAST_CONCURRENCY = 32

_HANDLERS = '''\
import json


def on_connect(event, context):
    return {"statusCode": 200}


def on_default(event, context):
    return {"statusCode": 200, "body": json.dumps({"connectionId": event["requestContext"]["connectionId"]})}
'''

_TEMPLATE = r'''
Transform: AWS::Serverless-2016-10-31
Globals:
  Function:
    Runtime: python3.11
    CodeUri: .
    Timeout: 10
Resources:
  BenchApi:
    Type: AWS::ApiGatewayV2::Api
    Properties:
      Name: bench
      ProtocolType: WEBSOCKET
      RouteSelectionExpression: $request.body.action
  ConnectFunction:
    Type: AWS::Serverless::Function
    Properties:
      Handler: ws_bench_handlers.on_connect
  DefaultFunction:
    Type: AWS::Serverless::Function
    Properties:
      Handler: ws_bench_handlers.on_default
  ConnectIntegration:
    Type: AWS::ApiGatewayV2::Integration
    Properties:
      ApiId: !Ref BenchApi
      IntegrationType: AWS_PROXY
      IntegrationUri: !Sub "arn:aws:apigateway:${AWS::Region}:lambda:path/2015-03-31/functions/\
        ${ConnectFunction.Arn}/invocations"
  DefaultIntegration:
    Type: AWS::ApiGatewayV2::Integration
    Properties:
      ApiId: !Ref BenchApi
      IntegrationType: AWS_PROXY
      IntegrationUri: !Sub "arn:aws:apigateway:${AWS::Region}:lambda:path/2015-03-31/functions/\
        ${DefaultFunction.Arn}/invocations"
  ConnectRoute:
    Type: AWS::ApiGatewayV2::Route
    Properties:
      ApiId: !Ref BenchApi
      RouteKey: $connect
      Target: !Sub integrations/${ConnectIntegration}
  DefaultRoute:
    Type: AWS::ApiGatewayV2::Route
    Properties:
      ApiId: !Ref BenchApi
      RouteKey: $default
      RouteResponseSelectionExpression: $default
      Target: !Sub integrations/${DefaultIntegration}
  Stage:
    Type: AWS::ApiGatewayV2::Stage
    Properties:
      ApiId: !Ref BenchApi
      StageName: bench
'''


class BudgetExceeded(Exception):
    """The time budget ran out: the phases measured so far are reported."""


@dataclass
class _Client:
    ws: aiohttp.ClientWebSocketResponse
    connection_id: str = ""


@dataclass
class _Deliveries:
    """Futures for frames the clients expect, keyed by the frame's text; resolved with arrival time."""

    pending: dict[str, asyncio.Future[float]] = field(default_factory=dict)

    def expect(self, text: str) -> asyncio.Future[float]:
        future: asyncio.Future[float] = asyncio.get_running_loop().create_future()
        self.pending[text] = future
        return future

    async def read(self, client: _Client) -> None:
        async for message in client.ws:
            future = self.pending.pop(str(message.data), None)
            if future is not None and not future.done():
                future.set_result(time.perf_counter())


def run_ws_bench(connections: int = 500, messages: int = 300, *, time_budget_s: float = 180.0) -> dict[str, Any]:
    """Start the gateway in a child process, open `connections` clients, time `messages` posts each way."""
    deadline = time.monotonic() + time_budget_s
    fd_limit = _raise_fd_limit(2 * connections + 512)
    with tempfile.TemporaryDirectory(prefix="ws-bench-") as directory:
        template = _write_app(Path(directory))
        port = _free_port()
        server = _start_gateway(template, port)
        try:
            _wait_until_listening(port, server, deadline)
            results = event_loop.run(_measure(port, server.pid, connections, messages, deadline))
        finally:
            _stop(server)
    results["fd_limit"] = fd_limit
    return results


# -- measurement ---------------------------------------------------------------------------------------


async def _measure(port: int, server_pid: int, connections: int, messages: int,
                   deadline: float) -> dict[str, Any]:
    results: dict[str, Any] = {"connections_requested": connections, "gateway_rss_mb": {}}
    results["gateway_rss_mb"]["idle"] = _rss_mb(server_pid)
    timeout = aiohttp.ClientTimeout(total=_PER_OPERATION_TIMEOUT_S)
    # No connector limit: every open WebSocket holds one of the connector's connections.
    async with aiohttp.ClientSession(timeout=timeout, connector=aiohttp.TCPConnector(limit=0)) as session:
        clients: list[_Client] = []
        deliveries = _Deliveries()
        readers: list[asyncio.Task[None]] = []
        try:
            results["connect"] = await _open_all(session, port, connections, clients, deadline)
            results["lambda_round_trip"] = await _identify_all(clients, deadline)
            results["gateway_rss_mb"]["with_connections"] = _rss_mb(server_pid)
            readers = [asyncio.create_task(deliveries.read(client)) for client in clients]
            base_url = f"http://127.0.0.1:{port}/{STAGE}"
            results["post_boto3"] = await _time_posts(_boto3_poster(base_url), clients, deliveries,
                                                      messages, deadline)
            results["post_aiohttp"] = await _time_posts(_aiohttp_poster(session, base_url), clients, deliveries,
                                                        messages, deadline)
            results["broadcast_aiohttp"] = await _broadcast(session, base_url, clients, deliveries, deadline)
        except BudgetExceeded as exc:
            results["truncated"] = str(exc)
        finally:
            await asyncio.gather(*(client.ws.close() for client in clients), return_exceptions=True)
            for reader in readers:
                reader.cancel()
    return results


async def _open_all(session: aiohttp.ClientSession, port: int, count: int, clients: list[_Client],
                    deadline: float) -> dict[str, Any]:
    """Open `count` connections, at most `_CONNECT_CONCURRENCY` handshakes in flight."""
    gate = asyncio.Semaphore(_CONNECT_CONCURRENCY)
    latencies: list[float] = []

    async def open_one() -> None:
        async with gate:
            _check(deadline, "connecting")
            started = time.perf_counter()
            ws = await session.ws_connect(f"ws://127.0.0.1:{port}/{STAGE}", autoping=True, heartbeat=None)
            latencies.append(time.perf_counter() - started)
            clients.append(_Client(ws))

    started = time.perf_counter()
    await asyncio.gather(*(open_one() for _ in range(count)))
    elapsed = time.perf_counter() - started
    return {"opened": len(clients), "seconds": round(elapsed, 3), "per_second": round(len(clients) / elapsed, 1),
            **_latency_summary(latencies)}


async def _identify_all(clients: list[_Client], deadline: float) -> dict[str, Any]:
    """Ask each client's connectionId through the two-way `$default` route (a Lambda round trip)."""
    latencies: list[float] = []
    for client in clients:
        _check(deadline, "identifying connections")
        started = time.perf_counter()
        await client.ws.send_str("whoami")
        reply = await client.ws.receive(timeout=_PER_OPERATION_TIMEOUT_S)
        latencies.append(time.perf_counter() - started)
        client.connection_id = json.loads(reply.data)["connectionId"]
    return _latency_summary(latencies)


Poster = Callable[[str, bytes], Awaitable[None]]


def _boto3_poster(base_url: str) -> Poster:
    management = boto3.client(
        "apigatewaymanagementapi", endpoint_url=base_url, region_name="us-east-1",
        aws_access_key_id="bench", aws_secret_access_key="bench",
        config=Config(retries={"max_attempts": 1}, max_pool_connections=4),
    )

    async def post(connection_id: str, data: bytes) -> None:
        call = functools.partial(management.post_to_connection, ConnectionId=connection_id, Data=data)
        await asyncio.get_running_loop().run_in_executor(None, call)

    return post


def _aiohttp_poster(session: aiohttp.ClientSession, base_url: str) -> Poster:
    async def post(connection_id: str, data: bytes) -> None:
        async with session.post(f"{base_url}/@connections/{connection_id}", data=data) as response:
            response.raise_for_status()

    return post


async def _time_posts(post: Poster, clients: list[_Client], deliveries: _Deliveries, messages: int,
                      deadline: float) -> dict[str, Any]:
    """One post at a time: call duration, and post start -> frame in the client's hands."""
    for warmup in range(5):  # connection pools, endpoint resolution and the like are not the steady state
        await _post_and_wait(post, clients[warmup % len(clients)], deliveries, f"warmup-{id(post)}-{warmup}")
    calls: list[float] = []
    delivered: list[float] = []
    for index in range(messages):
        _check(deadline, "timing posts")
        call_s, delivery_s = await _post_and_wait(post, clients[index % len(clients)], deliveries,
                                                  f"m-{id(post)}-{index}")
        calls.append(call_s)
        delivered.append(delivery_s)
    return {"delivery": _latency_summary(delivered), "call": _latency_summary(calls)}


async def _post_and_wait(post: Poster, client: _Client, deliveries: _Deliveries, text: str) -> tuple[float, float]:
    arrival = deliveries.expect(text)
    started = time.perf_counter()
    await post(client.connection_id, text.encode())
    call_s = time.perf_counter() - started
    arrived_at = await asyncio.wait_for(arrival, _PER_OPERATION_TIMEOUT_S)
    return call_s, arrived_at - started


async def _broadcast(session: aiohttp.ClientSession, base_url: str, clients: list[_Client],
                     deliveries: _Deliveries, deadline: float) -> dict[str, Any]:
    """One message to every connection (a fan-out), `_BROADCAST_CONCURRENCY` POSTs in flight."""
    _check(deadline, "broadcasting")
    post = _aiohttp_poster(session, base_url)
    gate = asyncio.Semaphore(_BROADCAST_CONCURRENCY)
    arrivals = [deliveries.expect(f"broadcast-{index}") for index in range(len(clients))]

    async def send(index: int, client: _Client) -> None:
        async with gate:
            await post(client.connection_id, f"broadcast-{index}".encode())

    started = time.perf_counter()
    await asyncio.gather(*(send(index, client) for index, client in enumerate(clients)))
    await asyncio.wait_for(asyncio.gather(*arrivals), _PER_OPERATION_TIMEOUT_S)
    elapsed = time.perf_counter() - started
    return {"messages": len(clients), "seconds": round(elapsed, 3),
            "per_second": round(len(clients) / elapsed, 1)}


def _latency_summary(samples_s: list[float]) -> dict[str, Any]:
    if not samples_s:
        return {"n": 0}
    ordered = sorted(samples_s)
    return {
        "n": len(ordered),
        "p50_ms": round(statistics.median(ordered) * 1000, 3),
        "p99_ms": round(ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))] * 1000, 3),
        "max_ms": round(ordered[-1] * 1000, 3),
    }


def _check(deadline: float, phase: str) -> None:
    if time.monotonic() > deadline:
        raise BudgetExceeded(f"time budget exhausted while {phase}")


# -- the gateway process -------------------------------------------------------------------------------


def _write_app(directory: Path) -> Path:
    (directory / "ws_bench_handlers.py").write_text(_HANDLERS)
    template = directory / "template.yaml"
    template.write_text(_TEMPLATE)
    return template


def _start_gateway(template: Path, port: int) -> subprocess.Popen[bytes]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(_REPO_ROOT), env.get("PYTHONPATH")]))
    command = [sys.executable, "-m", "emulator.websocket.bench", "--serve", str(template), str(port)]
    # The gateway logs a JSON line per event; that cost is part of what is measured, the lines are not.
    return subprocess.Popen(command, cwd=_REPO_ROOT, env=env, stdout=subprocess.DEVNULL,
                            preexec_fn=die_with_parent(signal.SIGKILL, os.getpid()))


def _wait_until_listening(port: int, server: subprocess.Popen[bytes], deadline: float) -> None:
    while True:
        if server.poll() is not None:
            raise RuntimeError(f"the gateway process exited with {server.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            _check(deadline, "starting the gateway")
            time.sleep(0.1)


def _stop(server: subprocess.Popen[bytes]) -> None:
    if server.poll() is None:
        server.send_signal(signal.SIGINT)  # aiohttp's run_app shuts down cleanly, closing the sandboxes
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


def _serve(template_path: Path, port: int) -> None:
    """Child process: the gateway for the bench app on 127.0.0.1:port, until SIGINT/SIGTERM."""
    _raise_fd_limit(4096)
    template = parse_template(template_path)
    pools = {logical_id: FunctionPool(spec, region=template.region, max_workers=2)
             for logical_id, spec in template.functions.items()}
    for pool in pools.values():
        pool.warm(2)
    app = WebSocketGateway(template, pools, public_host=f"127.0.0.1:{port}").build_app()

    async def close_pools(_app: web.Application) -> None:
        for pool in pools.values():
            pool.close()

    app.on_cleanup.append(close_pools)
    web.run_app(app, host="127.0.0.1", port=port, print=None, access_log=None)


# -- host facts ----------------------------------------------------------------------------------------


def _raise_fd_limit(wanted: int) -> int:
    """Lift the soft open-files limit toward `wanted` (bounded by the hard limit); returns the new one."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
    if soft != resource.RLIM_INFINITY and soft < target:
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
        return target
    return soft


def _rss_mb(pid: int) -> float | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return round(int(line.split()[1]) / 1024, 1)
    except OSError:
        return None
    return None


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--connections", type=int, default=500)
    parser.add_argument("--messages", type=int, default=300)
    parser.add_argument("--budget", type=float, default=180.0, help="seconds for the whole run")
    parser.add_argument("--serve", nargs=2, metavar=("TEMPLATE", "PORT"), help=argparse.SUPPRESS)
    arguments = parser.parse_args()
    if arguments.serve:
        _serve(Path(arguments.serve[0]), int(arguments.serve[1]))
        return
    report = run_ws_bench(arguments.connections, arguments.messages, time_budget_s=arguments.budget)
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()

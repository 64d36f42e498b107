"""The local WebSocket gateway of a template served on a free port from a background event loop, and
`websockets` clients of it. The socket is bound before the functions start, so they can be given its
local endpoint exactly as the runtime gives it (`local_endpoint_rewrites` + `rewrite_environment`)."""

from __future__ import annotations

import asyncio
import json
import socket
import threading
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
from aiohttp import web
from botocore.config import Config
from websockets.sync.client import ClientConnection, connect

from emulator.sandbox import FunctionPool
from emulator.template import Template
from emulator.websocket.gateway import WebSocketGateway
from tests.support.repo import APPS
from tests.support.waiting import wait_for as wait_until

STAGE = "prod"
WAIT_S = 30.0  # generous: sandboxes start cold on a busy 2-core machine
LOCAL_CREDENTIALS = {"AWS_ACCESS_KEY_ID": "local", "AWS_SECRET_ACCESS_KEY": "local"}
WS_APP_TEMPLATE = APPS / "ws_app" / "template.yaml"
WS_APP_CODE = WS_APP_TEMPLATE.parent / "src"


@dataclass
class Served:
    gateway: WebSocketGateway
    host: str
    records: Path

    def url(self, path: str = f"/{STAGE}", token: str | None = "good") -> str:
        query = "" if token is None else f"?token={token}"
        return f"ws://{self.host}{path}{query}"

    def management(self, path: str = f"/{STAGE}") -> Any:
        return boto3.client(
            "apigatewaymanagementapi", endpoint_url=f"http://{self.host}{path}", region_name="us-east-1",
            aws_access_key_id="local", aws_secret_access_key="local",
            config=Config(retries={"max_attempts": 1}, connect_timeout=5, read_timeout=WAIT_S),
        )


def listening_socket() -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    sock.listen(128)
    return sock


@contextmanager
def serving(gateway: WebSocketGateway, sock: socket.socket) -> Iterator[None]:
    """Run the gateway's app on `sock` from an event loop in a background thread."""
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, name="ws-gateway-loop", daemon=True)
    thread.start()
    runner = web.AppRunner(gateway.build_app(), shutdown_timeout=10)

    def run(coroutine: Any) -> Any:
        return asyncio.run_coroutine_threadsafe(coroutine, loop).result(WAIT_S * 2)

    try:
        run(runner.setup())
        run(web.SockSite(runner, sock).start())
        yield
    finally:
        run(runner.cleanup())
        loop.call_soon_threadsafe(loop.stop)
        thread.join(WAIT_S)
        loop.close()


@contextmanager
def serve_gateway(template: Template, pools: Mapping[str, FunctionPool], records: Path, *,
             sock: socket.socket | None = None, **options: Any) -> Iterator[Served]:
    sock = sock or listening_socket()
    host = f"127.0.0.1:{sock.getsockname()[1]}"
    gateway = WebSocketGateway(template, pools, public_host=host, **options)
    with serving(gateway, sock):
        yield Served(gateway, host, records)


# template.yaml's WebSocket route functions (the gateway refuses to start without one for every route).
TEMPLATE_WS_FUNCTIONS = ("WebSocketConnectFunction", "WebSocketDisconnectFunction", "WebSocketPingFunction",
                         "WebSocketWatchFunction")


@contextmanager
def template_websocket_api(records: Path, **environment: str) -> Iterator[Served]:
    """template.yaml's WebSocket API on a free port, its route functions in sandboxes using test Redis
    (and `environment`), their management endpoint rewritten to this gateway."""
    from emulator.template import parse_template
    from emulator.websocket.spec import local_endpoint_rewrites, rewrite_environment
    from tests.support.repo import REPO
    from tests.support.services import REDIS_TEST_URL

    template = parse_template(REPO / "template.yaml")
    sock = listening_socket()
    rewrites = local_endpoint_rewrites(template, f"http://127.0.0.1:{sock.getsockname()[1]}")
    pools = {}
    try:
        for logical_id in TEMPLATE_WS_FUNCTIONS:
            spec = template.functions[logical_id]
            pools[logical_id] = FunctionPool(spec, region=template.region, max_workers=2, extra_env={
                **LOCAL_CREDENTIALS, "REDIS_URL": REDIS_TEST_URL, **environment,
                **rewrite_environment(spec.environment, rewrites)})
        with serve_gateway(template, pools, records, sock=sock) as served:
            yield served
    finally:
        for pool in pools.values():
            pool.close()


def wait_for(condition: Callable[[], Any], what: str, timeout: float = WAIT_S) -> Any:
    """Poll until `condition()` is truthy and return it; fail naming `what` at the deadline."""
    return wait_until(condition, timeout=timeout, message=what)


def open_client(server: Served, **options: Any) -> ClientConnection:
    url = options.pop("url", None) or server.url()
    return connect(url, proxy=None, open_timeout=WAIT_S, **options)


def recv_json(client: ClientConnection) -> dict[str, Any]:
    return json.loads(client.recv(timeout=WAIT_S))


def invocation_uri(function_arn: str) -> str:
    """A Lambda proxy integration's IntegrationUri, as templates write it with !Sub."""
    return f"arn:aws:apigateway:${{AWS::Region}}:lambda:path/2015-03-31/functions/{function_arn}/invocations"


def write_ws_template(directory: Path, resources: str, api_extra: str = "") -> Path:
    """A template with one WebSocket API and one function (the ws_app's default handler); `resources`
    adds routes and whatever else a test needs."""
    path = directory / "template.yaml"
    path.write_text(f"""\
Transform: AWS::Serverless-2016-10-31
Resources:
  Api:
    Type: AWS::ApiGatewayV2::Api
    Properties:
      ProtocolType: WEBSOCKET
      RouteSelectionExpression: "$request.body.action"{api_extra}
  Handler:
    Type: AWS::Serverless::Function
    Properties:
      Runtime: python3.11
      CodeUri: {WS_APP_CODE}
      Handler: ws_app_handlers.on_default
  HandlerIntegration:
    Type: AWS::ApiGatewayV2::Integration
    Properties:
      ApiId: !Ref Api
      IntegrationType: AWS_PROXY
      IntegrationUri: !Sub {invocation_uri('${Handler.Arn}')}
{resources}""")
    return path

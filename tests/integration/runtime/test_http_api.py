"""The local API Gateway (emulator/http) against real sandboxes, over real HTTP.

The gateway runs in a background thread with its own event loop, exactly as the runtime serves it
(AppRunner + TCPSite); each test talks to it with an aiohttp client.
"""

from __future__ import annotations

import asyncio
import base64
import io
import json
import logging
import os
import re
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aws_lambda_powertools.utilities.parser.models import APIGatewayProxyEventModel, APIGatewayProxyEventV2Model
from multidict import CIMultiDictProxy
from yarl import URL

from emulator.http.access_log import AccessLog
from emulator.http.gateway import HttpApiGateway
from emulator.http.routes import build_route_table
from emulator.sandbox import FunctionPool
from emulator.template import Template, TemplateError, parse_template
from tests.support.repo import APPS
from tests.support.served import ServedApp
from tests.support.waiting import wait_for

APP_DIR = APPS / "http_app"
STATIC_DIR = APP_DIR / "static"
ALLOWED_ORIGIN = "http://localhost:5173"
TEN_MB = 10 * 1024 * 1024


@dataclass(frozen=True)
class Reply:
    status: int
    headers: CIMultiDictProxy[str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)

    @property
    def event(self) -> dict[str, Any]:
        """The event the echo function received."""
        return self.json()["event"]


class ServedGateway(ServedApp):
    """The test app's gateway, with request helpers."""

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def request(self, method: str, path: str | URL, **kwargs: Any) -> Reply:
        return asyncio.run(self.fetch(method, path, **kwargs))

    async def fetch(self, method: str, path: str | URL, **kwargs: Any) -> Reply:
        url = path if isinstance(path, URL) else self.base_url + path
        async with aiohttp.ClientSession() as session, session.request(method, url, **kwargs) as response:
            return Reply(response.status, response.headers, await response.read())


def start_pools(template: Template) -> dict[str, FunctionPool]:
    pools = {fid: FunctionPool(spec, region=template.region, max_workers=4) for fid, spec in template.functions.items()}
    with ThreadPoolExecutor(max_workers=len(pools)) as warmers:
        list(warmers.map(lambda pool: pool.warm(1), pools.values()))
    return pools


@pytest.fixture(scope="module")
def template() -> Template:
    return parse_template(APP_DIR / "template.yaml")


@pytest.fixture(scope="module")
def api(template: Template) -> Iterator[ServedGateway]:
    pools = start_pools(template)
    served = ServedGateway(HttpApiGateway(template, pools, static_dir=STATIC_DIR))
    served.start()
    yield served
    served.stop()
    for pool in pools.values():
        pool.close()


def wait_until(condition: Callable[[], bool], timeout: float, what: str) -> None:
    wait_for(condition, timeout=timeout, message=what, interval=0.01)


# ----------------------------------------------------------------------------------------------------
# Events: HTTP API payload 2.0


def test_v2_event_carries_path_query_headers_and_body(api: ServedGateway) -> None:
    reply = api.request("POST", "/items?tag=a&tag=b&q=hello%20world&empty=", json={"caption": "sunset"},
                        headers=[("X-Multi", "one"), ("X-Multi", "two"), ("User-Agent", "kafkagram-test")])
    assert reply.status == 200
    event = reply.event
    assert event["version"] == "2.0"
    assert event["routeKey"] == "POST /items"
    assert event["rawPath"] == "/items"
    assert event["rawQueryString"] == "tag=a&tag=b&q=hello%20world&empty="
    assert event["queryStringParameters"] == {"tag": "a,b", "q": "hello world", "empty": ""}
    assert event["headers"]["x-multi"] == "one,two"
    assert event["headers"]["content-type"] == "application/json"
    assert event["headers"]["x-forwarded-for"] == "127.0.0.1"
    assert all(name == name.lower() for name in event["headers"])
    assert json.loads(event["body"]) == {"caption": "sunset"}
    assert event["isBase64Encoded"] is False
    context = event["requestContext"]
    assert context["http"] == {"method": "POST", "path": "/items", "protocol": "HTTP/1.1",
                               "sourceIp": "127.0.0.1", "userAgent": "kafkagram-test"}
    assert context["routeKey"] == "POST /items"
    assert context["stage"] == "$default"
    assert context["accountId"] == "000000000000"
    assert context["requestId"] == reply.headers["apigw-requestid"]
    assert event["stageVariables"] == {"flavour": "local"}  # from Globals.HttpApi
    assert "pathParameters" not in event and "cookies" not in event


def test_v2_event_parses_with_powertools_model(api: ServedGateway) -> None:
    reply = api.request("GET", "/items/42?size=small", headers={"Cookie": "a=1"})
    model = APIGatewayProxyEventV2Model.model_validate(reply.event)
    assert model.pathParameters == {"id": "42"}
    assert model.routeKey == "GET /items/{id}"
    assert model.requestContext.http.method == "GET"


def test_most_specific_route_wins(api: ServedGateway) -> None:
    assert api.request("GET", "/items/special").event["routeKey"] == "GET /items/special"
    assert api.request("GET", "/items/7").event["routeKey"] == "GET /items/{id}"
    greedy = api.request("DELETE", "/files/albums/2024/beach%20day.jpg").event
    assert greedy["routeKey"] == "ANY /files/{proxy+}"
    assert greedy["pathParameters"] == {"proxy": "albums/2024/beach day.jpg"}
    assert greedy["rawPath"] == "/files/albums/2024/beach%20day.jpg"


def test_cookies_go_to_the_cookies_field_and_come_back_as_set_cookie(api: ServedGateway) -> None:
    event = api.request("GET", "/items/1", headers={"Cookie": "session=abc; theme=dark"}).event
    assert event["cookies"] == ["session=abc", "theme=dark"]
    assert "cookie" not in event["headers"]
    reply = api.request("GET", "/responses/cookies")
    assert reply.status == 201
    assert reply.headers.getall("Set-Cookie") == ["session=abc; Path=/; HttpOnly", "theme=dark"]
    assert reply.body == b"cookies set"


def test_v2_infers_a_200_json_response_from_a_plain_return_value(api: ServedGateway) -> None:
    reply = api.request("GET", "/responses/inferred-dict")
    assert (reply.status, reply.headers["Content-Type"]) == (200, "application/json")
    assert reply.json() == {"hello": "world", "count": 2}
    assert api.request("GET", "/responses/inferred-string").body == b"plain words"


# ----------------------------------------------------------------------------------------------------
# Events: payload 1.0 (HTTP API route with PayloadFormatVersion 1.0, and REST)


def test_v1_event_on_an_http_api_route(api: ServedGateway) -> None:
    reply = api.request("PUT", "/v1/echo/alice?x=1&x=2", data="caption text",
                        headers=[("X-Multi", "one"), ("X-Multi", "two"), ("Content-Type", "text/plain")])
    event = reply.event
    APIGatewayProxyEventModel.model_validate(event)
    assert event["version"] == "1.0"
    assert event["resource"] == "/v1/echo/{name}"
    assert (event["path"], event["httpMethod"]) == ("/v1/echo/alice", "PUT")
    assert event["pathParameters"] == {"name": "alice"}
    assert event["queryStringParameters"] == {"x": "2"}
    assert event["multiValueQueryStringParameters"] == {"x": ["1", "2"]}
    assert event["headers"]["X-Multi"] == "two"
    assert event["multiValueHeaders"]["X-Multi"] == ["one", "two"]
    assert (event["body"], event["isBase64Encoded"]) == ("caption text", False)


def test_rest_event_carries_the_stage_and_parses_with_powertools_model(api: ServedGateway) -> None:
    reply = api.request("POST", "/rest/echo/bob?filter=recent", json={"n": 1})
    assert "x-amzn-RequestId" in reply.headers
    event = reply.event
    model = APIGatewayProxyEventModel.model_validate(event)
    assert "version" not in event
    assert model.resource == "/rest/echo/{name}"
    assert model.path == "/rest/echo/bob"
    assert model.requestContext.stage == "test"
    assert model.requestContext.path == "/test/rest/echo/bob"
    assert model.requestContext.resourcePath == "/rest/echo/{name}"
    assert model.queryStringParameters == {"filter": "recent"}
    assert event["multiValueHeaders"]["Content-Type"] == ["application/json"]
    assert json.loads(event["body"]) == {"n": 1}
    assert event["requestContext"]["requestId"] == reply.headers["x-amzn-RequestId"]


def test_v1_response_merges_headers_and_multi_value_headers(api: ServedGateway) -> None:
    reply = api.request("GET", "/rest/responses/multi")
    assert reply.status == 200
    assert reply.headers["x-single"] == "a"
    assert reply.headers.getall("x-both") == ["m1", "m2"]  # multiValueHeaders wins over headers
    assert reply.headers.getall("Set-Cookie") == ["c=1", "d=2"]


# ----------------------------------------------------------------------------------------------------
# Binary bodies


def test_binary_body_round_trip_on_http_api(api: ServedGateway) -> None:
    payload = bytes(range(256)) * 64
    reply = api.request("POST", "/binary", data=payload, headers={"Content-Type": "image/png"})
    assert reply.status == 200
    assert reply.headers["x-request-was-base64"] == "true"
    assert reply.body == payload[::-1]


def test_text_bodies_are_text_and_form_bodies_base64_on_http_api(api: ServedGateway) -> None:
    text = api.request("POST", "/binary", data="héllo", headers={"Content-Type": "text/plain; charset=utf-8"})
    assert text.headers["x-request-was-base64"] == "false"
    assert text.body == "héllo".encode()[::-1]
    form = api.request("POST", "/binary", data={"a": "1"})
    assert form.headers["x-request-was-base64"] == "true"
    assert form.body == b"a=1"[::-1]


def test_binary_round_trip_on_rest_with_binary_media_types(api: ServedGateway) -> None:
    payload = os.urandom(4096)
    reply = api.request("POST", "/rest/binary", data=payload,
                        headers={"Content-Type": "application/octet-stream", "Accept": "application/octet-stream"})
    assert reply.status == 200
    assert reply.headers["x-request-was-base64"] == "true"
    assert reply.body == payload[::-1]


def test_rest_decodes_base64_only_for_binary_media_types(api: ServedGateway) -> None:
    text = api.request("POST", "/rest/binary", data="abc", headers={"Content-Type": "text/plain"})
    assert text.headers["x-request-was-base64"] == "false"  # text/plain is not a binaryMediaType
    assert text.body == b"cba"  # the response's application/octet-stream is one: decoded
    # image/png is not among the API's binaryMediaTypes, so the client gets the base64 text, as on AWS.
    png = api.request("GET", "/rest/responses/base64-png", headers={"Accept": "text/html"})
    assert base64.b64decode(png.body) == b"\x89PNG bytes"
    assert api.request("GET", "/responses/base64-png").body == b"\x89PNG bytes"  # HTTP APIs always decode


# ----------------------------------------------------------------------------------------------------
# CORS


def test_http_api_answers_preflight_itself(api: ServedGateway) -> None:
    reply = api.request("OPTIONS", "/items/1", headers={
        "Origin": ALLOWED_ORIGIN, "Access-Control-Request-Method": "DELETE",
        "Access-Control-Request-Headers": "content-type"})
    assert reply.status == 204
    assert reply.headers["Access-Control-Allow-Origin"] == ALLOWED_ORIGIN
    assert reply.headers["Access-Control-Allow-Methods"] == "GET,POST,PUT,DELETE"
    assert reply.headers["Access-Control-Allow-Headers"] == "content-type,authorization"
    assert reply.headers["Access-Control-Max-Age"] == "600"
    assert reply.headers["Access-Control-Allow-Credentials"] == "true"
    refused = api.request("OPTIONS", "/items/1", headers={
        "Origin": "https://elsewhere.example", "Access-Control-Request-Method": "GET"})
    assert refused.status == 204
    assert "Access-Control-Allow-Origin" not in refused.headers


def test_http_api_adds_cors_headers_and_drops_the_function_ones(api: ServedGateway) -> None:
    reply = api.request("GET", "/responses/cors-override", headers={"Origin": ALLOWED_ORIGIN})
    assert reply.headers.getall("Access-Control-Allow-Origin") == [ALLOWED_ORIGIN]
    assert reply.headers["Access-Control-Expose-Headers"] == "x-echo"
    assert reply.headers["Access-Control-Allow-Credentials"] == "true"
    no_origin = api.request("GET", "/items/1")
    assert "Access-Control-Allow-Origin" not in no_origin.headers


def test_rest_cors_is_a_mock_options_method(api: ServedGateway) -> None:
    reply = api.request("OPTIONS", "/rest/binary", headers={"Origin": ALLOWED_ORIGIN,
                                                            "Access-Control-Request-Method": "POST"})
    assert reply.status == 200
    assert reply.headers["Access-Control-Allow-Origin"] == ALLOWED_ORIGIN
    assert reply.headers["Access-Control-Allow-Methods"] == "OPTIONS,POST"
    assert reply.headers["Access-Control-Allow-Headers"] == "content-type"
    assert reply.headers["Access-Control-Max-Age"] == "300"


# ----------------------------------------------------------------------------------------------------
# Gateway errors


def test_unknown_route_is_404(api: ServedGateway) -> None:
    reply = api.request("POST", "/no/such/route")
    assert reply.status == 404
    assert reply.json() == {"message": "Not Found"}


def test_known_path_with_another_method_is_405_with_allow(api: ServedGateway) -> None:
    reply = api.request("DELETE", "/items/3")
    assert reply.status == 405
    assert reply.headers["Allow"] == "GET"
    assert reply.json() == {"message": "Method Not Allowed"}


def test_body_over_ten_megabytes_is_413(api: ServedGateway) -> None:
    reply = api.request("POST", "/items", data=b"x" * (TEN_MB + 1), headers={"Content-Type": "text/plain"})
    assert reply.status == 413
    assert reply.json() == {"message": "Request Entity Too Large"}


def test_chunked_body_over_ten_megabytes_is_413(api: ServedGateway) -> None:
    async def chunks() -> Any:
        for _ in range(11):
            yield b"y" * (1024 * 1024)

    reply = api.request("POST", "/items", data=chunks(), headers={"Content-Type": "text/plain"})
    assert reply.status == 413
    assert reply.json() == {"message": "Request Entity Too Large"}


def test_bad_percent_encoding_is_a_json_400(api: ServedGateway) -> None:
    for target in ("/items/%zz", "/items/%ff%fe", "/items/1?q=%g1"):
        reply = api.request("GET", URL(api.base_url + target, encoded=True))
        assert reply.status == 400, target
        assert reply.json()["message"].startswith("Bad Request")


def test_encoded_control_characters_in_the_path_reach_the_function(api: ServedGateway) -> None:
    # A decoded newline must not slip past the gateway's catch-all route as aiohttp's text 404.
    for target, expected in (("/files/a%0Ab", "/files/a\nb"), ("/files/%0D%0A", "/files/\r\n")):
        reply = api.request("GET", URL(api.base_url + target, encoded=True))
        assert reply.status == 200, target
        assert reply.headers["Content-Type"].startswith("application/json")
        assert reply.event["pathParameters"] == {"proxy": expected.removeprefix("/files/")}


def test_writes_are_refused_with_503_while_the_runtime_drains(api: ServedGateway) -> None:
    gateway = api._gateway
    gateway.refuse_writes("stopping: no writes until it starts again")
    try:
        refused = api.request("POST", "/items", json={"caption": "late"})
        read = api.request("GET", "/items/3")
        preflight = api.request("OPTIONS", "/items", headers={"Origin": ALLOWED_ORIGIN,
                                                             "Access-Control-Request-Method": "POST"})
    finally:
        gateway.refuse_writes(None)
    assert refused.status == 503 and refused.headers["Retry-After"] == "30"
    assert refused.json() == {"message": "stopping: no writes until it starts again"}
    assert read.status == 200 and preflight.status == 204
    assert api.request("POST", "/items", json={"caption": "again"}).status == 200


def test_invalid_content_length_is_a_400_without_traceback(api: ServedGateway) -> None:
    async def send_raw() -> bytes:
        reader, writer = await asyncio.open_connection("127.0.0.1", api.port)
        writer.write(b"POST /items HTTP/1.1\r\nHost: x\r\nContent-Length: ten\r\n\r\n")
        await writer.drain()
        answer = await asyncio.wait_for(reader.read(), timeout=10)
        writer.close()
        return answer

    answer = asyncio.run(send_raw())
    assert answer.startswith(b"HTTP/1.") and b" 400 " in answer.split(b"\r\n", 1)[0]
    assert b"Traceback" not in answer
    assert api.request("GET", "/hello").status == 200


# ----------------------------------------------------------------------------------------------------
# Function failures, timeouts, concurrency


def test_invalid_function_responses_are_502(api: ServedGateway) -> None:
    assert api.request("GET", "/responses/invalid").status == 502
    for kind in ("body-object", "extra-key"):
        reply = api.request("GET", f"/rest/responses/{kind}")
        assert reply.status == 502, kind
        assert reply.json() == {"message": "Internal server error"}


def test_function_error_is_502_and_the_next_request_succeeds(api: ServedGateway) -> None:
    reply = api.request("GET", "/fail/raise")
    assert reply.status == 502
    assert reply.json() == {"message": "Internal Server Error"}
    assert api.request("GET", "/hello").status == 200
    assert api.request("GET", "/fail/raise").status == 502  # the same sandbox keeps serving


def test_function_crash_is_502_and_the_next_request_succeeds(api: ServedGateway) -> None:
    reply = api.request("GET", "/fail/exit")
    assert reply.status == 502
    assert reply.json() == {"message": "Internal Server Error"}
    assert api.request("GET", "/hello").body == b"hello"
    assert api.request("GET", "/fail/exit").status == 502  # a fresh sandbox replaced the dead one


def test_function_timeout_is_504_within_about_the_function_timeout(api: ServedGateway) -> None:
    started = time.monotonic()
    reply = api.request("GET", "/slow")
    elapsed = time.monotonic() - started
    assert reply.status == 504
    assert reply.json() == {"message": "Endpoint request timed out"}
    assert 1.0 <= elapsed < 5.0  # SlowFunction's Timeout is 1 s
    assert api.request("GET", "/hello").status == 200


def test_a_slow_request_does_not_block_a_fast_one(api: ServedGateway, tmp_path: Path) -> None:
    marker, release = tmp_path / "in-flight", tmp_path / "release"

    async def scenario() -> tuple[Reply, bool, Reply]:
        query = f"?marker={marker}&release={release}"
        slow = asyncio.ensure_future(api.fetch("GET", "/block" + query))
        await asyncio.to_thread(wait_until, marker.exists, 15, "the slow request to reach its function")
        fast = await api.fetch("GET", "/hello")
        slow_in_flight = not slow.done()
        release.touch()
        return fast, slow_in_flight, await slow

    fast, slow_in_flight, slow = asyncio.run(scenario())
    assert fast.status == 200 and fast.body == b"hello"
    assert slow_in_flight
    assert (slow.status, slow.body) == (200, b"released")


# ----------------------------------------------------------------------------------------------------
# Static web app


def test_static_file_with_content_type_and_long_cache(api: ServedGateway) -> None:
    reply = api.request("GET", "/assets/index-3f9a2c1d.js")
    assert reply.status == 200
    assert reply.headers["Content-Type"] == "text/javascript; charset=utf-8"
    assert reply.headers["Cache-Control"] == "public, max-age=31536000, immutable"
    assert reply.body == (STATIC_DIR / "assets/index-3f9a2c1d.js").read_bytes()
    css = api.request("GET", "/assets/style-9b8e7f6a.css")
    assert css.headers["Content-Type"] == "text/css; charset=utf-8"
    index = api.request("GET", "/")
    assert index.headers["Content-Type"] == "text/html; charset=utf-8"
    assert index.headers["Cache-Control"] == "no-cache"


def test_client_route_falls_back_to_index_html(api: ServedGateway) -> None:
    for path in ("/profile/alice", "/feed"):
        reply = api.request("GET", path, headers={"Accept": "text/html"})
        assert reply.status == 200, path
        assert reply.body == (STATIC_DIR / "index.html").read_bytes()
        assert reply.headers["Cache-Control"] == "no-cache"


def test_a_navigation_to_a_client_route_with_a_dot_gets_index_html(api: ServedGateway) -> None:
    # Every seeded username has a dot: reloading /u/rafa.evans0 must not look like a missing file.
    page = api.request("GET", "/u/rafa.evans0", headers={"Accept": "text/html,application/xhtml+xml,*/*;q=0.8"})
    assert page.status == 200 and page.body == (STATIC_DIR / "index.html").read_bytes()
    image = api.request("GET", "/u/rafa.evans0", headers={"Accept": "image/avif,image/webp,*/*"})
    assert image.status == 404  # not a navigation: a missing file
    assert api.request("GET", "/assets/app.1234.js", headers={"Accept": "text/html"}).status == 404


def test_missing_asset_is_404_not_index_html(api: ServedGateway) -> None:
    for path in ("/assets/missing.js", "/assets/gone", "/missing.png", "/.private-note"):
        reply = api.request("GET", path)
        assert reply.status == 404, path
        assert reply.json() == {"message": "Not Found"}


def test_api_routes_are_not_shadowed_by_the_static_site(api: ServedGateway) -> None:
    assert api.request("GET", "/hello").body == b"hello"
    assert api.request("POST", "/feed").status == 404  # the fallback serves GET/HEAD only


# ----------------------------------------------------------------------------------------------------
# $default route, route table, logs


def test_default_route_comes_after_static_files_and_before_the_fallback() -> None:
    template = parse_template(APP_DIR / "template_default_route.yaml")
    pools = start_pools(template)
    served = ServedGateway(HttpApiGateway(template, pools, static_dir=STATIC_DIR))
    served.start()
    try:
        assert served.request("GET", "/hello").event["routeKey"] == "GET /hello"
        assert served.request("GET", "/robots.txt").headers["Content-Type"] == "text/plain; charset=utf-8"
        for method, path in (("GET", "/profile/alice"), ("PATCH", "/hello"), ("GET", "/assets/missing.js")):
            event = served.request(method, path).event
            assert (event["routeKey"], event["rawPath"]) == ("$default", path)
            assert event["requestContext"]["routeKey"] == "$default"
    finally:
        served.stop()
        for pool in pools.values():
            pool.close()


def test_routes_summary_and_has_routes(template: Template) -> None:
    gateway = HttpApiGateway(template, dict.fromkeys(template.functions, _UNUSED_POOL))
    assert gateway.has_routes
    summary = gateway.routes_summary()
    assert "GET /items/{id} -> EchoFunction" in summary
    assert "ANY /rest/echo/{name} -> EchoFunction" in summary
    assert len(summary) == 14


class _UnusedPool:
    max_workers = 1


_UNUSED_POOL: Any = _UnusedPool()


def test_one_structured_log_line_per_request(api: ServedGateway, capsys: pytest.CaptureFixture[str]) -> None:
    lines: list[dict[str, Any]] = []

    def request_logged() -> bool:
        printed = [json.loads(line) for line in capsys.readouterr().out.splitlines() if line.startswith("{")]
        lines.extend(line for line in printed if line.get("message") == "http request")
        return bool(lines)

    reply = api.request("GET", "/items/9")
    wait_until(request_logged, 5, "the request log line")
    fields = lines[0]
    assert fields["method"] == "GET" and fields["path"] == "/items/9" and fields["status"] == 200
    assert fields["function"] == "EchoFunction"
    assert fields["request_id"] == reply.headers["apigw-requestid"]
    assert fields["duration_ms"] >= 0
    # The shape of the gateway's other lines (Powertools Logger's), so one parser reads them all.
    assert fields["level"] == "INFO" and fields["service"] == "emulator.http"
    assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3}[+-]\d{4}", fields["timestamp"])


def test_the_request_log_line_follows_the_log_level() -> None:
    stream = io.StringIO()
    access_log = AccessLog(stream)
    access_log.write({"status": 200})
    gateway_logger = logging.getLogger("emulator.http")
    level = gateway_logger.level
    gateway_logger.setLevel(logging.WARNING)
    try:
        access_log.write({"status": 201})
    finally:
        gateway_logger.setLevel(level)
    assert [json.loads(line)["status"] for line in stream.getvalue().splitlines()] == [200]


# ----------------------------------------------------------------------------------------------------
# Template problems


def _write_template(tmp_path: Path, events: str) -> Path:
    (tmp_path / "src").mkdir()
    path = tmp_path / "template.yaml"
    path.write_text(
        "Transform: AWS::Serverless-2016-10-31\n"
        "Resources:\n"
        "  Fn:\n"
        "    Type: AWS::Serverless::Function\n"
        "    Properties:\n"
        "      Handler: app.handler\n"
        "      Runtime: python3.11\n"
        "      CodeUri: src/\n"
        "      Events:\n" + events
    )
    return path


def test_clashing_routes_are_a_template_error(tmp_path: Path) -> None:
    path = _write_template(tmp_path, (
        "        A: {Type: HttpApi, Properties: {Path: '/users/{id}', Method: GET}}\n"
        "        B: {Type: Api, Properties: {Path: '/users/{userId}', Method: get}}\n"))
    with pytest.raises(TemplateError, match="clashes"):
        build_route_table(parse_template(path))


def test_path_without_method_is_a_template_error(tmp_path: Path) -> None:
    path = _write_template(tmp_path, "        A: {Type: HttpApi, Properties: {Path: /users}}\n")
    with pytest.raises(TemplateError, match="Path and Method"):
        build_route_table(parse_template(path))

"""The local WebSocket API gateway, driven as a client and a backend would drive AWS's.

The test app (`ws_app/template.yaml`) runs in real Lambda sandboxes; clients use the `websockets` library,
and the management API is called through boto3's `apigatewaymanagementapi`. The gateway's server runs on
an event loop in a background thread, on a socket bound before the functions start so they can be given
its local endpoint exactly as the runtime will (`local_endpoint_rewrites` + `rewrite_environment`).
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from aws_lambda_powertools.utilities.parser.models import (
    APIGatewayWebSocketConnectEventModel,
    APIGatewayWebSocketDisconnectEventModel,
    APIGatewayWebSocketMessageEventModel,
)
from websockets.exceptions import ConnectionClosed, InvalidStatus
from websockets.sync.client import ClientConnection, connect

from emulator.sandbox import FunctionPool
from emulator.template import Template, parse_template
from emulator.websocket.spec import (
    local_endpoint_rewrites,
    rewrite_environment,
)
from tests.support.websocket import (
    LOCAL_CREDENTIALS,
    STAGE,
    WAIT_S,
    WS_APP_TEMPLATE,
    Served,
    listening_socket,
    open_client,
    recv_json,
    serve_gateway,
    wait_for,
    write_ws_template,
)

MAX_MESSAGE_BYTES = 128 * 1024


# ---------------------------------------------------------------------------------------------------
# Harness


def _pools(template: Template, host: str, records: Path) -> dict[str, FunctionPool]:
    """One pool per function, with the local endpoint in place of the AWS one, as the runtime does it."""
    rewrites = local_endpoint_rewrites(template, f"http://{host}")
    pools = {
        logical_id: FunctionPool(spec, region=template.region, max_workers=2, extra_env={
            **LOCAL_CREDENTIALS, "WS_APP_RECORD_DIR": str(records),
            **rewrite_environment(spec.environment, rewrites),
        })
        for logical_id, spec in template.functions.items()
    }
    with ThreadPoolExecutor(max_workers=len(pools)) as starter:  # cold starts in parallel
        list(starter.map(lambda pool: pool.warm(1), pools.values()))
    return pools


@pytest.fixture(scope="module")
def app_template() -> Template:
    return parse_template(WS_APP_TEMPLATE)


@pytest.fixture(scope="module")
def records(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("ws-records")


@pytest.fixture(scope="module")
def served(app_template: Template, records: Path) -> Iterator[tuple[Served, dict[str, FunctionPool]]]:
    sock = listening_socket()
    pools = _pools(app_template, f"127.0.0.1:{sock.getsockname()[1]}", records)
    try:
        with serve_gateway(app_template, pools, records, sock=sock) as server:
            yield server, pools
    finally:
        for pool in pools.values():
            pool.close()


@pytest.fixture
def server(served: tuple[Served, dict[str, FunctionPool]]) -> Served:
    return served[0]


def whoami(client: ClientConnection) -> str:
    """The client's connectionId, as the two-way `$default` route reports it."""
    client.send("whoami")
    return str(recv_json(client)["connectionId"])


def recorded(server: Served, event_type: str, connection_id: str) -> list[dict[str, Any]]:
    return [json.loads(path.read_text()) for path in sorted(server.records.glob(f"{event_type}-{connection_id}-*"))]


def wait_for_record(server: Served, event_type: str, connection_id: str) -> dict[str, Any]:
    found = wait_for(lambda: recorded(server, event_type, connection_id), f"a {event_type} event")
    return dict(found[0])


def close_without_status(client: ClientConnection) -> None:
    """Send a close frame with no status code (websockets' public close() always sends one)."""
    with client.send_context():
        client.protocol.send_close()


def closed_by_server(client: ClientConnection) -> ConnectionClosed:
    with pytest.raises(ConnectionClosed) as info:
        while True:
            client.recv(timeout=WAIT_S)
    return info.value


# ---------------------------------------------------------------------------------------------------
# $connect


def test_connect_with_valid_token_delivers_an_aws_shaped_connect_event(server: Served) -> None:
    with open_client(server) as client:
        connection_id = whoami(client)
    event = wait_for_record(server, "CONNECT", connection_id)
    APIGatewayWebSocketConnectEventModel.model_validate(event)
    context = event["requestContext"]
    assert event["queryStringParameters"] == {"token": "good"}
    assert event["multiValueQueryStringParameters"] == {"token": ["good"]}
    assert event["headers"]["Host"] == server.host
    assert event["headers"]["X-Forwarded-For"] == "127.0.0.1"
    assert event["multiValueHeaders"]["Sec-WebSocket-Version"] == ["13"]
    assert context["routeKey"] == "$connect" and context["eventType"] == "CONNECT"
    assert context["messageDirection"] == "IN"
    assert context["stage"] == STAGE and context["apiId"] == "ws-app" and context["domainName"] == server.host
    assert context["identity"]["sourceIp"] == "127.0.0.1" and "websockets" in context["identity"]["userAgent"]
    assert len(context["connectionId"]) == 16 and context["connectionId"].endswith("=")
    assert context["requestTimeEpoch"] >= context["connectedAt"]
    assert context["requestId"] == context["extendedRequestId"]


@pytest.mark.parametrize(("token", "status"), [(None, 401), ("bad", 403)])
def test_connect_is_rejected_with_the_status_the_function_returns(server: Served, token: str | None,
                                                                  status: int) -> None:
    before = server.gateway.connection_count
    with pytest.raises(InvalidStatus) as info:
        open_client(server, url=server.url(token=token))
    assert info.value.response.status_code == status
    assert server.gateway.connection_count == before


def test_subprotocol_returned_by_connect_is_selected(server: Served) -> None:
    with open_client(server, subprotocols=["chat.v2", "chat.v1"]) as client:
        assert client.subprotocol == "chat.v2"


def test_connect_on_an_unknown_stage_is_forbidden(server: Served) -> None:
    with pytest.raises(InvalidStatus) as info:
        open_client(server, url=server.url(path="/nostage"))
    assert info.value.response.status_code == 403


def test_root_path_serves_the_api_too(server: Served) -> None:
    with open_client(server, url=server.url(path="/")) as client:
        assert whoami(client)


# ---------------------------------------------------------------------------------------------------
# Messages


def test_action_selects_the_route(server: Served) -> None:
    with open_client(server) as client:
        client.send(json.dumps({"action": "echo", "payload": "hello"}))
        reply = recv_json(client)
        connection_id = whoami(client)
    assert reply["route"] == "echo" and reply["echo"] == "hello"
    event = wait_for_record(server, "MESSAGE", connection_id)
    routes = {e["requestContext"]["routeKey"] for e in recorded(server, "MESSAGE", connection_id)}
    assert routes == {"echo", "$default"}
    APIGatewayWebSocketMessageEventModel.model_validate(event)


@pytest.mark.parametrize("body", ["not json at all", '{"action": "unknown"}', '{"other": 1}', "[1, 2]",
                                  '{"action": "$connect"}',
                                  # deeper than json.loads recurses: the gateway's selection raised
                                  "[" * 10_000 + "]" * 10_000, '{"action":' * 10_000 + '"echo"' + "}" * 10_000])
def test_non_json_and_unmatched_messages_go_to_default(server: Served, body: str) -> None:
    with open_client(server) as client:
        client.send(body)
        reply = recv_json(client)
    assert reply["route"] == "$default"
    assert reply["received"] == body and reply["isBase64Encoded"] is False


def test_binary_frames_reach_default_base64_encoded(server: Served) -> None:
    payload = bytes(range(256))
    with open_client(server) as client:
        client.send(payload)
        reply = recv_json(client)
    assert reply["route"] == "$default" and reply["isBase64Encoded"] is True
    assert base64.b64decode(reply["received"]) == payload


def test_message_events_parse_with_powertools(server: Served) -> None:
    with open_client(server) as client:
        connection_id = whoami(client)
    event = wait_for_record(server, "MESSAGE", connection_id)
    parsed = APIGatewayWebSocketMessageEventModel.model_validate(event)
    assert parsed.request_context.event_type == "MESSAGE" and parsed.body == "whoami"
    assert event["requestContext"]["messageId"] != event["requestContext"]["requestId"]


def test_echo_function_posts_back_through_boto3_to_the_local_endpoint(server: Served) -> None:
    with open_client(server) as client:
        client.send(json.dumps({"action": "echo", "payload": {"n": 1}}))
        reply = recv_json(client)
        # A one-way route's return body is never sent: the next frame is the answer to the next message.
        client.send("after echo")
        assert recv_json(client)["received"] == "after echo"
    assert reply == {"route": "echo", "echo": {"n": 1}, "endpoint": f"http://{server.host}/{STAGE}"}


def test_failing_route_answers_internal_server_error(server: Served) -> None:
    with open_client(server) as client:
        client.send(json.dumps({"action": "fail"}))
        reply = recv_json(client)
        connection_id = whoami(client)
    assert reply["message"] == "Internal server error"
    assert reply["connectionId"] == connection_id and reply["requestId"]


def test_message_over_the_size_limit_closes_with_1009(server: Served) -> None:
    with open_client(server) as client:
        connection_id = whoami(client)
        client.send("x" * (MAX_MESSAGE_BYTES + 1))
        closed = closed_by_server(client)
    assert closed.rcvd is not None and closed.rcvd.code == 1009
    event = wait_for_record(server, "DISCONNECT", connection_id)
    assert event["requestContext"]["disconnectStatusCode"] == 1009
    assert event["requestContext"]["disconnectReason"] == "Message too big"


# ---------------------------------------------------------------------------------------------------
# $disconnect


@pytest.mark.parametrize(("code", "reason", "expected_reason"), [
    (1000, "bye", "bye"),
    (None, "", "Client-side close frame status not set"),  # a close frame without a status code
])
def test_disconnect_fires_when_the_client_closes(server: Served, code: int | None, reason: str,
                                                 expected_reason: str) -> None:
    with open_client(server) as client:
        connection_id = whoami(client)
        if code is None:
            close_without_status(client)
        else:
            client.close(code=code, reason=reason)
    event = wait_for_record(server, "DISCONNECT", connection_id)
    APIGatewayWebSocketDisconnectEventModel.model_validate(event)
    assert event["requestContext"]["disconnectStatusCode"] == (1005 if code is None else code)
    assert event["requestContext"]["disconnectReason"] == expected_reason
    assert event["requestContext"]["routeKey"] == "$disconnect"


# ---------------------------------------------------------------------------------------------------
# @connections management API


def test_post_to_connection_through_boto3_reaches_the_client(server: Served) -> None:
    management = server.management()
    with open_client(server) as client:
        connection_id = whoami(client)
        management.post_to_connection(ConnectionId=connection_id, Data=b'{"hello": "client"}')
        assert client.recv(timeout=WAIT_S) == '{"hello": "client"}'  # UTF-8: a text frame
        management.post_to_connection(ConnectionId=connection_id, Data=b"\xff\x00binary")
        assert client.recv(timeout=WAIT_S) == b"\xff\x00binary"  # not UTF-8: a binary frame


def test_management_api_also_answers_without_a_stage_in_the_path(server: Served) -> None:
    management = server.management(path="")
    with open_client(server) as client:
        management.post_to_connection(ConnectionId=whoami(client), Data=b"no stage")
        assert client.recv(timeout=WAIT_S) == "no stage"


def test_get_connection_reports_times_and_identity(server: Served) -> None:
    management = server.management()
    with open_client(server) as client:
        connection_id = whoami(client)
        first = management.get_connection(ConnectionId=connection_id)
        client.send("activity")
        client.recv(timeout=WAIT_S)
        later = management.get_connection(ConnectionId=connection_id)
    assert first["Identity"]["SourceIp"] == "127.0.0.1" and "websockets" in first["Identity"]["UserAgent"]
    assert first["ConnectedAt"] <= first["LastActiveAt"] <= later["LastActiveAt"]
    assert later["ConnectedAt"] == first["ConnectedAt"]
    assert later["LastActiveAt"] > first["LastActiveAt"]


def test_delete_connection_closes_the_client_and_fires_disconnect(server: Served) -> None:
    management = server.management()
    with open_client(server) as client:
        connection_id = whoami(client)
        response = management.delete_connection(ConnectionId=connection_id)
        assert response["ResponseMetadata"]["HTTPStatusCode"] == 204
        closed = closed_by_server(client)
    assert closed.rcvd is not None and closed.rcvd.code == 1000
    event = wait_for_record(server, "DISCONNECT", connection_id)
    assert event["requestContext"]["disconnectStatusCode"] == 1000
    with pytest.raises(management.exceptions.GoneException):
        management.get_connection(ConnectionId=connection_id)


@pytest.mark.parametrize("call", ["post_to_connection", "get_connection", "delete_connection"])
def test_unknown_connection_is_gone(server: Served, call: str) -> None:
    management = server.management()
    arguments: dict[str, Any] = {"ConnectionId": "AAAAAAAAAAAAAAA="}
    if call == "post_to_connection":
        arguments["Data"] = b"to nobody"
    with pytest.raises(management.exceptions.GoneException) as info:
        getattr(management, call)(**arguments)
    assert info.value.response["ResponseMetadata"]["HTTPStatusCode"] == 410
    assert info.value.response["Error"]["Code"] == "GoneException"


def test_closed_connection_is_gone(server: Served) -> None:
    management = server.management()
    with open_client(server) as client:
        connection_id = whoami(client)
    wait_for_record(server, "DISCONNECT", connection_id)
    with pytest.raises(management.exceptions.GoneException):
        management.post_to_connection(ConnectionId=connection_id, Data=b"too late")


def test_post_over_128_kb_is_payload_too_large(server: Served) -> None:
    management = server.management()
    with open_client(server) as client:
        connection_id = whoami(client)
        with pytest.raises(management.exceptions.PayloadTooLargeException) as info:
            management.post_to_connection(ConnectionId=connection_id, Data=b"x" * (MAX_MESSAGE_BYTES + 1))
        assert info.value.response["ResponseMetadata"]["HTTPStatusCode"] == 413
        management.post_to_connection(ConnectionId=connection_id, Data=b"y" * MAX_MESSAGE_BYTES)
        assert client.recv(timeout=WAIT_S) == "y" * MAX_MESSAGE_BYTES


def test_management_api_on_an_unknown_stage_is_forbidden(server: Served) -> None:
    management = server.management(path="/nostage")
    with open_client(server) as client, pytest.raises(management.exceptions.ForbiddenException):
        management.post_to_connection(ConnectionId=whoami(client), Data=b"x")


# ---------------------------------------------------------------------------------------------------
# Quotas


@pytest.mark.parametrize("options", [{"idle_timeout_s": 1.0}, {"max_connection_s": 2.0}])
def test_idle_and_maximum_duration_close_with_going_away(served: tuple[Served, dict[str, FunctionPool]],
                                                         app_template: Template, records: Path,
                                                         options: dict[str, Any]) -> None:
    pools = served[1]
    with serve_gateway(app_template, pools, records, **options) as short_lived, open_client(short_lived) as client:
        connection_id = whoami(client)
        if "max_connection_s" in options:  # activity does not extend the maximum duration
            client.send("keep busy")
            client.recv(timeout=WAIT_S)
        closed = closed_by_server(client)
        assert closed.rcvd is not None and (closed.rcvd.code, closed.rcvd.reason) == (1001, "Going away")
        event = wait_for_record(short_lived, "DISCONNECT", connection_id)
    assert event["requestContext"]["disconnectStatusCode"] == 1001
    assert event["requestContext"]["disconnectReason"] == "Going away"


# ---------------------------------------------------------------------------------------------------
# Reading the API from templates


def test_without_default_route_unmatched_messages_get_forbidden(tmp_path: Path) -> None:
    template = parse_template(write_ws_template(tmp_path, """\
  EchoRoute:
    Type: AWS::ApiGatewayV2::Route
    Properties:
      ApiId: !Ref Api
      RouteKey: echo
      Target: !Sub integrations/${HandlerIntegration}
"""))
    pools = {"Handler": FunctionPool(template.functions["Handler"], region=template.region)}
    try:
        with serve_gateway(template, pools, tmp_path) as server, connect(
                server.url(path="/local", token=None), proxy=None, open_timeout=WAIT_S) as client:
            client.send('{"action": "nothing"}')
            reply = recv_json(client)
    finally:
        pools["Handler"].close()
    assert reply["message"] == "Forbidden" and reply["connectionId"] and reply["requestId"]
    assert server.gateway.apis[0].stage == "local"  # no AWS::ApiGatewayV2::Stage: the default


def test_second_api_is_served_under_its_logical_id(tmp_path: Path) -> None:
    path = write_ws_template(tmp_path, """\
  Second:
    Type: AWS::ApiGatewayV2::Api
    Properties:
      Name: second
      ProtocolType: WEBSOCKET
      RouteSelectionExpression: $request.body.action
  SecondStage:
    Type: AWS::ApiGatewayV2::Stage
    Properties:
      ApiId: !GetAtt Second.ApiId
      StageName: live
  SecondRoute:
    Type: AWS::ApiGatewayV2::Route
    Properties:
      ApiId: !GetAtt Second.ApiId
      RouteKey: $default
      RouteResponseSelectionExpression: $default
      Target: !Sub integrations/${HandlerIntegration}
""")
    template = parse_template(path)
    pools = {"Handler": FunctionPool(template.functions["Handler"], region=template.region)}
    try:
        with serve_gateway(template, pools, tmp_path) as server:
            rewrites = local_endpoint_rewrites(template, f"http://{server.host}")
            second_url = rewrites["https://second.execute-api.us-east-1.amazonaws.com/live"]
            assert second_url == f"http://{server.host}/Second/live"
            with pytest.raises(InvalidStatus):  # the root serves the first API only
                connect(server.url(path="/live", token=None), proxy=None, open_timeout=WAIT_S)
            with connect(server.url(path="/Second/live", token=None), proxy=None, open_timeout=WAIT_S) as client:
                connection_id = whoami(client)
                server.management(path="/Second/live").post_to_connection(ConnectionId=connection_id, Data=b"hi")
                assert client.recv(timeout=WAIT_S) == "hi"
    finally:
        pools["Handler"].close()



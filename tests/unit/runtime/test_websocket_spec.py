"""The WebSocket API as the local runtime reads it from templates: routes, selection expressions, SAM's
WebSocketApi, and the local endpoints that replace the AWS ones in functions' environments."""

from __future__ import annotations

from pathlib import Path

import pytest

from emulator.template import Template, TemplateError, parse_template
from emulator.websocket.spec import (
    local_endpoint_rewrites,
    parse_selection_expression,
    rewrite_environment,
    websocket_apis,
)
from tests.support.websocket import WS_APP_CODE as APP_CODE
from tests.support.websocket import WS_APP_TEMPLATE, invocation_uri, write_ws_template


@pytest.fixture(scope="module")
def app_template() -> Template:
    return parse_template(WS_APP_TEMPLATE)


@pytest.mark.parametrize(("resources", "culprit", "words"), [
    ("""\
  Route:
    Type: AWS::ApiGatewayV2::Route
    Properties:
      ApiId: !Ref Api
      RouteKey: $default
      Target: integrations/Missing
""", "Route", "not an AWS::ApiGatewayV2::Integration"),
    ("""\
  OtherIntegration:
    Type: AWS::ApiGatewayV2::Integration
    Properties:
      ApiId: !Ref Api
      IntegrationType: AWS_PROXY
      IntegrationUri: !Sub """ + invocation_uri("arn:aws:lambda:${AWS::Region}:${AWS::AccountId}:function:Nope") + """
  Route:
    Type: AWS::ApiGatewayV2::Route
    Properties:
      ApiId: !Ref Api
      RouteKey: $default
      Target: integrations/OtherIntegration
""", "OtherIntegration", "names no AWS::Serverless::Function"),
])
def test_broken_routes_raise_template_error_naming_the_resource(tmp_path: Path, resources: str, culprit: str,
                                                                words: str) -> None:
    template = parse_template(write_ws_template(tmp_path, resources))
    with pytest.raises(TemplateError, match=words) as info:
        websocket_apis(template)
    assert info.value.resource == culprit


def test_unsupported_selection_expression_raises_template_error(tmp_path: Path) -> None:
    path = write_ws_template(tmp_path, "")
    path.write_text(path.read_text().replace("$request.body.action", "$request.header.x-route"))
    with pytest.raises(TemplateError, match="not supported locally") as info:
        websocket_apis(parse_template(path))
    assert info.value.resource == "Api"


@pytest.mark.parametrize(("expression", "body", "key"), [
    ("$request.body.action", '{"action": "send"}', "send"),
    ("$request.body.meta.route", '{"meta": {"route": "deep"}}', "deep"),
    ("$request.body.meta.route", '{"meta": "flat"}', None),
    ("${request.body.action}-${request.body.version}", '{"action": "send", "version": 2}', "send-2"),
    ("\\$default", '{"action": "x"}', "$default"),
    ("$request.body.action", "not json", None),
    # Nested deeper than the parser recurses (RecursionError): not JSON either, so `$default`.
    ("$request.body.action", "[" * 10_000 + "]" * 10_000, None),
    ("$request.body.action", '{"a":' * 10_000 + "1" + "}" * 10_000, None),
])
def test_selection_expressions(expression: str, body: str, key: str | None) -> None:
    assert parse_selection_expression(expression, "Api").select(body) == key


def test_sam_websocket_api_resource(tmp_path: Path) -> None:
    path = tmp_path / "template.yaml"
    path.write_text(f"""\
Transform: AWS::Serverless-2016-10-31
Resources:
  Chat:
    Type: AWS::Serverless::WebSocketApi
    Properties:
      RouteSelectionExpression: $request.body.action
      StageName: live
      Routes:
        $connect:
          FunctionArn: !GetAtt Handler.Arn
        send:
          FunctionArn: !GetAtt Handler.Arn
  Handler:
    Type: AWS::Serverless::Function
    Properties:
      Runtime: python3.11
      CodeUri: {APP_CODE}
      Handler: ws_app_handlers.on_default
""")
    (api,) = websocket_apis(parse_template(path))
    assert api.stage == "live" and api.api_id == "Chat"
    assert {key: route.function_id for key, route in api.routes.items()} == {"$connect": "Handler",
                                                                             "send": "Handler"}


def test_local_endpoint_rewrites_cover_the_aws_url_forms(app_template: Template) -> None:
    rewrites = local_endpoint_rewrites(app_template, "http://127.0.0.1:3001")
    aws = "ws-app.execute-api.us-east-1.amazonaws.com"
    environment = {
        "WITH_STAGE": f"https://{aws}/prod",
        "STAGE_REF": f"https://{aws}/Stage",  # our parser resolves !Ref Stage to the logical id
        "NO_STAGE": f"https://{aws}",
        "WSS": f"wss://{aws}/prod",
        "OTHER_STAGE_NAME": f"https://{aws}/production",
        "UNRELATED": "https://example.com",
    }
    assert rewrite_environment(environment, rewrites) == {
        "WITH_STAGE": "http://127.0.0.1:3001/prod",
        "STAGE_REF": "http://127.0.0.1:3001/prod",
        "NO_STAGE": "http://127.0.0.1:3001",
        "WSS": "ws://127.0.0.1:3001/prod",
        "OTHER_STAGE_NAME": "http://127.0.0.1:3001/production",
    }

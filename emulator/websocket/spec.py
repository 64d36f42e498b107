"""Read the WebSocket APIs of a parsed SAM template: stage, route selection, and route -> function.

Two template forms are understood:
- raw CloudFormation: `AWS::ApiGatewayV2::Api` (`ProtocolType: WEBSOCKET`) with `::Route`, `::Integration`
  (`AWS_PROXY` to a Lambda function of the template) and `::Stage` resources;
- SAM's `AWS::Serverless::WebSocketApi` with `Routes: {<route key>: {FunctionArn: ...}}` and `StageName`.

The first API of the template is served at the server root, every other one under `/<logical id>`
(`mount`); `local_endpoint_rewrites` maps the AWS form of each API's URL to that local one.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from emulator.template import Resource, Template, TemplateError

API_TYPE = "AWS::ApiGatewayV2::Api"
ROUTE_TYPE = "AWS::ApiGatewayV2::Route"
INTEGRATION_TYPE = "AWS::ApiGatewayV2::Integration"
STAGE_TYPE = "AWS::ApiGatewayV2::Stage"
SAM_API_TYPE = "AWS::Serverless::WebSocketApi"
DEFAULT_STAGE = "local"
SAM_DEFAULT_STAGE = "default"  # what SAM names the stage when StageName is absent
CONNECT_ROUTE = "$connect"
DISCONNECT_ROUTE = "$disconnect"
DEFAULT_ROUTE = "$default"

_LAMBDA_INVOCATION_URI = re.compile(r"^arn:[^:]+:apigateway:[^:]*:lambda:path/[^/]+/functions/(?P<arn>.+)/invocations$")
_BODY_PATH = r"[\w-]+(?:\.[\w-]+)*"
_BARE_BODY_VARIABLE = re.compile(rf"\$request\.body\.({_BODY_PATH})")
_BRACED_BODY_VARIABLE = re.compile(rf"\$\{{request\.body\.({_BODY_PATH})\}}")
_UNESCAPED_DOLLAR = re.compile(r"(?<!\\)\$")


@dataclass(frozen=True)
class RouteSelector:
    """A route selection expression over the JSON message body: literals and `request.body` paths."""

    expression: str
    parts: tuple[str | tuple[str, ...], ...]  # a str is literal text, a tuple a path into the body

    def select(self, body: str) -> str | None:
        """The route key a text message selects, or None (the message then goes to `$default`)."""
        try:
            document = json.loads(body)
        except (ValueError, RecursionError):  # deeper than the parser recurses: unparsable, as AWS sees it
            return None
        pieces: list[str] = []
        for part in self.parts:
            if isinstance(part, str):
                pieces.append(part)
                continue
            value = _lookup(document, part)
            if value is None:
                return None
            pieces.append(value)
        return "".join(pieces)


@dataclass(frozen=True)
class RouteSpec:
    route_key: str
    function_id: str  # logical id of the Lambda function behind the AWS_PROXY integration
    two_way: bool  # a route response is configured: the function's body is sent back to the client
    resource: str  # the template resource declaring the route, for messages


@dataclass(frozen=True)
class WebSocketApiSpec:
    logical_id: str
    api_id: str  # what `!Ref` of the API resolves to locally, used as apiId and in AWS-form URLs
    stage: str
    stage_aliases: tuple[str, ...]  # Stage logical ids: our parser resolves `!Ref Stage` to them
    selector: RouteSelector
    routes: Mapping[str, RouteSpec]
    mount: str  # "" for the first API, "/<logical id>" for the others

    def message_route(self, selected_key: str | None) -> RouteSpec | None:
        """The route a message goes to: the selected key if it names a message route, else `$default`."""
        if selected_key is not None and selected_key not in (CONNECT_ROUTE, DISCONNECT_ROUTE):
            route = self.routes.get(selected_key)
            if route is not None:
                return route
        return self.routes.get(DEFAULT_ROUTE)

    @property
    def function_ids(self) -> set[str]:
        return {route.function_id for route in self.routes.values()}


def parse_selection_expression(expression: Any, where: str) -> RouteSelector:
    """Parse `$request.body.a.b`, or literals mixed with `${request.body.x}` and `\\$default`."""
    if not isinstance(expression, str) or not expression:
        raise TemplateError(where, "RouteSelectionExpression is required for a WEBSOCKET API")
    bare = _BARE_BODY_VARIABLE.fullmatch(expression)
    if bare:
        return RouteSelector(expression, (tuple(bare.group(1).split(".")),))
    parts: list[str | tuple[str, ...]] = []
    position = 0
    for match in _BRACED_BODY_VARIABLE.finditer(expression):
        parts.append(_literal(expression[position:match.start()], expression, where))
        parts.append(tuple(match.group(1).split(".")))
        position = match.end()
    parts.append(_literal(expression[position:], expression, where))
    return RouteSelector(expression, tuple(part for part in parts if part != ""))


def websocket_apis(template: Template) -> list[WebSocketApiSpec]:
    """Every WebSocket API of the template, in template order; raises TemplateError naming the culprit."""
    apis: list[WebSocketApiSpec] = []
    for resource in template.resources.values():
        mount = "" if not apis else f"/{resource.logical_id}"
        if resource.type == API_TYPE and str(resource.properties.get("ProtocolType", "")).upper() == "WEBSOCKET":
            apis.append(_raw_api(template, resource, mount))
        elif resource.type == SAM_API_TYPE:
            apis.append(_sam_api(template, resource, mount))
    return apis


def local_endpoint_rewrites(template: Template, base_url: str) -> dict[str, str]:
    """AWS-form URL prefixes of each WebSocket API (as our parser resolves them) -> local URLs.

    Keys are sorted longest first, so a caller replacing the first matching prefix picks the most
    specific one; `rewrite_environment` applies them with that rule and a path-boundary check.
    """
    http_base = base_url.rstrip("/")
    ws_base = re.sub(r"^http", "ws", http_base)
    rewrites: dict[str, str] = {}
    for api in websocket_apis(template):
        host = f"{api.api_id}.execute-api.{template.region}.amazonaws.com"
        local_http, local_ws = http_base + api.mount, ws_base + api.mount
        for stage in (api.stage, *api.stage_aliases):
            rewrites[f"https://{host}/{stage}"] = f"{local_http}/{api.stage}"
            rewrites[f"wss://{host}/{stage}"] = f"{local_ws}/{api.stage}"
        rewrites[f"https://{host}"] = local_http
        rewrites[f"wss://{host}"] = local_ws
        # `!GetAtt Api.ApiEndpoint` (wss://<id>.execute-api...) resolves to this placeholder locally.
        rewrites[f"local-{api.logical_id}"] = local_ws
    return dict(sorted(rewrites.items(), key=lambda item: -len(item[0])))


def rewrite_environment(environment: Mapping[str, str], rewrites: Mapping[str, str]) -> dict[str, str]:
    """The variables whose value starts with a rewritten prefix, with the local URL in its place.

    A prefix matches only at a path boundary (end, `/` or `?`), so `.../prod` leaves `.../production` alone.
    """
    changed: dict[str, str] = {}
    for name, value in environment.items():
        for prefix, local in rewrites.items():
            if value.startswith(prefix) and value[len(prefix):len(prefix) + 1] in ("", "/", "?"):
                changed[name] = local + value[len(prefix):]
                break
    return changed


# ----------------------------------------------------------------------------------------------------


def _literal(text: str, expression: str, where: str) -> str:
    if _UNESCAPED_DOLLAR.search(text):
        raise TemplateError(where, f"RouteSelectionExpression {expression!r} is not supported locally "
                                   "(only $request.body.<field> paths are)")
    return text.replace("\\$", "$")


def _lookup(document: Any, path: tuple[str, ...]) -> str | None:
    for key in path:
        if not isinstance(document, dict) or key not in document:
            return None
        document = document[key]
    if isinstance(document, str):
        return document
    if isinstance(document, bool | int | float):
        return json.dumps(document)
    return None


def _ref_value(resource: Resource) -> str:
    """What our template parser resolves `!Ref` of an API to: its Name, else its logical id."""
    name = resource.properties.get("Name")
    return name if isinstance(name, str) else resource.logical_id


def _belongs_to(resource: Resource, api: Resource) -> bool:
    # `!GetAtt Api.ApiId` resolves locally to "<name>.ApiId"; `!Ref Api` to the name.
    reference = _ref_value(api)
    return resource.properties.get("ApiId") in (reference, api.logical_id, f"{reference}.ApiId")


def _raw_api(template: Template, api: Resource, mount: str) -> WebSocketApiSpec:
    selector = parse_selection_expression(api.properties.get("RouteSelectionExpression"), api.logical_id)
    stages = [stage for stage in template.resources_of_type(STAGE_TYPE) if _belongs_to(stage, api)]
    stage_name = str(stages[0].properties.get("StageName") or DEFAULT_STAGE) if stages else DEFAULT_STAGE
    routes: dict[str, RouteSpec] = {}
    for route in template.resources_of_type(ROUTE_TYPE):
        if _belongs_to(route, api):
            spec = _raw_route(template, route)
            routes[spec.route_key] = spec
    return WebSocketApiSpec(
        logical_id=api.logical_id, api_id=_ref_value(api), stage=stage_name,
        stage_aliases=tuple(stage.logical_id for stage in stages[:1]), selector=selector, routes=routes,
        mount=mount,
    )


def _raw_route(template: Template, route: Resource) -> RouteSpec:
    route_key = route.properties.get("RouteKey")
    if not isinstance(route_key, str) or not route_key:
        raise TemplateError(route.logical_id, "route has no RouteKey")
    target = route.properties.get("Target")
    if not isinstance(target, str) or not target.startswith("integrations/"):
        raise TemplateError(route.logical_id, f"route {route_key} needs Target 'integrations/<IntegrationId>', "
                                              f"got {target!r}")
    integration_id = target.removeprefix("integrations/")
    integration = template.resources.get(integration_id)
    if integration is None or integration.type != INTEGRATION_TYPE:
        raise TemplateError(route.logical_id, f"route {route_key} targets integration {integration_id!r}, "
                                              "which is not an AWS::ApiGatewayV2::Integration of this template")
    return RouteSpec(
        route_key=route_key,
        function_id=_integration_function(template, integration),
        two_way=bool(route.properties.get("RouteResponseSelectionExpression")),
        resource=route.logical_id,
    )


def _integration_function(template: Template, integration: Resource) -> str:
    integration_type = str(integration.properties.get("IntegrationType", ""))
    if integration_type != "AWS_PROXY":
        raise TemplateError(integration.logical_id, f"IntegrationType {integration_type or '(none)'} is not "
                                                    "supported locally (AWS_PROXY to a Lambda function only)")
    return _function_for_arn(template, integration.properties.get("IntegrationUri"), integration.logical_id)


def _function_for_arn(template: Template, uri: Any, where: str) -> str:
    if not isinstance(uri, str):
        raise TemplateError(where, "the Lambda function ARN is missing")
    match = _LAMBDA_INVOCATION_URI.match(uri)
    function = template.function_by_arn(match.group("arn") if match else uri)
    if function is None:
        raise TemplateError(where, f"{uri} names no AWS::Serverless::Function of this template")
    return function.logical_id


def _sam_api(template: Template, api: Resource, mount: str) -> WebSocketApiSpec:
    selector = parse_selection_expression(api.properties.get("RouteSelectionExpression"), api.logical_id)
    declared = api.properties.get("Routes")
    if not isinstance(declared, dict) or not declared:
        raise TemplateError(api.logical_id, "Routes is required")
    routes = {
        str(key): RouteSpec(
            route_key=str(key),
            function_id=_function_for_arn(template, (config or {}).get("FunctionArn"),
                                          f"{api.logical_id}.Routes.{key}"),
            two_way=bool((config or {}).get("RouteResponseSelectionExpression")),
            resource=api.logical_id,
        )
        for key, config in declared.items()
    }
    return WebSocketApiSpec(
        logical_id=api.logical_id, api_id=_ref_value(api),
        stage=str(api.properties.get("StageName") or SAM_DEFAULT_STAGE), stage_aliases=(),
        selector=selector, routes=routes, mount=mount,
    )


def api_at(apis: list[WebSocketApiSpec], mount: str | None, stage: str | None) -> WebSocketApiSpec | None:
    """The API a request path addresses: `/`, `/<stage>` (first API) or `/<logical id>/<stage>`."""
    if not apis:
        return None
    if mount is None:
        first = apis[0]
        return first if stage is None or stage == first.stage else None
    return next((api for api in apis if api.mount == f"/{mount}" and api.stage == stage), None)

"""The route table of a SAM template's APIs: `HttpApi` events (HTTP API) and `Api` events (REST API).

Every API is served from the root of one local server, so routes of all APIs share one table.
Matching follows API Gateway: the most specific path wins, segment by segment from the left
(literal over `{param}` over greedy `{proxy+}`), then an exact method over `ANY`; the HTTP API
`$default` route catches what nothing else matched.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from emulator.cfn_yaml import load_template
from emulator.http.cors import ALL_HTTP_METHODS, HttpApiCors, RestApiCors
from emulator.template import EventSpec, Resource, Template, TemplateError, merge_globals

HTTP_API_EVENT = "HttpApi"
REST_API_EVENT = "Api"
HTTP_API_TYPE = "AWS::Serverless::HttpApi"
REST_API_TYPE = "AWS::Serverless::Api"
# Logical ids SAM gives the APIs it creates for events that name no API.
IMPLICIT_HTTP_API = "ServerlessHttpApi"
IMPLICIT_REST_API = "ServerlessRestApi"
ANY_METHOD = "ANY"
DEFAULT_ROUTE_KEY = "$default"
# Integration timeout quotas: HTTP API 30 s, REST API 29 s (the default, raisable only on request).
HTTP_API_INTEGRATION_TIMEOUT = 30.0
REST_API_INTEGRATION_TIMEOUT = 29.0
_PARAM_NAME = re.compile(r"^[A-Za-z0-9._-]+$")

ApiKind = Literal["http", "rest"]
PayloadVersion = Literal["1.0", "2.0"]
SegmentKind = Literal["literal", "param", "greedy"]
_SEGMENT_SCORE: dict[SegmentKind, int] = {"literal": 2, "param": 1, "greedy": 0}


@dataclass(frozen=True)
class ApiConfig:
    logical_id: str
    kind: ApiKind
    api_id: str
    stage: str
    stage_variables: dict[str, str] | None = field(default=None, compare=False)
    http_cors: HttpApiCors | None = None
    rest_cors: RestApiCors | None = None
    binary_media_types: tuple[str, ...] = ()


@dataclass(frozen=True)
class Segment:
    kind: SegmentKind
    value: str  # the literal text, or the parameter's name

    @property
    def shape(self) -> str:
        return {"literal": self.value, "param": "{}", "greedy": "{+}"}[self.kind]


@dataclass(frozen=True)
class Route:
    api: ApiConfig
    method: str  # an HTTP method or ANY
    path: str  # "/items/{id}", or "$default" for the catch-all
    function_id: str
    payload_version: PayloadVersion
    integration_timeout: float
    segments: tuple[Segment, ...]

    @property
    def is_default(self) -> bool:
        return self.path == DEFAULT_ROUTE_KEY

    @property
    def route_key(self) -> str:
        return DEFAULT_ROUTE_KEY if self.is_default else f"{self.method} {self.path}"

    def allows(self, method: str) -> bool:
        return self.method == method or (self.method == ANY_METHOD and method in ALL_HTTP_METHODS)

    def match_path(self, segments: list[str]) -> dict[str, str] | None:
        """Path parameters when the (decoded) request segments fit this route's path, else None."""
        parameters: dict[str, str] = {}
        for index, segment in enumerate(self.segments):
            if segment.kind == "greedy":
                rest = segments[index:]
                if not "".join(rest):
                    return None
                parameters[segment.value] = "/".join(rest)
                return parameters
            if index >= len(segments):
                return None
            if segment.kind == "literal":
                if segments[index] != segment.value:
                    return None
            elif not segments[index]:
                return None
            else:
                parameters[segment.value] = segments[index]
        return parameters if len(segments) == len(self.segments) else None

    def specificity(self) -> tuple[int, ...]:
        method_score = 0 if self.method == ANY_METHOD else 1
        return (*(_SEGMENT_SCORE[s.kind] for s in self.segments), -1, method_score)


@dataclass(frozen=True)
class RouteMatch:
    route: Route
    path_parameters: dict[str, str]


class RouteTable:
    def __init__(self, routes: list[Route]) -> None:
        self.routes = routes
        self.specific_routes = [route for route in routes if not route.is_default]
        defaults = [route for route in routes if route.is_default]
        self.default_route: Route | None = defaults[0] if defaults else None

    def path_matches(self, segments: list[str]) -> list[RouteMatch]:
        """Routes (not `$default`) whose path fits, whatever their method, most specific first."""
        matches = [
            RouteMatch(route, params)
            for route in self.specific_routes
            if (params := route.match_path(segments)) is not None
        ]
        return sorted(matches, key=lambda match: match.route.specificity(), reverse=True)

    def match(self, method: str, segments: list[str]) -> RouteMatch | None:
        return next((m for m in self.path_matches(segments) if m.route.allows(method)), None)

    def allowed_methods(self, segments: list[str]) -> set[str]:
        methods: set[str] = set()
        for match in self.path_matches(segments):
            methods.update(ALL_HTTP_METHODS if match.route.method == ANY_METHOD else (match.route.method,))
        return methods

    def summary(self) -> list[str]:
        ordered = sorted(self.routes, key=lambda r: (r.is_default, r.path, r.method))
        return [f"{route.route_key} -> {route.function_id}" for route in ordered]


# ----------------------------------------------------------------------------------------------------
# Reading the template


def parse_path(path: Any, where: str) -> tuple[Segment, ...]:
    if not isinstance(path, str) or not path.startswith("/"):
        raise TemplateError(where, f"Path {path!r} must start with '/'")
    parts = path.strip("/").split("/") if path.strip("/") else []
    segments: list[Segment] = []
    for index, part in enumerate(parts):
        if part.startswith("{") and part.endswith("}"):
            name = part[1:-1]
            greedy = name.endswith("+")
            name = name.rstrip("+")
            if not _PARAM_NAME.match(name):
                raise TemplateError(where, f"Path {path}: bad parameter {part}")
            if greedy and index != len(parts) - 1:
                raise TemplateError(where, f"Path {path}: a greedy parameter must be the last segment")
            segments.append(Segment("greedy" if greedy else "param", name))
        elif "{" in part or "}" in part or not part:
            raise TemplateError(where, f"Path {path}: segment {part!r} is not supported by API Gateway")
        else:
            segments.append(Segment("literal", part))
    return tuple(segments)


def normalise_path(segments: tuple[Segment, ...]) -> str:
    rendered = {"literal": "{}", "param": "{{{}}}", "greedy": "{{{}+}}"}
    return "/" + "/".join(rendered[s.kind].format(s.value) for s in segments)


def _method(value: Any, where: str) -> str:
    method = str(value).upper()
    if method in ("X-AMAZON-APIGATEWAY-ANY-METHOD", ANY_METHOD):
        return ANY_METHOD
    if method not in ALL_HTTP_METHODS:
        raise TemplateError(where, f"Method {value!r} is not an API Gateway method")
    return method


def _payload_version(value: Any, where: str) -> PayloadVersion:
    version = str(value)  # YAML reads an unquoted 1.0 as a float; str() gives "1.0" back
    if version == "1.0":
        return "1.0"
    if version == "2.0":
        return "2.0"
    raise TemplateError(where, f"PayloadFormatVersion {version} is not 1.0 or 2.0")


def _timeout_seconds(value: Any, cap: float, where: str) -> float:
    if value is None:
        return cap
    try:
        millis = int(value)
    except (TypeError, ValueError):
        raise TemplateError(where, f"TimeoutInMillis {value!r} is not a number") from None
    if millis < 50:
        raise TemplateError(where, "TimeoutInMillis must be at least 50")
    return min(millis / 1000, cap)


def _local_api_id(logical_id: str) -> str:
    """A stable 10-character id shaped like API Gateway's."""
    return hashlib.sha256(logical_id.encode()).hexdigest()[:10]


def _has_intrinsic(value: Any) -> bool:
    if isinstance(value, dict):
        key = next(iter(value), "")
        if len(value) == 1 and (key == "Ref" or key.startswith("Fn::")):
            return True
        return any(_has_intrinsic(v) for v in value.values())
    if isinstance(value, list):
        return any(_has_intrinsic(v) for v in value)
    return False


# Globals keys this module reads; the template parser merges Globals into functions only.
_GLOBAL_KEYS = {
    "HttpApi": ("CorsConfiguration", "StageVariables"),
    "Api": ("Cors", "BinaryMediaTypes", "Variables"),
}


def _api_globals(document: Mapping[str, Any], section: str) -> dict[str, Any]:
    raw = ((document.get("Globals") or {}).get(section)) or {}
    picked = {key: raw[key] for key in _GLOBAL_KEYS[section] if key in raw}
    if _has_intrinsic(picked):
        raise TemplateError(f"Globals.{section}", "intrinsic functions here are not resolved locally; "
                            "set the value on the API resource instead")
    return picked


def _string_map(value: Any, where: str, key: str) -> dict[str, str] | None:
    if value is None:
        return None
    if not isinstance(value, Mapping):
        raise TemplateError(where, f"{key} must be a mapping")
    return {str(k): str(v) for k, v in value.items()}


class _ApiCatalog:
    """The template's HTTP and REST APIs, found by logical id or by the name `!Ref` resolves to."""

    def __init__(self, template: Template) -> None:
        document = load_template(template.path)
        self._globals = {"http": _api_globals(document, "HttpApi"), "rest": _api_globals(document, "Api")}
        self._apis: dict[str, ApiConfig] = {}
        self._by_reference: dict[str, str] = {}
        kinds: tuple[tuple[ApiKind, str], ...] = (("http", HTTP_API_TYPE), ("rest", REST_API_TYPE))
        for kind, resource_type in kinds:
            for resource in template.resources_of_type(resource_type):
                self._add(resource, kind)

    def _add(self, resource: Resource, kind: ApiKind) -> ApiConfig:
        props = merge_globals(self._globals[kind], resource.properties)
        api = _http_api(resource.logical_id, props) if kind == "http" else _rest_api(resource.logical_id, props)
        self._apis[resource.logical_id] = api
        self._by_reference[resource.logical_id] = resource.logical_id
        name = resource.properties.get("Name")
        if isinstance(name, str):
            self._by_reference.setdefault(name, resource.logical_id)
        return api

    def api_for(self, reference: Any, kind: ApiKind, where: str) -> ApiConfig:
        if reference is None:
            implicit = IMPLICIT_HTTP_API if kind == "http" else IMPLICIT_REST_API
            if implicit not in self._apis:
                resource_type = HTTP_API_TYPE if kind == "http" else REST_API_TYPE
                self._add(Resource(implicit, resource_type, {}), kind)
            return self._apis[implicit]
        logical_id = self._by_reference.get(str(reference))
        api = self._apis.get(logical_id) if logical_id else None
        if api is None or api.kind != kind:
            expected = HTTP_API_TYPE if kind == "http" else REST_API_TYPE
            raise TemplateError(where, f"{reference!r} is not an {expected} of this template")
        return api


def _http_api(logical_id: str, props: Mapping[str, Any]) -> ApiConfig:
    return ApiConfig(
        logical_id=logical_id,
        kind="http",
        api_id=_local_api_id(logical_id),
        stage=str(props.get("StageName") or DEFAULT_ROUTE_KEY),
        stage_variables=_string_map(props.get("StageVariables"), logical_id, "StageVariables"),
        http_cors=HttpApiCors.from_config(props.get("CorsConfiguration"), logical_id),
    )


def _rest_api(logical_id: str, props: Mapping[str, Any]) -> ApiConfig:
    binary_types = props.get("BinaryMediaTypes") or []
    if not isinstance(binary_types, list):
        raise TemplateError(logical_id, "BinaryMediaTypes must be a list")
    return ApiConfig(
        logical_id=logical_id,
        kind="rest",
        api_id=_local_api_id(logical_id),
        # SAM names the implicit REST API's stage "Prod"; explicit APIs must declare one.
        stage=str(props.get("StageName") or "Prod"),
        stage_variables=_string_map(props.get("Variables"), logical_id, "Variables"),
        rest_cors=RestApiCors.from_config(props.get("Cors"), logical_id),
        # SAM writes "/" as "~1" in media types ("image~1png"), as JSON pointers do.
        binary_media_types=tuple(str(t).replace("~1", "/").lower() for t in binary_types),
    )


def _http_api_route(catalog: _ApiCatalog, function_id: str, event: EventSpec) -> Route:
    where = f"{function_id}.Events.{event.name}"
    props = event.properties
    api = catalog.api_for(props.get("ApiId"), "http", where)
    version = _payload_version(props.get("PayloadFormatVersion", "2.0"), where)
    timeout = _timeout_seconds(props.get("TimeoutInMillis"), HTTP_API_INTEGRATION_TIMEOUT, where)
    path, method = props.get("Path"), props.get("Method")
    if path is None and method is None:
        return Route(api, ANY_METHOD, DEFAULT_ROUTE_KEY, function_id, version, timeout, ())
    if path is None or method is None:
        raise TemplateError(where, "Path and Method must be given together (or neither, for $default)")
    segments = parse_path(path, where)
    return Route(api, _method(method, where), normalise_path(segments), function_id, version, timeout, segments)


def _rest_api_route(catalog: _ApiCatalog, function_id: str, event: EventSpec) -> Route:
    where = f"{function_id}.Events.{event.name}"
    props = event.properties
    if props.get("Path") is None or props.get("Method") is None:
        raise TemplateError(where, "an Api event needs Path and Method")
    api = catalog.api_for(props.get("RestApiId"), "rest", where)
    segments = parse_path(props["Path"], where)
    timeout = _timeout_seconds(props.get("TimeoutInMillis"), REST_API_INTEGRATION_TIMEOUT, where)
    return Route(api, _method(props["Method"], where), normalise_path(segments), function_id, "1.0",
                 timeout, segments)


def _check_conflicts(routes: list[Route]) -> None:
    """All APIs share the local root, so two routes with one method and path shape cannot both be served."""
    seen: dict[tuple[str, ...], Route] = {}
    for route in routes:
        key = (route.method, *(s.shape for s in route.segments)) if not route.is_default else (DEFAULT_ROUTE_KEY,)
        other = seen.setdefault(key, route)
        if other is not route:
            raise TemplateError(route.function_id, f"route {route.route_key} ({route.api.logical_id}) clashes "
                                f"with {other.route_key} of {other.function_id} ({other.api.logical_id})")


def build_route_table(template: Template) -> RouteTable:
    catalog = _ApiCatalog(template)
    routes: list[Route] = []
    for function_id, spec in template.functions.items():
        for event in spec.events_of_type(HTTP_API_EVENT, REST_API_EVENT):
            build = _http_api_route if event.type == HTTP_API_EVENT else _rest_api_route
            routes.append(build(catalog, function_id, event))
    _check_conflicts(routes)
    return RouteTable(routes)

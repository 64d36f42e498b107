"""The HTTP API function: every `/api/...` route of the HTTP API (Powertools event handler).

The template routes `ANY /api/{proxy+}` here and the resolver picks the route, so the function is the
same on AWS and under the local gateway (both send payload 2.0 events). Request and response bodies
are pydantic models (models.py), which also make the OpenAPI document served at /api/openapi.json
(Swagger UI at /api/docs; checked in as docs/openapi.json).
"""

from __future__ import annotations

import logging
from functools import cache, lru_cache
from typing import Any

import errors
import pydantic_core
from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response, content_types
from aws_lambda_powertools.event_handler import depends as powertools_depends
from aws_lambda_powertools.event_handler.middlewares.openapi_validation import OpenAPIRequestValidationMiddleware
from aws_lambda_powertools.event_handler.openapi.models import HTTPBearer, OpenAPI, Server
from aws_lambda_powertools.utilities.typing import LambdaContext
from routes import BEARER_SCHEME, CALLER_KEY, MAX_BODY_BYTES, TAKE_KEY, admit, media_type, reads_as_json
from routes import auth as auth_routes
from routes import email as email_routes
from routes import explore as explore_routes
from routes import follows as follow_routes
from routes import interactions as interaction_routes
from routes import media as media_routes
from routes import notifications as notification_routes
from routes import posts as post_routes
from routes import sessions as session_routes
from routes import tags as tag_routes
from routes import timeline as timeline_routes
from routes import users as user_routes
from routes import webhooks as webhook_routes

logger = logging.getLogger(__name__)

API_TITLE = "kafkagram API"
API_VERSION = "0.1.0"


class JsonBodies(OpenAPIRequestValidationMiddleware):
    """Powertools' request validation, reading a route's body only as JSON. Powertools picks a parser by
    a case-sensitive prefix of Content-Type ("APPLICATION/JSON" and text/plain were 500s, form and
    multipart bodies parsed into something else): here the media type is compared case-insensitively,
    an undeclared one counts as JSON (admission has checked the body is JSON), and any other is a 415."""

    def _get_body(self, app: Any) -> dict[str, Any]:
        headers = app.current_event.headers
        if not reads_as_json(headers):
            raise errors.unsupported_media_type(str(media_type(headers)))
        return self._parse_json_data(app)


class Resolver(APIGatewayHttpResolver):
    """The resolver, with an OpenAPI document that tells the truth about validation errors: Powertools
    documents a 422 on every route, but errors.py answers them as 400 with the ErrorBody schema."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        if self._enable_validation:  # Powertools runs this attribute's middleware first on every route
            self._request_validation_middleware = JsonBodies()

    def allowed_methods(self, path: str) -> list[str]:
        """The methods routed for `path`, sorted: the Allow header of a 405 (empty for an unknown path)."""
        routes = self._static_routes + self._dynamic_routes
        return sorted({route.method for route in routes if route.rule.match(path)})

    def get_openapi_schema(self, *args: Any, **kwargs: Any) -> OpenAPI:
        schema = super().get_openapi_schema(*args, **kwargs)
        for item in (schema.paths or {}).values():
            for operation in (item.get, item.put, item.post, item.delete, item.patch, item.head, item.options):
                if operation is not None and operation.responses:
                    operation.responses.pop(422, None)
                    operation.responses.pop("422", None)  # type: ignore[call-overload]
                    if operation.requestBody is not None:
                        _document_body_errors(operation.responses)
        if schema.components is not None and schema.components.schemas:
            for name in ("HTTPValidationError", "ValidationError", "ResponseValidationError"):
                schema.components.schemas.pop(name, None)
        webhook_routes.document_webhooks(schema)
        return schema


# What every route that reads a body may also answer (admission and JsonBodies), beside its own 400.
BODY_ERRORS = {413: f"The body is larger than {MAX_BODY_BYTES} bytes",
               415: "The body is declared as something other than application/json"}


def _document_body_errors(responses: dict[int, Any]) -> None:
    """Add BODY_ERRORS to an operation's responses, shaped as its 400 (an ErrorBody)."""
    bad_request = responses.get(400)
    if bad_request is None:
        return
    for status, description in BODY_ERRORS.items():
        responses.setdefault(status, bad_request.model_copy(update={"description": description}))


def _cache_dependency_inspection() -> None:
    """Powertools rebuilds each route's Depends() tree from its type hints on every request (about 0.1 ms,
    with `Caller` on every authenticated route); the tree depends only on the route function, so build
    it once per function. Overrides (tests) are applied when the tree is solved, not here."""
    build = powertools_depends.build_dependency_tree
    if not hasattr(build, "cache_info"):
        powertools_depends.build_dependency_tree = cache(build)
        hints = powertools_depends.get_type_hints
        powertools_depends.get_type_hints = cache(hints)  # type: ignore[assignment]


def _json(value: Any) -> str:
    """Response bodies to JSON with pydantic-core (Rust): a page of posts in a sixth of the time of
    json.dumps with Powertools' encoder. Non-ASCII text is UTF-8 rather than \\u escapes (the same JSON)."""
    return pydantic_core.to_json(value).decode()


_cache_dependency_inspection()
app = Resolver(enable_validation=True, serializer=_json)
app.configure_openapi(
    title=API_TITLE, version=API_VERSION,
    description="kafkagram: an event-driven photo-sharing network. Errors are `{\"error\": code, "
                "\"message\": text}`; lists are cursor-paginated (`?cursor=&limit=`).",
    servers=[Server(url="/")],
    security_schemes={BEARER_SCHEME: HTTPBearer(bearerFormat="JWT")},
)
app.enable_swagger(path="/api/docs", title=API_TITLE, version=API_VERSION, servers=[Server(url="/")],
                   security_schemes={BEARER_SCHEME: HTTPBearer(bearerFormat="JWT")})
errors.register(app, app.allowed_methods)
app.include_router(auth_routes.router)
app.include_router(email_routes.router)
app.include_router(user_routes.router)
app.include_router(follow_routes.router)
app.include_router(media_routes.router)
app.include_router(post_routes.router)
app.include_router(timeline_routes.router)
app.include_router(interaction_routes.router)
app.include_router(notification_routes.router)
app.include_router(session_routes.router)
app.include_router(explore_routes.router)
app.include_router(webhook_routes.router)
app.include_router(tag_routes.router)


@lru_cache(maxsize=1)
def _openapi_json() -> str:
    return app.get_openapi_json_schema()  # the routes are fixed once imported: build it once per sandbox


@app.get("/api/openapi.json", include_in_schema=False)
def openapi_document() -> Response[str]:
    return Response(status_code=200, content_type=content_types.APPLICATION_JSON, body=_openapi_json())


def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    try:
        admission = admit(event)
    except Exception:
        # Redis unreachable, or a secret refused on AWS: still a JSON answer, not the gateway's bare 500.
        return _unavailable("could not check the request's credentials or rate limit")
    if admission.refused is not None:
        return errors.error_result(admission.refused)
    if admission.caller is not None:
        # Cleared by resolve() when it returns.
        app.append_context(**{CALLER_KEY: admission.caller, TAKE_KEY: admission.deferred})
    result = app.resolve(event, context)
    take = admission.deferred
    if take is not None and take.decision is None:  # the route stopped before its own take: take it now
        try:
            decision = take.settle()
        except Exception:
            return _unavailable("could not check the request's rate limit")
        if not decision.allowed:
            return errors.error_result(errors.too_many_requests(decision.retry_after_s))
    return result


def _unavailable(what: str) -> dict[str, Any]:
    logger.exception(what)
    return errors.error_result(errors.ApiError(503, "unavailable", "the service is unavailable; retry shortly"))

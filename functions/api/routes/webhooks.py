"""The caller's webhook endpoints (kafkagram.webhooks; docs/webhooks.md): list, create (the signing
secret is in that answer only), change kinds or pause, delete, ping, and the last deliveries. Every
route names the caller's own endpoints only: another user's id answers 404, as an unknown one does."""

from __future__ import annotations

from typing import Annotated, Any

import deps
from aws_lambda_powertools.event_handler import Response, content_types
from aws_lambda_powertools.event_handler.openapi.models import OpenAPI, PathItem, Schema
from aws_lambda_powertools.event_handler.openapi.params import Query
from aws_lambda_powertools.event_handler.router import APIGatewayHttpRouter
from models.common import AUTHENTICATED, no_content, responses, success
from models.webhooks import (
    PAYLOADS,
    WEBHOOK_NOT_FOUND,
    CreatedWebhook,
    CreateWebhookRequest,
    DeliveryList,
    DeliveryOut,
    PingOut,
    UpdateWebhookRequest,
    WebhookId,
    WebhookList,
    WebhookOut,
    payload_schemas,
)

from kafkagram import webhooks
from routes import BEARER, Caller

router = APIGatewayHttpRouter()
TAGS = ["webhooks"]
DELIVERIES_MAX = 50


@router.get("/api/me/webhooks", tags=TAGS, summary="The caller's webhook endpoints", security=BEARER,
            responses=responses(success(200, "Oldest first"), AUTHENTICATED))
def list_webhooks(caller: Caller) -> WebhookList:
    return WebhookList(items=[WebhookOut.of(endpoint) for endpoint in
                              deps.read(lambda conn: webhooks.list_endpoints(conn, caller))])


@router.post("/api/me/webhooks", status_code=201, tags=TAGS, summary="Add a webhook endpoint",
             description=f"An https URL (no credentials, public addresses only) and the event kinds to deliver; "
                         f"at most {webhooks.MAX_ENDPOINTS_PER_USER} per account. The answer holds the signing "
                         f"secret, which is never shown again.",
             security=BEARER, responses=responses(success(201, "Created; `secret` is shown this once"), AUTHENTICATED))
def create_webhook(body: CreateWebhookRequest, caller: Caller) -> Response[CreatedWebhook]:
    box, allow_local = webhooks.secret_box(), webhooks.allow_local_webhooks()
    endpoint, secret = deps.write(lambda conn: webhooks.create_endpoint(conn, caller, body.url, body.kinds, box,
                                                                        allow_local=allow_local))
    created = CreatedWebhook(**WebhookOut.of(endpoint).model_dump(), secret=secret)
    return Response(status_code=201, content_type=content_types.APPLICATION_JSON, body=created)


@router.patch("/api/me/webhooks/<webhook_id>", tags=TAGS, summary="Change a webhook's kinds, or pause or resume it",
              security=BEARER, responses=responses(success(200, "OK"), AUTHENTICATED, WEBHOOK_NOT_FOUND))
def update_webhook(webhook_id: WebhookId, body: UpdateWebhookRequest, caller: Caller) -> WebhookOut:
    return WebhookOut.of(deps.write(lambda conn: webhooks.update_endpoint(
        conn, caller, webhook_id, kinds=body.kinds, paused=body.paused)))


@router.delete("/api/me/webhooks/<webhook_id>", status_code=204, tags=TAGS, summary="Remove a webhook endpoint",
               security=BEARER, responses=responses(no_content("Removed, with its deliveries"), AUTHENTICATED,
                                                    WEBHOOK_NOT_FOUND))
def delete_webhook(webhook_id: WebhookId, caller: Caller) -> Response[None]:
    deps.write(lambda conn: webhooks.delete_endpoint(conn, caller, webhook_id))
    return Response(status_code=204)


@router.post("/api/me/webhooks/<webhook_id>/ping", status_code=202, tags=TAGS, summary="Send a ping to a webhook",
             description="A `ping` delivery, through the same path as every event (even to a paused endpoint); "
                         "its result appears in the endpoint's deliveries.",
             security=BEARER, responses=responses(success(202, "Queued"), AUTHENTICATED, WEBHOOK_NOT_FOUND))
def ping_webhook(webhook_id: WebhookId, caller: Caller) -> Response[PingOut]:
    event = deps.write(lambda conn: webhooks.request_ping(conn, caller, webhook_id))
    return Response(status_code=202, content_type=content_types.APPLICATION_JSON, body=PingOut(event_id=event.id))


@router.get("/api/me/webhooks/<webhook_id>/deliveries", tags=TAGS, summary="A webhook's last deliveries",
            description="Newest first, each with every attempt: status code, duration and error.",
            security=BEARER, responses=responses(success(200, "OK"), AUTHENTICATED, WEBHOOK_NOT_FOUND))
def list_deliveries(webhook_id: WebhookId, caller: Caller,
                    limit: Annotated[int | None, Query(ge=1, le=DELIVERIES_MAX,
                                                       description="how many (default 20)")] = None) -> DeliveryList:
    found = deps.read(lambda conn: webhooks.recent_deliveries(conn, caller, webhook_id, limit or 20))
    return DeliveryList(items=[DeliveryOut.of(delivery) for delivery in found])


def document_webhooks(schema: OpenAPI) -> None:
    """The OpenAPI 3.1 `webhooks` section: what kafkagram POSTs to an endpoint, per kind."""
    operations: dict[str, Any] = {}
    for kind, (model, summary) in PAYLOADS.items():
        operations[kind] = {"post": {
            "summary": summary,
            "description": "Signed: `X-Kafkagram-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of "
                           "\"<t>.<body>\" keyed with the endpoint's secret>` (docs/webhooks.md); "
                           "`X-Kafkagram-Delivery` is the delivery id, `X-Kafkagram-Event` the kind.",
            "parameters": [
                {"name": webhooks.SIGNATURE_HEADER, "in": "header", "required": True, "schema": {"type": "string"}},
                {"name": webhooks.DELIVERY_HEADER, "in": "header", "required": True,
                 "schema": {"type": "string", "format": "uuid"}},
                {"name": webhooks.EVENT_HEADER, "in": "header", "required": True,
                 "schema": {"type": "string", "enum": [kind]}},
            ],
            "requestBody": {"required": True, "content": {"application/json": {
                "schema": {"$ref": f"#/components/schemas/{model.__name__}"}}}},
            "responses": {200: {"description": "Delivered (any 2xx); any other answer, or none within "
                                              f"{webhooks.TIMEOUT_S:g} s, is retried"}},
        }}
    schema.webhooks = {kind: PathItem.model_validate(item) for kind, item in operations.items()}
    if schema.components is not None:
        schema.components.schemas = {**(schema.components.schemas or {}),
                                     **{name: Schema.model_validate(document)
                                        for name, document in payload_schemas().items()}}

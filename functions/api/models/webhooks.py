"""Webhooks: the caller's endpoints, their deliveries, and the payloads receivers get (the OpenAPI
document's `webhooks` section; docs/webhooks.md)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, Field
from pydantic.json_schema import JsonDict

from kafkagram import webhooks
from kafkagram.events.catalog import ID_PATTERN
from kafkagram.webhooks import Kind
from models.common import Request, _path_id, error

WEBHOOK_NOT_FOUND = error(404, "No such webhook endpoint of the caller's")
WebhookId = _path_id("webhook")
KIND_FIELD = Field(min_length=1, max_length=len(webhooks.KINDS),
                   description="the event kinds to deliver: " + ", ".join(webhooks.KINDS))


class CreateWebhookRequest(Request):
    url: str = Field(min_length=9, max_length=webhooks.URL_MAX_LENGTH,
                     description="https URL without credentials; its host must resolve to public addresses only")
    kinds: list[Kind] = KIND_FIELD


class UpdateWebhookRequest(Request):
    kinds: list[Kind] | None = Field(default=None, min_length=1, max_length=len(webhooks.KINDS),
                                     description="new event kinds; omit to keep them")
    paused: bool | None = Field(default=None, description="true pauses deliveries (pings still go); omit to keep")


class WebhookOut(BaseModel):
    id: str
    url: str
    kinds: list[str]
    paused: bool
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, endpoint: webhooks.Endpoint) -> WebhookOut:
        return cls(id=str(endpoint.id), url=endpoint.url, kinds=endpoint.kinds, paused=endpoint.paused,
                   created_at=endpoint.created_at, updated_at=endpoint.updated_at)


class CreatedWebhook(WebhookOut):
    secret: str = Field(description="signs every delivery (X-Kafkagram-Signature); shown this once only")


class WebhookList(BaseModel):
    items: list[WebhookOut]


class PingOut(BaseModel):
    event_id: str = Field(description="the webhook-ping event; its delivery appears in the endpoint's deliveries")


class AttemptOut(BaseModel):
    attempt: int
    attempted_at: datetime
    status_code: int | None = Field(description="the endpoint's HTTP status; null when there was no answer")
    duration_ms: int
    error: str | None = Field(description="why it failed (timeout, refused address, HTTP 500...), null on 2xx")


class DeliveryOut(BaseModel):
    id: str = Field(description="the X-Kafkagram-Delivery header (and the payload's id)")
    event_id: str
    kind: str
    state: Literal["pending", "delivered", "failed"]
    created_at: datetime
    attempts: list[AttemptOut]

    @classmethod
    def of(cls, delivery: webhooks.Delivery) -> DeliveryOut:
        return cls(id=delivery.id, event_id=delivery.event_id, kind=delivery.kind,
                   state=delivery.state,  # type: ignore[arg-type]
                   created_at=delivery.created_at,
                   attempts=[AttemptOut(attempt=a.attempt, attempted_at=a.attempted_at, status_code=a.status_code,
                                        duration_ms=a.duration_ms, error=a.error) for a in delivery.attempts])


class DeliveryList(BaseModel):
    items: list[DeliveryOut] = Field(description="the last deliveries, newest first")


# --- what receivers get ----------------------------------------------------------------------------------

_ID: JsonDict = {"pattern": ID_PATTERN}


class _Payload(BaseModel):
    id: str = Field(description="the delivery id (also X-Kafkagram-Delivery): the same on every retry")
    created_at: str = Field(description="when the event happened, ISO 8601 UTC")
    event_id: str = Field(description="the kafkagram event behind it")


class FollowData(BaseModel):
    follower_id: str = Field(json_schema_extra=_ID, description="who started following you")


class LikeData(BaseModel):
    post_id: str = Field(json_schema_extra=_ID)
    user_id: str = Field(json_schema_extra=_ID, description="who liked your post")


class CommentData(BaseModel):
    post_id: str = Field(json_schema_extra=_ID)
    comment_id: str = Field(json_schema_extra=_ID)
    user_id: str = Field(json_schema_extra=_ID, description="the comment's author")
    text: str


class MentionData(BaseModel):
    post_id: str = Field(json_schema_extra=_ID)
    comment_id: str | None = Field(description="the comment that mentions you; null for a caption")
    user_id: str = Field(json_schema_extra=_ID, description="who mentioned you")
    text: str = Field(description="the caption or comment")


class PostPublishedData(BaseModel):
    post_id: str = Field(json_schema_extra=_ID)
    caption: str


class PingData(BaseModel):
    endpoint_id: str = Field(json_schema_extra=_ID)


class FollowPayload(_Payload):
    type: Literal["follow"]
    data: FollowData


class LikePayload(_Payload):
    type: Literal["like"]
    data: LikeData


class CommentPayload(_Payload):
    type: Literal["comment"]
    data: CommentData


class MentionPayload(_Payload):
    type: Literal["mention"]
    data: MentionData


class PostPublishedPayload(_Payload):
    type: Literal["post-published"]
    data: PostPublishedData


class PingPayload(_Payload):
    type: Literal["ping"]
    data: PingData


PAYLOADS: dict[str, tuple[type[BaseModel], str]] = {
    "follow": (FollowPayload, "Someone started following you"),
    "like": (LikePayload, "Someone liked your post"),
    "comment": (CommentPayload, "Someone commented on your post"),
    "mention": (MentionPayload, "Someone mentioned you in a caption or a comment"),
    "post-published": (PostPublishedPayload, "Your post was published (its media processed)"),
    "ping": (PingPayload, "A test delivery (POST /api/me/webhooks/{id}/ping)"),
}


def payload_schemas() -> dict[str, Any]:
    """JSON Schemas of every payload and what they refer to, as OpenAPI components."""
    schemas: dict[str, Any] = {}
    for model, _ in PAYLOADS.values():
        document = model.model_json_schema(ref_template="#/components/schemas/{model}")
        schemas.update(document.pop("$defs", {}))
        schemas[model.__name__] = document
    return schemas

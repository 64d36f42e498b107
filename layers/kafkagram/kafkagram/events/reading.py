"""Reading events: the one way a consumer turns an event's `data` into typed fields.

Each model below is a consumer's view of one event type's `data` (or of several types that share a
shape): only the fields kafkagram's own consumers read, ids as ints (they travel as strings), unknown
fields ignored, as the catalogue asks of consumers. `read_data` checks the type and its version before
reading, so a newer version with a breaking change is never misread:

    data = read_data(event, PostCreated)    # UnexpectedEvent if it is anything else
    feeds.fan_out(conn, data.post_id, data.author_id)

`tests/unit/layer/test_events.py` checks that every field here is in the catalogue's schema of its types.
"""

from __future__ import annotations

from typing import ClassVar, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, ValidationError

from kafkagram.events import catalog
from kafkagram.events.envelope import Event

M = TypeVar("M", bound="EventData")


class UnexpectedEvent(ValueError):
    """A record this consumer cannot read: not an event, another type, another version, or data without
    the fields it needs. No retry changes that: after the event source mapping's retries it lands on the
    failure topic, where it can be inspected."""

    def __init__(self, message: str, event_id: str | None = None) -> None:
        super().__init__(message)
        self.event_id = event_id  # the event it is about: the batch runner diverts that record (kafkagram.poison)


class EventData(BaseModel):
    """Base of the models: TYPES names the event types whose `data` the model reads, VERSION the version
    it reads (None: the current one)."""

    TYPES: ClassVar[tuple[str, ...]]
    VERSION: ClassVar[int | None] = None
    model_config = ConfigDict(frozen=True, extra="ignore")


def read_data(event: Event, model: type[M]) -> M:
    """`event.data` as `model`; UnexpectedEvent when the event is not one of its types at the version it
    reads, or lacks a field it needs."""
    if event.type not in model.TYPES:
        raise UnexpectedEvent(f"{model.__name__} reads {' or '.join(model.TYPES)} events, "
                              f"not {event.type} (event {event.id})", event.id)
    expected = model.VERSION or catalog.spec_for(event.type).version
    if event.version != expected:  # a breaking change bumps the version: never misread a newer one
        raise UnexpectedEvent(f"{event.type} event {event.id} has version {event.version}; "
                              f"this consumer reads version {expected}", event.id)
    try:
        return model.model_validate(event.data)
    except ValidationError as error:
        raise UnexpectedEvent(f"{event.type} event {event.id} has unusable data: {error}", event.id) from None


# --- media-events -------------------------------------------------------------------------------------

class MediaUploaded(EventData):
    """Only the id: the processor reads the object its media row names, never the event's key."""

    TYPES = (catalog.MEDIA_UPLOADED,)
    media_id: int


class MediaProcessed(EventData):
    TYPES = (catalog.MEDIA_PROCESSED,)
    media_id: int
    owner_id: int
    purpose: Literal["post", "avatar"]


class MediaFailed(EventData):
    TYPES = (catalog.MEDIA_FAILED,)
    media_id: int
    purpose: Literal["post", "avatar"]
    reason: str


# --- post-events --------------------------------------------------------------------------------------

class PostCreated(EventData):
    TYPES = (catalog.POST_CREATED,)
    post_id: int
    author_id: int
    mentioned_user_ids: list[int]


class PostDeleted(EventData):
    TYPES = (catalog.POST_DELETED,)
    post_id: int
    author_id: int


# --- user-events --------------------------------------------------------------------------------------

class Follow(EventData):
    TYPES = (catalog.USER_FOLLOWED, catalog.USER_UNFOLLOWED)
    follower_id: int
    followee_id: int


# --- interaction-events -------------------------------------------------------------------------------

class LikeGiven(EventData):
    TYPES = (catalog.LIKE_GIVEN,)
    post_id: int
    post_author_id: int
    user_id: int


class CommentAdded(EventData):
    TYPES = (catalog.COMMENT_ADDED,)
    comment_id: int
    post_id: int
    post_author_id: int
    user_id: int
    text: str
    mentioned_user_ids: list[int]


class PostInteraction(EventData):
    """Any change to a post's likes or comments: only which post (live post stats)."""

    TYPES = (catalog.LIKE_GIVEN, catalog.LIKE_REMOVED, catalog.COMMENT_ADDED, catalog.COMMENT_DELETED)
    post_id: int


# --- timeline-events and notification-events ----------------------------------------------------------

class NotificationCreated(EventData):
    TYPES = (catalog.NOTIFICATION_CREATED,)
    notification_id: int
    user_id: int
    kind: str


class TimelineUpdated(EventData):
    TYPES = (catalog.TIMELINE_UPDATED,)
    recipient_ids: list[int]
    action: str
    post_ids: list[int]
    author_id: int


class TimelineUpdatedV1(EventData):
    """The retired version: one recipient per event (records written before version 2 may remain)."""

    TYPES = (catalog.TIMELINE_UPDATED,)
    VERSION = 1
    user_id: int

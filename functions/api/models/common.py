"""What every route shares: the request base, ids, paging parameters and the documented errors.

Requests forbid unknown fields, so a typo ("displayname") is a 400 naming it rather than a silent
no-op; lengths and patterns repeat the store's rules so the client gets them in the schema too (the
store still checks: it is the authority).

Ids are strings on the wire: they are 64-bit, beyond the integers JavaScript represents exactly. The
pattern allows 19 digits, more than PostgreSQL's bigint holds, so every id is parsed here, once:
`Id` in a body answers 400 past 2^63 - 1; a path id (`PostId`...) answers the resource's 404, since a
well-formed id that is too large names nothing.

No text may hold U+0000 (PostgreSQL's text refuses it, which would otherwise be a 500): every string
field of a `Request` body is checked by its base class, and string path and query parameters use
`Text` (new ones must too: tests/unit/api/test_api_text.py walks every route's parameters).
"""

from __future__ import annotations

import re
from typing import Annotated, Any

from aws_lambda_powertools.event_handler.openapi.params import Path, Query
from aws_lambda_powertools.event_handler.openapi.types import OpenAPIResponse
from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, WithJsonSchema, field_validator
from pydantic_core import PydanticCustomError

from kafkagram.events.catalog import ID_PATTERN
from kafkagram.store import NotFound
from kafkagram.store.pagination import MAX_ID, MAX_PAGE_SIZE

USERNAME_MAX_LENGTH = 30
CURSOR_MAX_LENGTH = 64
_ID = re.compile(ID_PATTERN)
_ID_SCHEMA = WithJsonSchema({"type": "string", "pattern": ID_PATTERN})


# --- text -----------------------------------------------------------------------------------------------

def refuse_nul(value: Any) -> Any:
    """`value` unchanged, unless it is (or a list or dict holds) a string with U+0000: a 400 naming the field."""
    if isinstance(value, str):
        if "\x00" in value:
            raise PydanticCustomError("nul_character", "must not contain the NUL character (U+0000)")
    elif isinstance(value, list | tuple):
        for item in value:
            refuse_nul(item)
    elif isinstance(value, dict):
        for item in value.values():
            refuse_nul(item)
    return value


Text = Annotated[str, AfterValidator(refuse_nul)]


class Request(BaseModel):
    """A request body: unknown fields refused, and no string field may hold U+0000 (every subclass's
    fields, so a new model needs nothing of its own)."""

    model_config = ConfigDict(extra="forbid")

    @field_validator("*", mode="after")
    @classmethod
    def _refuse_nul(cls, value: Any) -> Any:
        return refuse_nul(value)


# --- ids ------------------------------------------------------------------------------------------------

def _parse_id(value: Any, resource: str | None = None) -> int:
    if not isinstance(value, str) or not _ID.match(value):
        raise PydanticCustomError("id", "an id is 1 to 19 digits without a leading zero, as a string")
    number = int(value)
    if number > MAX_ID:
        if resource is not None:
            raise NotFound(f"{resource}-not-found", f"no such {resource}")
        raise PydanticCustomError("id", f"no id is larger than {MAX_ID}")
    return number


Id = Annotated[int, BeforeValidator(lambda value: _parse_id(value)), _ID_SCHEMA]


def _path_id(resource: str) -> Any:
    return Annotated[int, BeforeValidator(lambda value: _parse_id(value, resource)), _ID_SCHEMA,
                     Path(description=f"the {resource}'s id")]


PostId = _path_id("post")
MediaId = _path_id("media")
CommentId = _path_id("comment")
Username = Annotated[Text, Path(min_length=1, max_length=USERNAME_MAX_LENGTH, description="username")]


# --- paging -----------------------------------------------------------------------------------------------

Cursor = Annotated[Text | None, Query(max_length=CURSOR_MAX_LENGTH,
                                     description="next_cursor of the previous page; omit for the first")]
Limit = Annotated[int | None, Query(ge=1, le=MAX_PAGE_SIZE, description="page size (default 20)")]


def next_cursor_field() -> Any:
    return Field(description="pass as `cursor` for the next page; null on the last page")


# --- documented responses ---------------------------------------------------------------------------------

class ErrorBody(BaseModel):
    error: str = Field(description="stable machine-readable code, e.g. `username-taken`")
    message: str = Field(description="human-readable explanation")


def error(status: int, description: str) -> dict[int, Any]:
    """A documented error response (its body is an ErrorBody)."""
    return {status: {"description": description, "content": {"application/json": {"model": ErrorBody}}}}


def success(status: int, description: str) -> dict[int, Any]:
    """A success response; Powertools fills in the schema from the route's return annotation."""
    return {status: {"description": description}}


def no_content(description: str) -> dict[int, Any]:
    return {204: {"description": description, "content": {}}}


def responses(*groups: dict[int, Any]) -> dict[int, OpenAPIResponse]:
    """A route's documented responses, from the groups above."""
    merged: dict[int, Any] = {}
    for group in groups:
        merged.update(group)
    return merged


BAD_REQUEST = error(400, "Invalid input (the message names the field)")
UNAUTHORIZED = error(401, "Missing, invalid or expired credentials")
RATE_LIMITED = error(429, "Rate limit reached; see the Retry-After header")
AUTHENTICATED = {**BAD_REQUEST, **UNAUTHORIZED, **RATE_LIMITED}

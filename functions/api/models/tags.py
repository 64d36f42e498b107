"""The hashtag path parameter: the caption parser's rule (kafkagram.store.tags), answered as a 400
naming `tag` rather than an empty list."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import unquote

from aws_lambda_powertools.event_handler.openapi.params import Path
from pydantic import AfterValidator
from pydantic_core import PydanticCustomError

from kafkagram.events.catalog import HASHTAG_MAX_LENGTH
from kafkagram.store import Invalid
from kafkagram.store.tags import normalize_hashtag
from models.common import Text


def _hashtag(value: str) -> str:
    # Powertools takes path parameters from the raw (percent-encoded) path: /api/tags/caf%C3%A9/posts
    # reaches here as "caf%C3%A9". Decoding an already decoded tag changes nothing: no tag holds a "%".
    try:
        return normalize_hashtag(unquote(value, errors="strict"))
    except (Invalid, UnicodeDecodeError):
        raise PydanticCustomError("hashtag", f"a hashtag is 1 to {HASHTAG_MAX_LENGTH} letters, digits or "
                                             "underscores, without the #") from None


# No max_length here: it would count the percent-encoded form; the parser's rule bounds the tag.
Hashtag = Annotated[Text, AfterValidator(_hashtag), Path(
    min_length=1, description=f"the hashtag without '#': 1 to {HASHTAG_MAX_LENGTH} letters, digits or underscores, "
                              "any case (tags are stored lowercase)")]

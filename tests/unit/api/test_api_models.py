"""The API's request models: one id type for every path and body id, safe up to PostgreSQL's bigint,
and the upload rules the layer enforces, documented in the schema."""

from __future__ import annotations

import importlib
from types import ModuleType
from typing import get_args

import pytest
from pydantic import TypeAdapter, ValidationError

from kafkagram.store import NotFound
from kafkagram.store.media import UPLOAD_CONTENT_TYPES
from kafkagram.store.pagination import MAX_ID
from tests.support.api import API_DIR


def api_module(name: str) -> ModuleType:
    """One of the function's modules (top-level in its CodeUri, which tests.support.api puts on sys.path)."""
    assert API_DIR.is_dir()
    return importlib.import_module(name)


def test_body_ids_are_bigints_written_as_strings():
    ids = TypeAdapter(list[api_module("models.common").Id])
    assert ids.validate_python(["1", str(MAX_ID)]) == [1, MAX_ID]
    for bad in ("0", "01", "-1", "abc", str(MAX_ID + 1)):
        with pytest.raises(ValidationError):
            ids.validate_python([bad])
    with pytest.raises(ValidationError):
        ids.validate_python([1])  # a JSON number loses precision in JavaScript: ids are strings


def test_a_path_id_past_bigint_names_nothing():
    post_id = TypeAdapter(api_module("models.common").PostId)
    assert post_id.validate_python("42") == 42
    with pytest.raises(NotFound) as missing:
        post_id.validate_python(str(MAX_ID + 1))
    assert missing.value.code == "post-not-found"
    with pytest.raises(ValidationError):
        post_id.validate_python("4x2")


def test_the_documented_content_types_are_the_layers_upload_rules():
    assert get_args(api_module("models.media").UploadContentType) == UPLOAD_CONTENT_TYPES

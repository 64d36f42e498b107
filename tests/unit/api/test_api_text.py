"""No text reaches PostgreSQL with U+0000 in it (PostgreSQL refuses it: a 500): every string parameter of
every route, and every request body, refuses it with a validation error naming the field. Walking the
routes makes a new parameter or body that forgets it fail here."""

from __future__ import annotations

import importlib
import types
from typing import Annotated, Any, Union, get_args, get_origin

import pytest
from pydantic import BaseModel, ValidationError

from tests.support.api import API_DIR

NUL_TEXT = "a\u0000b"


def _app() -> Any:
    assert API_DIR.is_dir()
    return importlib.import_module("app").app


def _routes() -> list[Any]:
    app = _app()
    return [route for route in app._static_routes + app._dynamic_routes if route.include_in_schema]


def _is_text(annotation: Any) -> bool:
    if annotation is str:
        return True
    if get_origin(annotation) is Annotated:
        return _is_text(get_args(annotation)[0])
    if get_origin(annotation) in (Union, types.UnionType):
        return any(_is_text(arg) for arg in get_args(annotation))
    return False


def _text_parameters() -> list[tuple[str, Any]]:
    return [(f"{route.method} {route.path} {field.name}", field) for route in _routes()
            for field in route.dependant.path_params + route.dependant.query_params if _is_text(field.type_)]


def test_the_routes_have_text_parameters_to_check():
    names = {name.rsplit(" ", 1)[1] for name, _ in _text_parameters()}
    assert {"username", "cursor", "prefix"} <= names


@pytest.mark.parametrize(("name", "field"), _text_parameters(), ids=lambda value: value if isinstance(value, str)
                         else "")
def test_every_text_parameter_refuses_nul(name: str, field: Any) -> None:
    value, problems = field.validate(NUL_TEXT, loc=("query", field.name))
    assert value is None and problems, f"{name} accepts U+0000"
    assert any("U+0000" in problem["msg"] or problem["type"] == "string_pattern_mismatch" for problem in problems)


def test_every_request_body_refuses_nul_in_any_text_field():
    request = importlib.import_module("models.common").Request
    bodies = {field.type_ for route in _routes() for field in route.dependant.body_params}
    assert bodies, "no route takes a body?"
    for body in bodies:
        assert isinstance(body, type) and issubclass(body, BaseModel)
        assert issubclass(body, request), f"{body.__name__} is not a models.common.Request: NUL is not refused"
    with pytest.raises(ValidationError) as refused:
        importlib.import_module("models.posts").CreatePostRequest.model_validate(
            {"caption": NUL_TEXT, "media_ids": ["1"]})
    [problem] = refused.value.errors()
    assert problem["loc"] == ("caption",) and "U+0000" in problem["msg"]

"""The OpenAPI document: generated from the code, checked in without drift, and honest about every
operation's success and error responses."""

from __future__ import annotations

import json

from kafkagram_local import openapi


def test_checked_in_document_matches_the_code():
    assert openapi.DOCUMENT.read_text() == openapi.render(), (
        "docs/openapi.json is out of date: run `.venv/bin/python -m kafkagram_local.openapi` and commit it")
    assert openapi.main(["--check"]) == 0


def test_every_operation_documents_its_success_and_json_errors():
    document = json.loads(openapi.render())
    assert document["openapi"].startswith("3.")
    schemas = document["components"]["schemas"]
    assert "HTTPValidationError" not in schemas  # validation errors are 400 ErrorBody here, never 422
    operations = [(path, method, op) for path, item in document["paths"].items() for method, op in item.items()]
    assert {f"{method.upper()} {path}" for path, method, _ in operations} >= {
        "POST /api/auth/register", "POST /api/auth/login", "POST /api/auth/refresh", "POST /api/auth/logout",
        "GET /api/me", "PATCH /api/me", "GET /api/users", "GET /api/users/{username}",
        "GET /api/users/{username}/followers", "GET /api/users/{username}/following",
        "PUT /api/users/{username}/follow", "DELETE /api/users/{username}/follow"}
    for path, method, operation in operations:
        codes = set(operation["responses"])
        assert codes & {"200", "201", "202", "204"}, f"{method} {path} documents no success"
        assert "422" not in codes and "400" in codes
        for code in codes - {"200", "201", "202", "204"}:
            schema = operation["responses"][code]["content"]["application/json"]["schema"]
            assert schema == {"$ref": "#/components/schemas/ErrorBody"}
        authenticated = not path.startswith("/api/auth/")
        assert (operation.get("security") == [{"bearerAuth": []}]) is authenticated, f"{method} {path}"
        assert ("401" in codes) is (authenticated or path in ("/api/auth/login", "/api/auth/refresh"))
        if "requestBody" in operation:
            ref = operation["requestBody"]["content"]["application/json"]["schema"]["$ref"]
            assert schemas[ref.rsplit("/", 1)[1]].get("additionalProperties") is False

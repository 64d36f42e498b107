"""The OpenAPI document and Swagger UI as the running API serves them."""

from __future__ import annotations

import json

from kafkagram_local import openapi


def test_document_is_served_and_swagger_ui_too(gateway):
    served = gateway.request("GET", "/api/openapi.json")
    assert served.status == 200 and served.headers["content-type"].startswith("application/json")
    assert served.json() == json.loads(openapi.DOCUMENT.read_text())
    docs = gateway.request("GET", "/api/docs")
    assert docs.status == 200 and docs.headers["content-type"].startswith("text/html")
    assert b"swagger" in docs.body.lower()

"""Issue 12's fuzz run: Schemathesis (its engine, as `schemathesis run` drives it) sends every operation
of the OpenAPI document its examples, its coverage cases (boundaries, wrong types, missing fields,
unsupported content types, undocumented methods) and generated valid and invalid requests, with and
without a bearer token, to the API function in-process (tests/support/lambda_wsgi.py: the local
gateway's event, real PostgreSQL, Redis and S3 emulator). No answer may be a 5xx, a status the
document does not list for the operation, or a body its schema does not allow.

Bounded: FUZZ_EXAMPLES generated examples per operation (env KAFKAGRAM_FUZZ_EXAMPLES; `make fuzz`
runs more). Each run prints its figures: requests made and the statuses seen.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from typing import Any

import pytest
import redis
import schemathesis
from schemathesis import engine
from schemathesis.engine import Status, events

from emulator.template import Template
from kafkagram.auth.ratelimit import READS_PER_USER, WRITES_PER_USER
from kafkagram_local import openapi
from tests.support.api import Account, DirectClient, register, reset_bucket
from tests.support.lambda_wsgi import LambdaWsgi
from tests.support.uploads import BUCKET, s3_environment

FUZZ_EXAMPLES = int(os.environ.get("KAFKAGRAM_FUZZ_EXAMPLES", "10"))
CHECKS = ["not_a_server_error", "response_schema_conformance", "status_code_conformance"]
PHASES = ["examples", "coverage", "fuzzing"]
# Operations that would end the fuzzing user's own access partway through the run (every later case
# a 401): fuzzed without a token only.
SESSION_ENDING = ("DELETE /api/me/sessions", "POST /api/me/password")


@pytest.fixture
def environment(_direct_environment: None, s3_endpoint: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The environment a sandbox gets locally (the S3 emulator's endpoint too: POST /api/media signs a form)."""
    import deps

    for name, value in s3_environment(s3_endpoint, BUCKET).items():
        monkeypatch.setenv(name, value)
    deps.reset()
    yield
    monkeypatch.undo()
    deps.reset()


@pytest.fixture
def fuzzer(environment: None, direct: DirectClient) -> Account:
    return register(direct)


def test_fuzz_with_a_bearer_token(environment: None, api_template: Template, fuzzer: Account,
                                  redis_client: redis.Redis) -> None:
    def refill() -> None:  # the fuzzing user's rate-limit buckets, so each request reaches its route
        for rule in (READS_PER_USER, WRITES_PER_USER):
            reset_bucket(redis_client, rule, int(fuzzer.id))

    wsgi = LambdaWsgi(api_template, before_request=refill)
    failures = _fuzz(wsgi, {"Authorization": f"Bearer {fuzzer.access_token}"}, exclude=SESSION_ENDING)
    _report(wsgi, "with a token")
    assert not failures, "\n\n".join(failures)


def test_fuzz_without_a_token(environment: None, api_template: Template) -> None:
    wsgi = LambdaWsgi(api_template)
    failures = _fuzz(wsgi, {})
    _report(wsgi, "without a token")
    assert not failures, "\n\n".join(failures)


def _schema(wsgi: LambdaWsgi, headers: dict[str, str], exclude: tuple[str, ...]) -> Any:
    # The document the function serves, which docs/openapi.json must equal (tests/unit/api/test_openapi_document.py).
    schema = schemathesis.openapi.from_dict(json.loads(openapi.render()))
    schema.app = wsgi
    schema.config.update(base_url="http://127.0.0.1:3000", headers=headers, continue_on_failure=True)
    # Our own Authorization header or none: generated credentials would only ever be refused.
    schema.config.generation.update(max_examples=FUZZ_EXAMPLES, with_security_parameters=False, database="none")
    schema.config.phases.update(phases=PHASES)
    schema.config.checks.update(included_check_names=CHECKS)
    return schema.exclude(name=list(exclude)) if exclude else schema


def _fuzz(wsgi: LambdaWsgi, headers: dict[str, str], exclude: tuple[str, ...] = ()) -> list[str]:
    """Run the engine over every operation; each distinct failure, with a command reproducing it."""
    failures: dict[tuple[str, str], str] = {}
    for event in engine.from_schema(_schema(wsgi, headers, exclude)).execute():
        if isinstance(event, events.FatalError | events.NonFatalError):
            failures[("error", str(event))] = f"Schemathesis could not run: {_error_text(event)}"
        elif isinstance(event, events.ScenarioFinished):
            failures.update(_failed_checks(event.recorder))
    return list(failures.values())


def _failed_checks(recorder: Any) -> dict[tuple[str, str], str]:
    found = {}
    for checks in recorder.checks.values():
        for check in checks:
            if check.status == Status.FAILURE and check.failure_info is not None:
                title = check.failure_info.failure.title
                found[(recorder.label, title)] = (f"{recorder.label}: {title} ({check.name})\n"
                                                  f"{check.failure_info.code_sample}")
    return found


def _error_text(event: Any) -> str:
    error = getattr(event, "info", None) or getattr(event, "exception", None)
    return str(getattr(error, "message", None) or error)


def _report(wsgi: LambdaWsgi, label: str) -> None:
    statuses = ", ".join(f"{status}: {count}" for status, count in sorted(wsgi.statuses.items()))
    print(f"\nfuzz {label}: {wsgi.requests} requests reached the API function ({statuses})")


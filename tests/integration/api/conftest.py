"""Fixtures of the API tests: the API function behind the template's gateway (`gateway`) or called
in-process (`direct`); both clients are in tests/support/api.py."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from emulator.http.gateway import HttpApiGateway
from emulator.sandbox import FunctionPool
from emulator.template import Template, parse_template
from tests.support.api import FUNCTION_ID, DirectClient, ServedGateway
from tests.support.repo import TEMPLATE
from tests.support.services import REDIS_TEST_URL


@pytest.fixture(scope="session")
def api_template(database_url: str) -> Template:
    return parse_template(TEMPLATE, {"DatabaseUrl": database_url, "RedisUrl": REDIS_TEST_URL})


@pytest.fixture(scope="session")
def gateway(api_template: Template) -> Iterator[ServedGateway]:
    pool = FunctionPool(api_template.functions[FUNCTION_ID], region=api_template.region, max_workers=2)
    pool.warm(1)
    served = ServedGateway(HttpApiGateway(api_template, {FUNCTION_ID: pool}))
    served.start()
    yield served
    served.stop()
    pool.close()


@pytest.fixture(scope="session")
def _direct_environment(database_url: str) -> Iterator[None]:
    """The environment the template gives the function, for the in-process handler."""
    import deps

    wanted = {"DATABASE_URL": database_url, "REDIS_URL": REDIS_TEST_URL}
    saved = {name: os.environ.get(name) for name in wanted}
    os.environ.update(wanted)
    deps.reset()
    yield
    for name, value in saved.items():
        if value is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = value
    deps.reset()


@pytest.fixture
def direct(_direct_environment: None, api_template: Template) -> DirectClient:
    return DirectClient(api_template)  # a fresh client IP per test: its own auth rate-limit bucket



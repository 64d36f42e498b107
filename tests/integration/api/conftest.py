"""Fixtures of the API tests: the API function behind the template's gateway (`gateway`) or called
in-process (`direct`); both clients are in tests/support/api.py."""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import pg8000.native
import pytest
import redis
from redis.client import Pipeline

from emulator.http.gateway import HttpApiGateway
from emulator.sandbox import FunctionPool
from emulator.template import Template, parse_template
from kafkagram.timeline import FeedManager
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


@pytest.fixture
def feeds(redis_client: redis.Redis) -> FeedManager:
    return FeedManager(redis_client)  # the API's keys (no prefix); every test has its own users


@pytest.fixture
def round_trips(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every Redis round trip of any client while the test runs: a command, or a whole pipeline."""
    seen: list[str] = []
    command, execute = redis.Redis.execute_command, Pipeline.execute

    def counted_command(self: redis.Redis, *args: Any, **options: Any) -> Any:
        seen.append(str(args[0]))
        return command(self, *args, **options)

    def counted_pipeline(self: Pipeline, raise_on_error: bool = True) -> Any:
        seen.append(f"pipeline of {len(self.command_stack)}")
        return execute(self, raise_on_error)

    monkeypatch.setattr(redis.Redis, "execute_command", counted_command)
    monkeypatch.setattr(Pipeline, "execute", counted_pipeline)
    return seen


@pytest.fixture
def statements(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every SQL statement run on any pg8000 connection while the test runs, prepared ones too."""
    seen: list[str] = []
    run, run_prepared = pg8000.native.Connection.run, pg8000.native.PreparedStatement.run

    def counted_run(self: pg8000.native.Connection, sql: str, *args: Any, **kwargs: Any) -> Any:
        seen.append(sql)
        return run(self, sql, *args, **kwargs)

    def counted_prepared(self: pg8000.native.PreparedStatement, *args: Any, **kwargs: Any) -> Any:
        seen.append(self.statement)
        return run_prepared(self, *args, **kwargs)

    monkeypatch.setattr(pg8000.native.Connection, "run", counted_run)
    monkeypatch.setattr(pg8000.native.PreparedStatement, "run", counted_prepared)
    return seen

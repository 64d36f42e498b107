"""Settings resolve Secrets Manager ARNs against moto's Secrets Manager, our AWS emulator,
on a free port (AWS_ENDPOINT_URL_SECRETS_MANAGER, as boto3 reads it): both secret forms, and the URLs
built from them really connect (PostgreSQL as the secret's user, Redis with an ACL user's password)."""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import Iterator
from typing import Any
from urllib.parse import unquote, urlsplit

import boto3
import pytest
import redis
from aws_lambda_powertools.utilities import parameters
from aws_lambda_powertools.utilities.parameters import base as parameters_base
from moto.server import ThreadedMotoServer

from kafkagram.aws_secrets import SecretError
from kafkagram.config import LOCAL_SMTP_SINK_URL, Settings
from kafkagram.db import connect
from tests.support.services import POSTGRES_SERVER_URL, REDIS_TEST_URL, free_port

# Awkward on purpose: every character that must be quoted in a URL's userinfo.
PASSWORD = "p@ss:w/rd?#%+ é"
SECRET_VARIABLES = ("DATABASE_SECRET_ARN", "REDIS_SECRET_ARN", "SMTP_SECRET_ARN", "AUTH_TOKEN_SECRET_ARN")


@pytest.fixture(scope="module")
def secrets_endpoint() -> Iterator[str]:
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=free_port(), verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


@pytest.fixture
def aws(secrets_endpoint: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """A function's AWS environment pointed at the emulator; yields a Secrets Manager client."""
    for name, value in {"AWS_ENDPOINT_URL_SECRETS_MANAGER": secrets_endpoint, "AWS_ACCESS_KEY_ID": "test",
                        "AWS_SECRET_ACCESS_KEY": "test", "AWS_DEFAULT_REGION": "eu-west-1"}.items():
        monkeypatch.setenv(name, value)
    for name in SECRET_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    # Powertools keeps one provider (and its boto3 client) per process: start from none, as a new sandbox.
    parameters_base.DEFAULT_PROVIDERS.clear()
    parameters.clear_caches()
    yield boto3.client("secretsmanager", endpoint_url=secrets_endpoint, region_name="eu-west-1")
    parameters_base.DEFAULT_PROVIDERS.clear()
    parameters.clear_caches()


def secret(client: Any, value: str | dict[str, Any]) -> str:
    """A new secret; its ARN."""
    text = value if isinstance(value, str) else json.dumps(value)
    return str(client.create_secret(Name=f"kafkagram-test-{uuid.uuid4().hex[:8]}", SecretString=text)["ARN"])


def settings_with(monkeypatch: pytest.MonkeyPatch, **variables: str) -> Settings:
    for name, value in variables.items():
        monkeypatch.setenv(name, value)
    return Settings()


@pytest.fixture
def database_role(database_url: str) -> Iterator[str]:
    """A PostgreSQL role that may log in to the test database, as RDS's application user would."""
    role = f"kafkagram_app_{uuid.uuid4().hex[:8]}"
    admin = connect(f"{POSTGRES_SERVER_URL}/postgres")
    admin.run(f"CREATE ROLE {role} LOGIN PASSWORD '{PASSWORD.replace(chr(39), chr(39) * 2)}'")
    try:
        yield role
    finally:
        admin.run(f"DROP ROLE {role}")
        admin.close()


def test_no_arn_no_secrets_manager(monkeypatch):
    for name in SECRET_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ENDPOINT_URL_SECRETS_MANAGER", f"http://127.0.0.1:{free_port()}")  # nothing there
    settings = Settings()
    assert settings.database_url == os.environ.get("DATABASE_URL", Settings.model_fields["database_url"].default)
    assert settings.smtp_url == os.environ.get("SMTP_URL", LOCAL_SMTP_SINK_URL)


def test_rds_json_secret_completes_the_database_url_and_connects(aws, monkeypatch, database_url, database_role):
    # What RDS stores for a managed master password: only username and password.
    arn = secret(aws, {"username": database_role, "password": PASSWORD})
    settings = settings_with(monkeypatch, DATABASE_URL=database_url, DATABASE_SECRET_ARN=arn)

    url = urlsplit(settings.database_url)
    assert (unquote(url.username or ""), unquote(url.password or "")) == (database_role, PASSWORD)
    assert (url.hostname, url.port, url.path) == (urlsplit(database_url).hostname, urlsplit(database_url).port,
                                                   urlsplit(database_url).path)
    connection = connect(settings.database_url)
    try:
        assert connection.run("SELECT current_user, current_database()") == [
            [database_role, urlsplit(database_url).path.lstrip("/")]]
    finally:
        connection.close()


def test_rds_json_secret_with_host_port_and_dbname_wins_over_the_url(aws, monkeypatch, database_url, database_role):
    target = urlsplit(database_url)
    arn = secret(aws, {"engine": "postgres", "username": database_role, "password": PASSWORD,
                       "host": target.hostname, "port": target.port or 5432, "dbname": target.path.lstrip("/")})
    settings = settings_with(monkeypatch, DATABASE_URL="postgresql://stale.example.invalid:6543/wrong",
                             DATABASE_SECRET_ARN=arn)
    connection = connect(settings.database_url)
    try:
        assert connection.run("SELECT current_user, current_database()") == [
            [database_role, target.path.lstrip("/")]]
    finally:
        connection.close()


def test_a_url_secret_replaces_the_database_url(aws, monkeypatch, database_url):
    arn = secret(aws, database_url)
    settings = settings_with(monkeypatch, DATABASE_URL="postgresql://placeholder.invalid/kafkagram",
                             DATABASE_SECRET_ARN=arn)
    assert settings.database_url == database_url


def test_redis_acl_user_from_a_json_secret_authenticates(aws, monkeypatch):
    user = f"kafkagram-test-{uuid.uuid4().hex[:8]}"
    admin = redis.Redis.from_url(REDIS_TEST_URL)
    admin.acl_setuser(user, enabled=True, passwords=[f"+{PASSWORD}"], commands=["+ping", "+select"], keys=["test:*"])
    try:
        arn = secret(aws, {"username": user, "password": PASSWORD})
        settings = settings_with(monkeypatch, REDIS_URL=REDIS_TEST_URL, REDIS_SECRET_ARN=arn)
        client = redis.Redis.from_url(settings.redis_url)
        assert client.ping() is True
        client.close()
        wrong = redis.Redis.from_url(settings.redis_url.replace("p%40ss", "nope"))
        with pytest.raises(redis.AuthenticationError):
            wrong.ping()
        wrong.close()
    finally:
        admin.acl_deluser(user)
        admin.close()


def test_a_plain_redis_secret_is_the_auth_token(aws, monkeypatch):
    arn = secret(aws, "an-auth-token/with+chars")
    settings = settings_with(monkeypatch, REDIS_URL="rediss://master.kafkagram.abc.euw1.cache.amazonaws.com:6379/0",
                             REDIS_SECRET_ARN=arn)
    assert settings.redis_url == ("rediss://:an-auth-token%2Fwith%2Bchars@"
                                  "master.kafkagram.abc.euw1.cache.amazonaws.com:6379/0")
    kwargs = redis.connection.parse_url(settings.redis_url)
    assert kwargs["password"] == "an-auth-token/with+chars" and kwargs.get("username") is None


def test_smtp_and_token_secrets(aws, monkeypatch):
    smtp = secret(aws, {"username": "AKIAEXAMPLE", "password": PASSWORD})
    token = secret(aws, "k" * 48)
    settings = settings_with(monkeypatch, SMTP_URL="smtps://email-smtp.eu-west-1.amazonaws.com:465",
                             SMTP_SECRET_ARN=smtp, AUTH_TOKEN_SECRET_ARN=token)
    url = urlsplit(settings.smtp_url)
    assert (url.scheme, url.hostname, url.port, url.username, unquote(url.password or "")) == (
        "smtps", "email-smtp.eu-west-1.amazonaws.com", 465, "AKIAEXAMPLE", PASSWORD)
    assert settings.auth_token_secret == "k" * 48
    # The key/value form the console makes: {"secret": ...}.
    monkeypatch.setenv("AUTH_TOKEN_SECRET_ARN", secret(aws, {"secret": "j" * 40}))
    assert Settings().auth_token_secret == "j" * 40


def test_an_unreadable_secret_names_the_variable_and_arn(aws, monkeypatch):
    missing = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:kafkagram-missing-AbCdEf"
    monkeypatch.setenv("DATABASE_SECRET_ARN", missing)
    with pytest.raises(SecretError, match=r"DATABASE_SECRET_ARN: cannot read secret .*kafkagram-missing"):
        Settings()


@pytest.mark.parametrize(("variable", "value", "message"), [
    ("DATABASE_SECRET_ARN", {"username": "app"}, "no 'password'"),
    ("DATABASE_SECRET_ARN", "just-a-password", "neither a postgresql:// / postgres:// URL"),
    ("REDIS_SECRET_ARN", "http://not-redis:6379", "neither a redis:// / rediss:// URL"),
    ("SMTP_SECRET_ARN", {"password": "x"}, "no 'username'"),
    ("AUTH_TOKEN_SECRET_ARN", {"key": "x" * 40}, "no 'secret'"),
])
def test_a_secret_of_neither_form_is_refused_without_showing_it(aws, monkeypatch, variable, value, message):
    monkeypatch.setenv(variable, secret(aws, value))
    with pytest.raises(SecretError, match=message) as raised:
        Settings()
    assert variable in str(raised.value)
    for shown in (value.values() if isinstance(value, dict) else [value]):
        assert str(shown) not in str(raised.value)


def test_secrets_are_cached_per_execution_environment(aws, monkeypatch, database_url):
    """Powertools caches a value (max_age 300 s): a second Settings in the same sandbox reuses it."""
    arn = secret(aws, database_url)
    first = settings_with(monkeypatch, DATABASE_SECRET_ARN=arn).database_url
    aws.put_secret_value(SecretId=arn, SecretString="postgresql://rotated.invalid/kafkagram")
    assert Settings().database_url == first
    parameters.clear_caches()  # past max_age: the rotated value
    assert Settings().database_url == "postgresql://rotated.invalid/kafkagram"

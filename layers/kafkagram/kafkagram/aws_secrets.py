"""Secrets Manager values behind the settings (docs/deploy.md, "Secrets").

On AWS the template gives a function URLs without credentials (DATABASE_URL, REDIS_URL, SMTP_URL)
and the ARN of a secret for each (DATABASE_SECRET_ARN, REDIS_SECRET_ARN, SMTP_SECRET_ARN), plus
AUTH_TOKEN_SECRET_ARN for the token-signing key. When an ARN is set, `kafkagram.config.Settings`
reads the secret (`read_secret`) and replaces its setting with what `database_url`, `redis_url`,
`smtp_url` or `token_key` build from it. Locally no ARN is set and nothing here runs.

A secret's value may take either form (both are what people usually store):
- a JSON object. Database: the fields RDS writes (`username`, `password`, and optionally `host`,
  `port`, `dbname`; an RDS-managed master password holds only the first two). Redis: `password`
  (the AUTH token), optionally `username` (an ElastiCache RBAC user), `host`, `port`. SMTP:
  `username`, `password`, optionally `host`, `port`. Token key: `secret`. Fields that are absent
  keep what the URL from the template says.
- a plain string. A URL (`postgresql://...`, `rediss://...`, `smtps://...`) replaces the template's
  URL whole; for Redis any other string is the AUTH token, and for the token key it is the key.

Values are read through Powertools' `parameters.get_secret`, which caches them for SECRET_MAX_AGE_S
in the execution environment. Error messages name the ARN and the variable, never the value.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import quote, urlsplit, urlunsplit

SECRET_MAX_AGE_S = 300  # Powertools' cache: a rotated secret is read again within five minutes

DATABASE_SCHEMES = ("postgresql", "postgres")
REDIS_SCHEMES = ("redis", "rediss")
SMTP_SCHEMES = ("smtp", "smtps", "smtp+starttls")


class SecretError(RuntimeError):
    """A secret that cannot be read, or whose value has neither accepted form."""


SecretValue = str | dict[str, Any]


def read_secret(arn: str, variable: str) -> SecretValue:
    """The secret's value: a dict when it is a JSON object, else the string (stripped)."""
    from aws_lambda_powertools.utilities import parameters  # only on AWS (or a test) is a secret read

    try:
        raw = parameters.get_secret(arn, max_age=SECRET_MAX_AGE_S)
    except parameters.exceptions.GetParameterError as error:
        raise SecretError(f"{variable}: cannot read secret {arn}: {error}") from error
    text = (raw.decode() if isinstance(raw, bytes) else str(raw)).strip()
    if text.startswith("{"):
        try:
            value = json.loads(text)
        except json.JSONDecodeError:
            raise SecretError(f"{variable}: secret {arn} starts like JSON but does not parse") from None
        if isinstance(value, dict):
            return value
    return text


def database_url(base_url: str, secret: SecretValue, where: str = "DATABASE_SECRET_ARN") -> str:
    """DATABASE_URL with the secret's credentials (and host, port, dbname when it has them)."""
    if isinstance(secret, str):
        return _whole_url(secret, DATABASE_SCHEMES, where, "JSON with username and password")
    return _with_fields(base_url, username=_field(secret, "username", where),
                        password=_field(secret, "password", where), host=secret.get("host"),
                        port=secret.get("port"),
                        path=None if secret.get("dbname") is None else f"/{secret['dbname']}")


def redis_url(base_url: str, secret: SecretValue, where: str = "REDIS_SECRET_ARN") -> str:
    """REDIS_URL with the AUTH token (and RBAC user, host, port when the secret has them)."""
    if isinstance(secret, str):
        if "://" in secret:
            return _whole_url(secret, REDIS_SCHEMES, where, "an AUTH token")
        if not secret:
            raise SecretError(f"{where}: the secret is empty")
        return _with_fields(base_url, username=None, password=secret)
    return _with_fields(base_url, username=secret.get("username"), password=_field(secret, "password", where),
                        host=secret.get("host"), port=secret.get("port"))


def smtp_url(base_url: str, secret: SecretValue, where: str = "SMTP_SECRET_ARN") -> str:
    """SMTP_URL with the secret's user and password (and host, port when it has them)."""
    if isinstance(secret, str):
        return _whole_url(secret, SMTP_SCHEMES, where, "JSON with username and password")
    return _with_fields(base_url, username=_field(secret, "username", where),
                        password=_field(secret, "password", where), host=secret.get("host"),
                        port=secret.get("port"))


def token_key(secret: SecretValue, where: str = "AUTH_TOKEN_SECRET_ARN") -> str:
    """The token-signing key: the string itself, or the `secret` field of a JSON object."""
    return secret if isinstance(secret, str) else _field(secret, "secret", where)


def _field(secret: dict[str, Any], name: str, where: str) -> str:
    value = secret.get(name)
    if not isinstance(value, str) or not value:
        raise SecretError(f"{where}: the secret's JSON has no {name!r} string")
    return value


def _whole_url(value: str, schemes: tuple[str, ...], where: str, other_form: str) -> str:
    url = urlsplit(value)
    if url.scheme not in schemes or not url.hostname:
        raise SecretError(f"{where}: the secret is neither a {' / '.join(s + '://' for s in schemes)} URL "
                          f"nor {other_form}")
    return value


def _with_fields(base_url: str, *, username: str | None, password: str, host: Any = None, port: Any = None,
                 path: str | None = None) -> str:
    """base_url with its userinfo replaced (URL-quoted) and, when given, host, port and path."""
    base = urlsplit(base_url)
    hostname = str(host) if host else (base.hostname or "")
    if ":" in hostname:  # an IPv6 literal
        hostname = f"[{hostname}]"
    port_part = f":{port}" if port else (f":{base.port}" if base.port else "")
    user_part = quote(username, safe="") if username else ""
    netloc = f"{user_part}:{quote(password, safe='')}@{hostname}{port_part}"
    return urlunsplit((base.scheme, netloc, base.path if path is None else path, base.query, base.fragment))

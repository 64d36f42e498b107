"""Settings read from the environment, one place for every name and default.

The defaults are for a local machine only (the servers `make up` uses); on AWS every value comes
from the template's environment, with secrets resolved from Secrets Manager.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Literal

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from kafkagram.auth.tokens import LOCAL_DEVELOPMENT_SECRET
from kafkagram.events.catalog import topics

TOPICS = tuple(topics())  # the six event topics, in the catalogue's order


# Where `make up` starts its SMTP sink when SMTP_URL is not set (kafkagram_local.services.SmtpSink),
# and so what a function gets by default: a local run's mail never leaves the machine.
LOCAL_SMTP_SINK_URL = "smtp://127.0.0.1:2525"
DEFAULT_MAIL_FROM = "kafkagram <notifications@kafkagram.localhost>"
# Seals webhook endpoints' signing secrets locally; refused on AWS (kafkagram.webhooks.secret_box).
LOCAL_WEBHOOK_SECRET_KEY = "local-development-only-webhook-key-never-use-in-production"


def failure_topic(topic: str) -> str:
    """Where a handler's records go when retries are exhausted (the ESM's kafka:// destination)."""
    return f"{topic}-failed"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=None, extra="ignore")

    database_url: str = Field(default="postgresql://postgres@127.0.0.1:5432/kafkagram")
    # The CA bundle that sslmode=verify-ca/verify-full check the server against (on AWS the RDS global
    # bundle in the layer; kafkagram.db). Unset locally: local servers speak plain TCP.
    database_ca_bundle: str | None = None
    redis_url: str = Field(default="redis://127.0.0.1:6379/0")
    kafka_bootstrap_servers: str | None = None
    # How producers authenticate: none (local brokers, Redpanda) or iam (Amazon MSK, port 9098).
    kafka_auth: Literal["none", "iam"] = "none"
    kafka_partitions: int = Field(default=6, ge=1, le=1000)
    aws_endpoint_url_s3: str | None = None
    media_bucket: str = "kafkagram-media"
    # Where browsers load processed images from (a CDN in front of the bucket on AWS). Unset: the S3
    # endpoint itself, path-style, which is what the local emulator serves.
    media_base_url: str | None = None
    web_origin: str = "http://127.0.0.1:3000"
    # Signs access tokens. The default works only locally: ensure_secret_usable() refuses it on AWS.
    auth_token_secret: str = Field(default=LOCAL_DEVELOPMENT_SECRET, min_length=32)
    # Outgoing mail (notification emails): smtp://host:port (plain), smtp+starttls://host:587 (STARTTLS
    # required) or smtps://host:465 (TLS from the start), with user:password@ when the server wants them.
    smtp_url: str = LOCAL_SMTP_SINK_URL
    mail_from: str = DEFAULT_MAIL_FROM
    # How long published events stay in the event log (the outbox table) and consumers' processed-event
    # markers with them (kafkagram.event_log): the audit log, and what a replay can reach.
    event_log_retention_days: float = Field(default=7.0, gt=0)
    # The key that seals webhook endpoints' signing secrets at rest (kafkagram.webhooks.SecretBox).
    webhook_secret_key: str = Field(default=LOCAL_WEBHOOK_SECRET_KEY, min_length=32)

    # On AWS: Secrets Manager ARNs whose values complete the settings above (kafkagram.aws_secrets;
    # docs/deploy.md, "Secrets"). Unset locally.
    database_secret_arn: str | None = None
    redis_secret_arn: str | None = None
    smtp_secret_arn: str | None = None
    auth_token_secret_arn: str | None = None
    webhook_key_secret_arn: str | None = None

    @model_validator(mode="after")
    def _resolve_secrets(self) -> Settings:
        """Read each secret whose ARN is set and fold it into its setting (once per Settings)."""
        if not (self.database_secret_arn or self.redis_secret_arn or self.smtp_secret_arn
                or self.auth_token_secret_arn or self.webhook_key_secret_arn):
            return self
        from kafkagram import aws_secrets

        if self.database_secret_arn:
            secret = aws_secrets.read_secret(self.database_secret_arn, "DATABASE_SECRET_ARN")
            self.database_url = aws_secrets.database_url(self.database_url, secret)
        if self.redis_secret_arn:
            secret = aws_secrets.read_secret(self.redis_secret_arn, "REDIS_SECRET_ARN")
            self.redis_url = aws_secrets.redis_url(self.redis_url, secret)
        if self.smtp_secret_arn:
            secret = aws_secrets.read_secret(self.smtp_secret_arn, "SMTP_SECRET_ARN")
            self.smtp_url = aws_secrets.smtp_url(self.smtp_url, secret)
        if self.auth_token_secret_arn:
            secret = aws_secrets.read_secret(self.auth_token_secret_arn, "AUTH_TOKEN_SECRET_ARN")
            self.auth_token_secret = aws_secrets.token_key(secret)
        if self.webhook_key_secret_arn:
            secret = aws_secrets.read_secret(self.webhook_key_secret_arn, "WEBHOOK_KEY_SECRET_ARN")
            self.webhook_secret_key = aws_secrets.token_key(secret, "WEBHOOK_KEY_SECRET_ARN")
        return self

    @property
    def media_public_url(self) -> str:
        if self.media_base_url:
            return self.media_base_url.rstrip("/")
        if self.aws_endpoint_url_s3:
            return f"{self.aws_endpoint_url_s3.rstrip('/')}/{self.media_bucket}"
        return f"https://{self.media_bucket}.s3.amazonaws.com"

    @property
    def all_topics(self) -> dict[str, int]:
        """The six event topics and their failure topics, with partition counts."""
        topics = {topic: self.kafka_partitions for topic in TOPICS}
        topics.update({failure_topic(topic): 1 for topic in TOPICS})
        return topics


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()


def public_media_url(object_key: str) -> str:
    """The browser's URL of an object in the media bucket (a processed variant)."""
    return f"{get_settings().media_public_url}/{object_key}"

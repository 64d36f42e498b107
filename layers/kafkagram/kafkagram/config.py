"""Settings read from the environment, one place for every name and default.

The defaults are for a local machine only (the servers `make up` uses); on AWS every value comes
from the template's environment, with secrets resolved from Secrets Manager.
"""

from __future__ import annotations

from functools import lru_cache

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from kafkagram.auth.tokens import LOCAL_DEVELOPMENT_SECRET

TOPICS = ("user-events", "post-events", "interaction-events", "timeline-events", "notification-events",
          "media-events")


def failure_topic(topic: str) -> str:
    """Where a handler's records go when retries are exhausted (the ESM's kafka:// destination)."""
    return f"{topic}-failed"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=None, extra="ignore")

    database_url: str = Field(default="postgresql://postgres@127.0.0.1:5432/kafkagram")
    redis_url: str = Field(default="redis://127.0.0.1:6379/0")
    kafka_bootstrap_servers: str | None = None
    kafka_partitions: int = Field(default=6, ge=1, le=1000)
    aws_endpoint_url_s3: str | None = None
    media_bucket: str = "kafkagram-media"
    web_origin: str = "http://127.0.0.1:3000"
    # Signs access tokens. The default works only locally: ensure_secret_usable() refuses it on AWS.
    auth_token_secret: str = Field(default=LOCAL_DEVELOPMENT_SECRET, min_length=32)

    @property
    def all_topics(self) -> dict[str, int]:
        """The six event topics and their failure topics, with partition counts."""
        topics = {topic: self.kafka_partitions for topic in TOPICS}
        topics.update({failure_topic(topic): 1 for topic in TOPICS})
        return topics


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()

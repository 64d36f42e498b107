"""The services kafkagram needs on one machine: checked when given, started when not.

PostgreSQL and Redis must be running (DATABASE_URL, REDIS_URL). Kafka comes from
KAFKA_BOOTSTRAP_SERVERS, or a local Tansu broker is started. S3 comes from AWS_ENDPOINT_URL_S3,
or an embedded moto server behind our POST-policy front is started.
"""

from __future__ import annotations

import logging
import os
import signal
from pathlib import Path
from urllib.parse import urlparse, urlunparse

import boto3
import pg8000.native
import redis
from botocore.exceptions import BotoCoreError, ClientError

from emulator.kafka.broker import LocalBroker, broker_reachable, ensure_topics
from kafkagram.config import Settings
from kafkagram.db import connect
from kafkagram.migrations import migrate

# Local-only credentials for the embedded S3; real deployments use IAM roles.
LOCAL_AWS_ACCESS_KEY_ID = "kafkagram-local"
LOCAL_AWS_SECRET_ACCESS_KEY = "kafkagram-local-secret"


def ensure_database(database_url: str) -> None:
    """Create the database named in the URL if the server does not have it yet."""
    url = urlparse(database_url)
    name = (url.path or "/").lstrip("/")
    try:
        connect(database_url).close()
        return
    except pg8000.exceptions.DatabaseError as exc:
        if "does not exist" not in str(exc):
            raise
    admin = connect(urlunparse(url._replace(path="/postgres")))
    try:
        admin.run(f"CREATE DATABASE {pg8000.native.identifier(name)}")
    finally:
        admin.close()


def migrate_database(settings: Settings) -> list[str]:
    try:
        ensure_database(settings.database_url)
        connection = connect(settings.database_url)
    except (OSError, pg8000.exceptions.InterfaceError) as exc:
        raise ConnectionError(
            f"PostgreSQL is not reachable at {_redact(settings.database_url)} ({exc}); start it "
            "(pg_ctlcluster <version> main start) or set DATABASE_URL") from exc
    try:
        return migrate(connection)
    finally:
        connection.close()


def check_redis(redis_url: str) -> None:
    try:
        redis.Redis.from_url(redis_url, socket_connect_timeout=2).ping()
    except redis.RedisError as exc:
        raise ConnectionError(f"Redis is not reachable at {redis_url} ({exc}); start it "
                              "(redis-server --daemonize yes) or set REDIS_URL") from exc


def _redact(url: str) -> str:
    parsed = urlparse(url)
    if parsed.password:
        return urlunparse(parsed._replace(netloc=f"{parsed.username}:***@{parsed.hostname}:{parsed.port or 5432}"))
    return url


class LocalServices:
    """Starts what is missing, remembers what it started, and stops only that."""

    def __init__(self, settings: Settings, run_dir: Path, *, s3_port: int = 4566, kafka_port: int = 9092) -> None:
        self.settings = settings
        self.run_dir = run_dir
        self.s3_port = s3_port
        self.kafka_port = kafka_port
        self.broker: LocalBroker | None = None
        self.s3: object | None = None
        self.kafka_bootstrap_servers = settings.kafka_bootstrap_servers or ""
        self.s3_endpoint = settings.aws_endpoint_url_s3 or ""
        self.applied: list[str] = []

    @property
    def owns_kafka(self) -> bool:
        return self.broker is not None

    def start(self) -> None:
        self.run_dir.mkdir(exist_ok=True)
        self.applied = migrate_database(self.settings)
        check_redis(self.settings.redis_url)
        self._start_kafka()
        ensure_topics(self.kafka_bootstrap_servers, self.settings.all_topics)
        self._start_s3()
        self._ensure_bucket()

    def stop(self) -> None:
        if self.s3 is not None:
            self.s3.stop()  # type: ignore[attr-defined]
            self.s3 = None
        if self.broker is not None:
            self.broker.stop()
            self.broker = None
            (self.run_dir / "tansu.pid").unlink(missing_ok=True)

    def describe(self) -> list[str]:
        migrations = ", ".join(self.applied) if self.applied else "up to date"
        return [
            f"{'PostgreSQL':<22} {_redact(self.settings.database_url)} (migrations: {migrations})",
            f"{'Redis':<22} {self.settings.redis_url}",
            f"{'Kafka':<22} {self.kafka_bootstrap_servers}" + (" (Tansu, in memory)" if self.broker else ""),
            f"{'S3':<22} {self.s3_endpoint} bucket {self.settings.media_bucket}"
            + (" (moto + POST policy front)" if self.s3 else ""),
        ]

    def _start_kafka(self) -> None:
        if self.kafka_bootstrap_servers:
            if not broker_reachable(self.kafka_bootstrap_servers, timeout_s=5):
                raise ConnectionError(f"Kafka is not reachable at {self.kafka_bootstrap_servers}; start it, or "
                                      "unset KAFKA_BOOTSTRAP_SERVERS to use the local broker")
            return
        self._stop_leftover_broker()
        self.broker = LocalBroker(port=self.kafka_port, log_path=self.run_dir / "tansu.log")
        self.kafka_bootstrap_servers = self.broker.start()
        assert self.broker.process is not None
        (self.run_dir / "tansu.pid").write_text(str(self.broker.process.pid))

    def _stop_leftover_broker(self) -> None:
        """A broker left by a crashed `make up` would hold the port: stop it (its log was in memory)."""
        pid_file = self.run_dir / "tansu.pid"
        if not pid_file.exists():
            return
        try:
            pid = int(pid_file.read_text())
            if "tansu" in Path(f"/proc/{pid}/cmdline").read_text(errors="replace"):
                os.kill(pid, signal.SIGKILL)
        except (ValueError, OSError):
            pass
        pid_file.unlink(missing_ok=True)

    def _start_s3(self) -> None:
        if self.s3_endpoint:
            return
        from emulator.s3.server import S3Emulator

        logging.getLogger("werkzeug").setLevel(logging.WARNING)  # moto logs every request it serves

        os.environ.setdefault("AWS_ACCESS_KEY_ID", LOCAL_AWS_ACCESS_KEY_ID)
        os.environ.setdefault("AWS_SECRET_ACCESS_KEY", LOCAL_AWS_SECRET_ACCESS_KEY)
        emulator = S3Emulator(port=self.s3_port, credentials={
            os.environ["AWS_ACCESS_KEY_ID"]: os.environ["AWS_SECRET_ACCESS_KEY"]})
        self.s3_endpoint = emulator.start()
        self.s3 = emulator
        os.environ["AWS_ENDPOINT_URL_S3"] = self.s3_endpoint

    def _ensure_bucket(self) -> None:
        s3 = boto3.client("s3", endpoint_url=self.s3_endpoint, region_name="us-east-1")
        bucket = self.settings.media_bucket
        try:
            try:
                s3.head_bucket(Bucket=bucket)
            except ClientError:
                s3.create_bucket(Bucket=bucket)
            s3.put_bucket_cors(Bucket=bucket, CORSConfiguration={"CORSRules": [{
                "AllowedOrigins": [self.settings.web_origin],
                "AllowedMethods": ["GET", "HEAD", "POST"],
                "AllowedHeaders": ["*"],
                "ExposeHeaders": ["ETag"],
                "MaxAgeSeconds": 3000,
            }]})
        except (BotoCoreError, ClientError) as exc:
            raise ConnectionError(f"S3 at {self.s3_endpoint} refused the bucket set-up: {exc}") from exc

"""The services kafkagram needs on one machine: checked when given, started when not.

PostgreSQL comes from DATABASE_URL; unset, from whatever answers on the default address (127.0.0.1, port
POSTGRES_PORT: 5432), else an embedded PostgreSQL is started there with its cluster under the run
directory (`pg/`). Redis likewise: REDIS_URL, else what answers on 127.0.0.1:REDIS_PORT (6379), else an
embedded one keeping its data in `redis/` (kafkagram_local.embedded). Kafka comes from
KAFKA_BOOTSTRAP_SERVERS, or a local Tansu broker is started. S3 comes from AWS_ENDPOINT_URL_S3,
or s3rver behind our POST-policy front is started, keeping the bucket as files under the run
directory (`s3/`), so uploads and image variants outlive the run. Mail goes to SMTP_URL, or to an
SMTP sink started here that keeps each message as a .eml file under the run directory.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import signal
import socket
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlparse, urlunparse

import boto3
import pg8000.native
import redis
from botocore.exceptions import BotoCoreError, ClientError

from emulator.kafka.broker import LocalBroker, broker_reachable, ensure_topics
from kafkagram.config import LOCAL_SMTP_SINK_URL, Settings, get_settings
from kafkagram.db import connect
from kafkagram.mail import SmtpServer
from kafkagram.mail import redact as redact_url
from kafkagram.migrations import migrate
from kafkagram.storage import public_variants_policy
from kafkagram_local.embedded import EmbeddedPostgres, EmbeddedRedis, answers

if TYPE_CHECKING:
    from emulator.s3.server import S3Emulator

# Local-only credentials for the embedded S3 (the front checks POST forms with them and s3rver is given
# the same pair); real deployments use IAM roles.
LOCAL_AWS_ACCESS_KEY_ID = "kafkagram-local"
LOCAL_AWS_SECRET_ACCESS_KEY = "kafkagram-local-secret"
S3_DATA_DIR = "s3"  # under the run directory: the bucket's objects, kept across runs
S3RVER_PID_FILE = "s3rver.pid"
POSTGRES_DATA_DIR = "pg"  # under the run directory: the embedded PostgreSQL's cluster, kept across runs
REDIS_DATA_DIR = "redis"  # under the run directory: the embedded Redis's append-only file and snapshots
# Where PostgreSQL and Redis are looked for when DATABASE_URL / REDIS_URL are unset (POSTGRES_PORT and
# REDIS_PORT change the port), and where the embedded ones listen when nothing answers there.
DEFAULT_DATABASE_URL = str(Settings.model_fields["database_url"].default)
DEFAULT_REDIS_URL = str(Settings.model_fields["redis_url"].default)


def _with_port(url: str, port: int) -> str:
    parsed = urlparse(url)
    host = parsed.hostname or "127.0.0.1"
    credentials = parsed.netloc.rpartition("@")[0]
    return urlunparse(parsed._replace(netloc=f"{credentials + '@' if credentials else ''}{host}:{port}"))


def recreate_database(server_url: str, name: str) -> str:
    """An empty database `name` on the server (dropped first if it exists); its URL. For tests and
    benchmarks, never for the developer's own database."""
    drop_database(server_url, name)
    _administer(server_url, f"CREATE DATABASE {pg8000.native.identifier(name)}")
    return f"{server_url}/{name}"


def drop_database(server_url: str, name: str) -> None:
    _administer(server_url, f"DROP DATABASE IF EXISTS {pg8000.native.identifier(name)} WITH (FORCE)")


def _administer(server_url: str, statement: str) -> None:
    admin = connect(f"{server_url}/postgres")
    try:
        admin.run(statement)
    finally:
        admin.close()


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


class MailFolderHandler:
    """aiosmtpd handler: every message it accepts becomes one .eml file (the bytes as received) in
    `directory`, written under a temporary name and renamed, so a reader never sees half a file."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self._count = 0

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        content = envelope.original_content or envelope.content
        data = content if isinstance(content, bytes) else str(content).encode()
        # Names sort in arrival order: UTC time to the microsecond, then this sink's own count.
        self._count += 1
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S.%f")
        name = f"{stamp}-{self._count:06d}-{uuid.uuid4().hex[:8]}.eml"
        partial = self.directory / f".{name}.part"
        partial.write_bytes(data)
        partial.rename(self.directory / name)
        return "250 Message accepted for delivery"


class SmtpSink:
    """A local SMTP server (aiosmtpd, in a thread) that delivers nothing: it stores each message in
    `directory` as a .eml file, which any mail client opens. No authentication, no TLS."""

    def __init__(self, directory: Path, host: str = "127.0.0.1", port: int = 0) -> None:
        self.directory = directory
        self.host = host
        self.port = port or _free_port(host)
        self._controller: Any = None

    @property
    def url(self) -> str:
        return f"smtp://{self.host}:{self.port}"

    def start(self) -> str:
        from aiosmtpd.controller import Controller

        self.directory.mkdir(parents=True, exist_ok=True)
        logging.getLogger("mail.log").setLevel(logging.WARNING)  # aiosmtpd logs every session
        self._controller = Controller(MailFolderHandler(self.directory), hostname=self.host, port=self.port)
        self._controller.start()
        return self.url

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    def messages(self) -> list[Path]:
        """The stored messages, oldest first."""
        return sorted(self.directory.glob("*.eml"))

    def __enter__(self) -> SmtpSink:
        self.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self.stop()


def _shown(path: Path) -> str:
    """`path` relative to the working directory when under it (`.run/s3`), else as it is."""
    try:
        return str(path.resolve().relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def _free_port(host: str) -> int:
    with socket.socket() as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def _port_free(host: str, port: int) -> bool:
    with socket.socket() as sock:
        try:
            sock.bind((host, port))
        except OSError:
            return False
    return True


def check_smtp(smtp_url: str) -> None:
    try:
        server = SmtpServer.from_url(smtp_url)
    except ValueError as exc:
        raise ConnectionError(str(exc)) from exc
    host, port = server.host, server.port
    try:
        socket.create_connection((host, port), timeout=3).close()
    except OSError as exc:
        raise ConnectionError(f"SMTP is not reachable at {host}:{port} ({exc}); start it, or unset SMTP_URL "
                              "to use the local sink") from exc


class LocalServices:
    """Starts what is missing, remembers what it started, and stops only that."""

    def __init__(self, settings: Settings, run_dir: Path, *, s3_port: int = 4566, kafka_port: int = 9092,
                 smtp_port: int | None = None, postgres_port: int | None = None,
                 redis_port: int | None = None) -> None:
        # The settings `up` runs with: DATABASE_URL and REDIS_URL become the servers found or started.
        self.settings = settings
        self.run_dir = run_dir
        self.postgres_port = postgres_port or urlparse(DEFAULT_DATABASE_URL).port or 5432
        self.redis_port = redis_port or urlparse(DEFAULT_REDIS_URL).port or 6379
        self.postgres: EmbeddedPostgres | None = None
        self.redis: EmbeddedRedis | None = None
        self._versions: dict[str, str] = {}
        self.s3_port = s3_port
        self.kafka_port = kafka_port
        # The sink's port: SMTP_PORT, else the one LOCAL_SMTP_SINK_URL names.
        self.smtp_port = smtp_port or (urlparse(LOCAL_SMTP_SINK_URL).port or 2525)
        self.broker: LocalBroker | None = None
        self.s3: S3Emulator | None = None
        self.smtp_sink: SmtpSink | None = None
        self.smtp_url = settings.smtp_url
        self._smtp_note = ""
        self.kafka_bootstrap_servers = settings.kafka_bootstrap_servers or ""
        self.s3_endpoint = settings.aws_endpoint_url_s3 or ""
        self.applied: list[str] = []

    @property
    def owns_kafka(self) -> bool:
        return self.broker is not None

    def start(self) -> None:
        self.run_dir.mkdir(exist_ok=True)
        self._start_postgres()
        self.applied = migrate_database(self.settings)
        self._start_redis()
        check_redis(self.settings.redis_url)
        self._start_kafka()
        ensure_topics(self.kafka_bootstrap_servers, self.settings.all_topics)
        self._start_s3()
        self._ensure_bucket()
        self._start_smtp()

    def stop(self) -> None:
        if self.smtp_sink is not None:
            self.smtp_sink.stop()
            self.smtp_sink = None
        if self.s3 is not None:
            self.s3.stop()
            self.s3 = None
            (self.run_dir / S3RVER_PID_FILE).unlink(missing_ok=True)
        if self.broker is not None:
            self.broker.stop()
            self.broker = None
            (self.run_dir / "tansu.pid").unlink(missing_ok=True)
        # Last: what ran before may still have been writing.
        if self.redis is not None:
            self.redis.stop()
            self.redis = None
        if self.postgres is not None:
            self.postgres.stop()
            self.postgres = None

    def describe(self) -> list[str]:
        migrations = ", ".join(self.applied) if self.applied else "up to date"
        postgres = (f" (embedded PostgreSQL {self._versions['postgres']}, migrations: {migrations}), data in "
                    f"{_shown(self.postgres.data_dir)}" if self.postgres else f" (migrations: {migrations})")
        return [
            f"{'PostgreSQL':<22} {_redact(self.settings.database_url)}{postgres}",
            f"{'Redis':<22} {self.settings.redis_url}"
            + (f" (embedded Valkey {self._versions['redis']}), data in {_shown(self.redis.data_dir)}"
               if self.redis else ""),
            f"{'Kafka':<22} {self.kafka_bootstrap_servers}" + (" (Tansu, in memory)" if self.broker else ""),
            f"{'S3':<22} {self.s3_endpoint} bucket {self.settings.media_bucket}"
            + (f" (s3rver + POST policy front), data in {_shown(self.s3_data_dir)}" if self.s3 else ""),
            f"{'SMTP':<22} {redact_url(self.smtp_url)}"
            + (f" (sink: a .eml per message in {self.smtp_sink.directory}{self._smtp_note})"
               if self.smtp_sink else ""),
        ]

    def _start_postgres(self) -> None:
        """DATABASE_URL given: used as it is (the migration says so when it does not answer). Unset: the server
        answering on the default address, else an embedded one started there on the run directory's data."""
        if "database_url" in self.settings.model_fields_set:
            return
        url = _with_port(DEFAULT_DATABASE_URL, self.postgres_port)
        host = urlparse(url).hostname or "127.0.0.1"
        server = EmbeddedPostgres(self.run_dir, self.run_dir / POSTGRES_DATA_DIR, host, self.postgres_port)
        server.database = (urlparse(url).path or "/").lstrip("/") or server.database
        server.stop_leftover()  # one a killed `up` left answers still, for a moment: not a server to use
        if not answers(host, self.postgres_port):
            self.postgres = server
            url = server.start()
            self._versions["postgres"] = server.version
        self._use(database_url=url)

    def _start_redis(self) -> None:
        """As PostgreSQL: REDIS_URL given, else what answers on the default address, else an embedded one."""
        if "redis_url" in self.settings.model_fields_set:
            return
        url = _with_port(DEFAULT_REDIS_URL, self.redis_port)
        host = urlparse(url).hostname or "127.0.0.1"
        server = EmbeddedRedis(self.run_dir, self.run_dir / REDIS_DATA_DIR, host, self.redis_port)
        server.stop_leftover()
        if not answers(host, self.redis_port):
            self.redis = server
            server.start()
            self._versions["redis"] = server.version
        self._use(redis_url=url)

    def _use(self, **urls: str) -> None:
        """Run with these URLs: this process's settings and environment (inherited by what it starts) agree."""
        self.settings = self.settings.model_copy(update=urls)
        for name, url in urls.items():
            os.environ[name.upper()] = url
        get_settings.cache_clear()

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

    @property
    def s3_data_dir(self) -> Path:
        return self.run_dir / S3_DATA_DIR

    def _start_s3(self) -> None:
        if self.s3_endpoint:
            return
        from emulator.s3.server import S3Emulator

        os.environ.setdefault("AWS_ACCESS_KEY_ID", LOCAL_AWS_ACCESS_KEY_ID)
        os.environ.setdefault("AWS_SECRET_ACCESS_KEY", LOCAL_AWS_SECRET_ACCESS_KEY)
        self._stop_leftover_s3rver()
        emulator = S3Emulator(port=self.s3_port, backend="files", data_dir=self.s3_data_dir, credentials={
            os.environ["AWS_ACCESS_KEY_ID"]: os.environ["AWS_SECRET_ACCESS_KEY"]})
        self.s3_endpoint = emulator.start()
        self.s3 = emulator
        (self.run_dir / S3RVER_PID_FILE).write_text(str(emulator.backend_pid))
        os.environ["AWS_ENDPOINT_URL_S3"] = self.s3_endpoint

    def _stop_leftover_s3rver(self) -> None:
        """s3rver stops by itself within a second of its parent's death; one still alive (a run killed a
        moment ago) would write to the same files: stop it first."""
        from emulator.s3.files import stop_leftover

        pid_file = self.run_dir / S3RVER_PID_FILE
        with contextlib.suppress(ValueError, OSError):
            stop_leftover(int(pid_file.read_text()))
        pid_file.unlink(missing_ok=True)

    def _start_smtp(self) -> None:
        """SMTP_URL given: check it answers. Unset: start the sink on SMTP_PORT (2525), or on a free port
        when that one is taken (functions get the sink's URL either way, through the template)."""
        if "smtp_url" in self.settings.model_fields_set:
            check_smtp(self.smtp_url)
            return
        host = urlparse(LOCAL_SMTP_SINK_URL).hostname or "127.0.0.1"
        port = self.smtp_port
        if not _port_free(host, port):
            self._smtp_note = f"; port {port} was taken"
            port = 0
        self.smtp_sink = SmtpSink(self.run_dir / "mail", host=host, port=port)
        self.smtp_url = self.smtp_sink.start()

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
            s3.put_bucket_policy(Bucket=bucket, Policy=json.dumps(public_variants_policy(bucket)))
        except (BotoCoreError, ClientError) as exc:
            raise ConnectionError(f"S3 at {self.s3_endpoint} refused the bucket set-up: {exc}") from exc

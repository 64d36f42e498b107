"""`kafkagram`: run, inspect and measure kafkagram on one machine (the Makefile wraps these)."""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from kafkagram.config import Settings, get_settings

if TYPE_CHECKING:
    from emulator.kafka.esm import EventSourceMapping
    from emulator.runtime import Runtime
    from kafkagram_local.services import LocalServices

REPO_ROOT = Path(__file__).resolve().parent.parent
# Pid and log files of what `up` starts; tests point it elsewhere so they never touch a developer's run.
RUN_DIR = Path(os.environ.get("KAFKAGRAM_RUN_DIR") or REPO_ROOT / ".run")  # set but empty: the default too
DEFAULT_TEMPLATE = REPO_ROOT / "template.yaml"
LOCAL_ENV_FILE = REPO_ROOT / "env.local.json"


def _fail(message: str) -> None:
    print(f"kafkagram: {message}", file=sys.stderr)
    raise SystemExit(1)


def cmd_migrate(_args: argparse.Namespace) -> None:
    from kafkagram_local.services import migrate_database

    applied = migrate_database(get_settings())
    print("migrations: " + (", ".join(applied) if applied else "up to date"))


def cmd_up(args: argparse.Namespace) -> None:
    from emulator.process_titles import TITLE_PREFIX_ENV, set_process_title
    from emulator.runtime import Runtime, RuntimeOptions
    from emulator.template import TemplateError
    from kafkagram_local.event_log_keeper import EventLogKeeper
    from kafkagram_local.services import LocalServices

    # Every process of the runtime inherits the prefix: `ps` reads `kafkagram: poller ...`.
    os.environ.setdefault(TITLE_PREFIX_ENV, "kafkagram")
    set_process_title("up")
    started = time.monotonic()
    settings = get_settings()
    services = LocalServices(settings, RUN_DIR, s3_port=args.s3_port, kafka_port=args.kafka_port,
                             smtp_port=args.smtp_port, postgres_port=args.postgres_port, redis_port=args.redis_port)
    try:
        services.start()
        settings = services.settings  # DATABASE_URL and REDIS_URL: the servers found or started
        runtime = Runtime(RuntimeOptions(
            template_path=Path(args.template),
            kafka_bootstrap_servers=services.kafka_bootstrap_servers,
            # SmtpUrl: the local sink's (or SMTP_URL), as DatabaseUrl is DATABASE_URL.
            parameter_overrides={"SmtpUrl": services.smtp_url,
                                 # Webhooks to http and local addresses: local development and tests only.
                                 **({"AllowLocalWebhooks": "true"} if args.allow_local_webhooks else {}),
                                 **_parameter_overrides(settings, args.parameter_overrides)},
            env_vars_file=Path(args.env_vars) if args.env_vars else None,
            workers=args.workers,
            session_timeout_ms=2000 if services.owns_kafka else 6000,
            host=args.host, http_port=args.http_port, websocket_port=args.websocket_port,
            status_port=args.status_port,
            static_dir=REPO_ROOT / "frontend" / "dist" if (REPO_ROOT / "frontend" / "dist").is_dir() else None,
        ))
        runtime.start()
    except (ConnectionError, TemplateError, RuntimeError, OSError) as exc:
        services.stop()
        _fail(str(exc))
        return
    # A fresh broker of our own holds nothing: what was published but maybe not handled goes again.
    requeued = _requeue_unconsumed(settings.database_url) if services.owns_kafka else None
    # The relay wakes the runtime's sleeping pollers of the topics it just produced to (Runtime.nudge).
    relay = OutboxRelayThread(settings.database_url, services.kafka_bootstrap_servers, on_published=runtime.nudge)
    relay.start()
    keeper = EventLogKeeper(settings.database_url, runtime.lag, timedelta(days=settings.event_log_retention_days))
    keeper.start()
    _print_services(services, runtime.urls, runtime.mappings)
    print(f"{'outbox relay':<22} PostgreSQL outbox -> {services.kafka_bootstrap_servers}")
    print(f"{'event log':<22} PostgreSQL outbox, {settings.event_log_retention_days:g} days"
          + (f"; {requeued} events re-published (not known to be handled before the last stop)"
             if requeued else ""))
    print(f"ready in {time.monotonic() - started:.1f} s; Ctrl-C stops everything", flush=True)
    stop = _StopSignals()
    stop.wait()
    print("stopping: draining what is under way (Ctrl-C again stops at once)", flush=True)
    if _drain(runtime, relay, settings.database_url, stop, DRAIN_TIMEOUT_S):
        keeper.checkpoint()  # everything is handled: the next start re-publishes nothing
    print("stopping...", flush=True)
    keeper.stop()
    relay.stop()
    runtime.stop()
    services.stop()


def _requeue_unconsumed(database_url: str) -> int:
    from kafkagram.db import Database
    from kafkagram.event_log import requeue_unconsumed

    database = Database(database_url)
    try:
        with database.transaction() as connection:
            return requeue_unconsumed(connection)
    finally:
        database.close()


# Ctrl-C drains for at most this long; what is left resumes at the next start (offsets, outbox rows).
DRAIN_TIMEOUT_S = float(os.environ.get("KAFKAGRAM_DRAIN_TIMEOUT_S", 30))
DRAINING_MESSAGE = ("kafkagram is stopping: it finishes what is under way and takes no writes until it "
                    "starts again")


def _drain(runtime: Runtime, relay: OutboxRelayThread, database_url: str, stop: _StopSignals,
           timeout_s: float) -> bool:
    """Refuse writes, then wait until the relay has published every committed event and every mapping
    has committed every record (handlers' events go through the outbox too, so this follows chains).
    True when all of it is done."""
    runtime.refuse_writes(DRAINING_MESSAGE)
    deadline = time.monotonic() + timeout_s
    said = ""
    while True:
        left = _work_left(runtime, database_url)
        if not left:
            print("drained: every committed event is published and every function has caught up", flush=True)
            return True
        if time.monotonic() >= deadline:
            print(f"drain: gave up after {timeout_s:.0f} s with {left} (it resumes at the next start)", flush=True)
            return False
        if left != said:
            print(f"draining: {left}", flush=True)
            said = left
        if stop.wait(DRAIN_CHECK_S):
            print("stopping at once: what is left resumes at the next start", flush=True)
            return False


DRAIN_CHECK_S = 0.5


def _work_left(runtime: Runtime, database_url: str) -> str:
    """What the drain still waits for, said for people ("" when nothing)."""
    from kafkagram.db import connect
    from kafkagram.outbox import unpublished_count

    connection = connect(database_url)
    try:
        unpublished = unpublished_count(connection)
    finally:
        connection.close()
    if unpublished:
        return f"{unpublished} committed events not yet published"
    lagging = {name: lag for name, lag in runtime.lag().items() if lag}
    return ", ".join(f"{name} {lag} records behind" for name, lag in sorted(lagging.items()))


class _StopSignals:
    """Ctrl-C and SIGTERM, counted: the first starts the drain, the next one cuts it short."""

    def __init__(self) -> None:
        self._event = threading.Event()
        for signum in (signal.SIGINT, signal.SIGTERM):
            signal.signal(signum, lambda *_: self._event.set())

    def wait(self, timeout_s: float | None = None) -> bool:
        """Wait for a signal (True), at most `timeout_s` when given; each signal is taken once."""
        if timeout_s is None:
            while not self._event.wait(1):  # wake now and then: signal handlers run between waits
                pass
        elif not self._event.wait(timeout_s):
            return False
        self._event.clear()
        return True


class OutboxRelayThread:
    """Publishes committed outbox rows to Kafka while `up` runs (state changes and their events are
    committed together in PostgreSQL; this is what gets them onto the topics)."""

    def __init__(self, database_url: str, bootstrap_servers: str,
                 on_published: Callable[[set[str]], object] | None = None) -> None:
        from kafkagram.outbox import OutboxRelay

        self.relay = OutboxRelay(database_url, bootstrap_servers, on_published=on_published)
        self.stop_event = threading.Event()
        self.thread = threading.Thread(target=self.relay.run, args=(self.stop_event,), daemon=True,
                                       name="outbox-relay")

    def start(self) -> None:
        self.thread.start()

    def stop(self) -> None:
        self.stop_event.set()
        self.thread.join(timeout=15)
        self.relay.close()


def _parameter_overrides(settings: Settings, given: list[str]) -> dict[str, str]:
    overrides = {"DatabaseUrl": settings.database_url, "RedisUrl": settings.redis_url,
                  "WebOrigin": settings.web_origin}
    for item in given:
        name, _, value = item.partition("=")
        overrides[name] = value
    return overrides


def _print_services(services: LocalServices, urls: dict[str, str], mappings: list[EventSourceMapping]) -> None:
    for line in services.describe():
        print(line)
    labels = {"http": "HTTP API + web app", "websocket": "WebSocket API", "status": "runtime status"}
    for name, url in urls.items():
        print(f"{labels.get(name, name):<22} {url}")
    for mapping in mappings:
        state = "" if mapping.enabled else " (disabled)"
        print(f"{'function':<22} {mapping.function.function_name} <- {mapping.topic}{state}")


def cmd_status(args: argparse.Namespace) -> None:
    from emulator.status import fetch_status, format_status

    try:
        snapshot = fetch_status(args.host, args.status_port)
    except ConnectionError as exc:
        _fail(f"{exc}: start it with `make up`")
        return
    print(json.dumps(snapshot, indent=2) if args.json else format_status(snapshot))


def cmd_produce(args: argparse.Namespace) -> None:
    from confluent_kafka import Producer

    from kafkagram.outbox import producer_config

    servers = get_settings().kafka_bootstrap_servers or f"127.0.0.1:{args.kafka_port}"
    producer = Producer(producer_config(servers))  # the relay's settings: a key lands where the relay puts it
    producer.produce(args.topic, value=args.value.encode(), key=args.key.encode() if args.key else None)
    if producer.flush(10):
        _fail(f"could not produce to {args.topic} on {servers}")
    from emulator.status import nudge

    nudge(args.host, args.status_port, [args.topic])  # a running `up` fetches it at once (else within ~2 s)
    print(f"produced 1 record to {args.topic}")


def cmd_replay(args: argparse.Namespace) -> None:
    from kafkagram.db import Database
    from kafkagram.event_log import requeue

    database = Database(get_settings().database_url)
    try:
        with database.transaction() as connection:
            count = requeue(connection, args.topic, since=args.since, event_type=args.type)
    finally:
        database.close()
    what = f"{count} events of {args.topic}" + (f" of type {args.type}" if args.type else "") + (
        f" since {args.since.isoformat()}" if args.since else "")
    print(f"{what} are back in line: the outbox relay of a running `make up` publishes them now (else at its "
          "next start); consumers that handled them already skip them")


def _moment(text: str) -> datetime:
    """An ISO 8601 time (a time without an offset is UTC), or a span back from now: 30m, 2h, 1d."""
    spans = {"m": "minutes", "h": "hours", "d": "days"}
    if text[:-1].isdigit() and text[-1:] in spans:
        return datetime.now(UTC) - timedelta(**{spans[text[-1]]: int(text[:-1])})
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        message = f"{text!r} is neither an ISO 8601 time nor a span like 30m, 2h or 1d"
        raise argparse.ArgumentTypeError(message) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def cmd_rebuild(args: argparse.Namespace) -> None:
    import redis

    from kafkagram.db import connect
    from kafkagram_local.rebuild import rebuild_counters, rebuild_explore, rebuild_timelines

    settings = get_settings()
    conn = connect(settings.database_url)
    try:
        if args.what == "counters":
            corrected = rebuild_counters(conn)
            print("counters recounted: " + ", ".join(f"{name} {count} corrected" for name, count in corrected.items()))
            return
        client = redis.Redis.from_url(settings.redis_url)
        try:
            if args.what == "explore":
                ranked, tagged = rebuild_explore(conn, client)
                print(f"explore rebuilt from PostgreSQL: {ranked} popular posts, {tagged} tagged posts trending")
                return
            print(f"home timelines rebuilt from PostgreSQL: {rebuild_timelines(conn, client)} active users")
        finally:
            client.close()
    finally:
        conn.close()


def cmd_dlq(args: argparse.Namespace) -> None:
    from emulator.kafka import dlq

    servers = get_settings().kafka_bootstrap_servers or f"127.0.0.1:{args.kafka_port}"
    try:
        topics = [args.topic] if getattr(args, "topic", None) else dlq.failed_topics(servers)
        if args.dlq_command == "redrive":
            for topic in topics:
                _print_redrive(dlq.redrive(servers, topic, dry_run=args.dry_run), args.dry_run)
            if not args.dry_run:
                from emulator.status import nudge

                nudge(args.host, args.status_port, [t.removesuffix(dlq.FAILED_SUFFIX) for t in topics])
            return
        failures = [failure for topic in topics for failure in dlq.read_failures(servers, topic)]
    except dlq.DlqError as exc:
        _fail(str(exc))
        return
    if args.dlq_command == "show":
        shown = [f for f in failures if args.all or not f.redriven][-args.limit:]
        print("\n\n".join(dlq.describe(f) for f in shown) if shown else "no pending failure records")
        return
    rows = dlq.summary_rows(failures)
    if not rows:
        print(f"no failure records on {', '.join(topics) or 'any *-failed topic'}")
        return
    from kafkagram_local.bench import _print_table

    _print_table("Failure topics: records per function, condition and error", rows)


def _print_redrive(result: object, dry_run: bool) -> None:
    from emulator.kafka.dlq import Redrive

    assert isinstance(result, Redrive)
    verb = "would produce" if dry_run else "produced"
    moved = ", ".join(f"{count} to {topic}" for topic, count in sorted(result.produced.items())) or "nothing"
    note = f"; {result.skipped} unreadable left on {result.topic} (see `kafkagram dlq show`)" if result.skipped else ""
    print(f"{result.topic}: {verb} {moved}{note}")


def cmd_asyncapi(_args: argparse.Namespace) -> None:
    from kafkagram_local.asyncapi import write_asyncapi, write_schemas

    write_schemas()
    write_asyncapi(REPO_ROOT / "docs" / "asyncapi.yaml")
    print("wrote the event JSON Schemas and docs/asyncapi.yaml from kafkagram.events.catalog")


def cmd_seed(args: argparse.Namespace) -> None:
    from kafkagram_local.seed import SeedError, run

    try:
        run(args.users, args.s3_port)
    except (ConnectionError, SeedError) as exc:
        _fail(str(exc))


def cmd_bench(args: argparse.Namespace) -> None:
    from kafkagram_local.bench import run_benchmarks

    # SIGTERM ends the run as Ctrl-C does, through every `finally`: the stacks, brokers and gateways
    # it started are stopped, not left behind.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(128 + signal.SIGTERM))
    run_benchmarks(args.only)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="kafkagram", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--status-port", type=int, default=int(os.environ.get("STATUS_PORT", 3002)))
    parser.add_argument("--kafka-port", type=int, default=int(os.environ.get("KAFKA_PORT", 9092)))
    commands = parser.add_subparsers(dest="command", required=True)

    up = commands.add_parser("up", help="start the broker, S3, migrations and every function of the template")
    up.add_argument("--template", default=str(DEFAULT_TEMPLATE))
    up.add_argument("--workers", type=int, default=int(os.environ.get("WORKERS", 1)),
                    help="poller processes per event source mapping (one consumer group)")
    up.add_argument("--env-vars", default=str(LOCAL_ENV_FILE) if LOCAL_ENV_FILE.exists() else None,
                    help="JSON file overriding function environment, as `sam local --env-vars` "
                         "(default: env.local.json when it exists; it is git-ignored)")
    up.add_argument("--parameter-overrides", nargs="*", default=[], metavar="NAME=VALUE")
    up.add_argument("--http-port", type=int, default=int(os.environ.get("HTTP_PORT", 3000)))
    up.add_argument("--websocket-port", type=int, default=int(os.environ.get("WEBSOCKET_PORT", 3001)))
    up.add_argument("--s3-port", type=int, default=int(os.environ.get("S3_PORT", 4566)))
    up.add_argument("--smtp-port", type=int, default=int(os.environ.get("SMTP_PORT", 2525)),
                    help="port of the local SMTP sink, started when SMTP_URL is unset (a free one if taken)")
    up.add_argument("--postgres-port", type=int, default=int(os.environ.get("POSTGRES_PORT", 5432)),
                    help="when DATABASE_URL is unset: the PostgreSQL on 127.0.0.1 at this port, or an embedded one "
                         "started there (data in .run/pg) when nothing answers")
    up.add_argument("--redis-port", type=int, default=int(os.environ.get("REDIS_PORT", 6379)),
                    help="when REDIS_URL is unset: the Redis on 127.0.0.1 at this port, or an embedded one started "
                         "there (data in .run/redis) when nothing answers")
    up.add_argument("--allow-local-webhooks", action="store_true",
                    default=os.environ.get("KAFKAGRAM_ALLOW_LOCAL_WEBHOOKS", "").lower() in ("1", "true", "yes"),
                    help="let webhooks use http and reach local addresses (development and tests only; "
                         "default: KAFKAGRAM_ALLOW_LOCAL_WEBHOOKS)")
    up.set_defaults(handler=cmd_up)

    commands.add_parser("migrate", help="apply database migrations").set_defaults(handler=cmd_migrate)

    status = commands.add_parser("status", help="per-function invocations, errors, latency, lag")
    status.add_argument("--json", action="store_true")
    status.set_defaults(handler=cmd_status)

    produce = commands.add_parser("produce", help="produce one record (any Kafka client works too)")
    produce.add_argument("topic")
    produce.add_argument("value")
    produce.add_argument("--key")
    produce.set_defaults(handler=cmd_produce)

    replay = commands.add_parser("replay", help="publish events from the event log again (idempotent consumers "
                                                 "skip what they handled)")
    replay.add_argument("--topic", required=True)
    replay.add_argument("--since", type=_moment, help="ISO 8601 time, or a span back from now: 30m, 2h, 1d")
    replay.add_argument("--type", help="only events of this type, e.g. post-created")
    replay.set_defaults(handler=cmd_replay)

    rebuild = commands.add_parser("rebuild", help="recompute derived state from PostgreSQL")
    rebuild.add_argument("what", choices=["timelines", "counters", "explore"],
                         help="timelines: active users' home timelines in Redis; counters: followers, following, "
                              "posts, likes and comments counts; explore: popular posts and trending tags")
    rebuild.set_defaults(handler=cmd_rebuild)

    dlq = commands.add_parser("dlq", help="what the failure topics (<topic>-failed) hold, and redriving it")
    dlq_commands = dlq.add_subparsers(dest="dlq_command", required=True)
    dlq_commands.add_parser("list", help="pending and redriven records per function, condition and error")
    show = dlq_commands.add_parser("show", help="the failed records themselves, decoded")
    show.add_argument("topic", nargs="?", help="one failure topic (default: every *-failed topic)")
    show.add_argument("--limit", type=int, default=20, help="the last N records")
    show.add_argument("--all", action="store_true", help="redriven records too")
    again = dlq_commands.add_parser("redrive", help="produce pending records again on their source topic")
    again.add_argument("topic", nargs="?", help="one failure topic (default: every *-failed topic)")
    again.add_argument("--dry-run", action="store_true", help="say what would be produced, produce nothing")
    dlq.set_defaults(handler=cmd_dlq)

    commands.add_parser("asyncapi", help="regenerate the event schemas and docs/asyncapi.yaml").set_defaults(
        handler=cmd_asyncapi)

    seed = commands.add_parser("seed", help="load the socfb-Reed98 graph with profiles, posts and images "
                                            "(against a running `make up`)")
    seed.add_argument("--users", type=int, default=None, help="only the first N users of the graph")
    seed.add_argument("--s3-port", type=int, default=int(os.environ.get("S3_PORT", 4566)),
                      help="the local S3 of `make up`, when AWS_ENDPOINT_URL_S3 is unset")
    seed.set_defaults(handler=cmd_seed)

    bench = commands.add_parser("bench", help="benchmarks, printed as tables")
    bench.add_argument("--only", nargs="*", default=[])
    bench.set_defaults(handler=cmd_bench)
    return parser


def main(argv: list[str] | None = None) -> None:
    args = build_parser().parse_args(argv)
    args.handler(args)


if __name__ == "__main__":
    main()

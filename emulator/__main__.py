"""`emulator`: run any SAM template's functions locally with their Kafka, HTTP and WebSocket triggers.

    emulator run template.yaml --kafka-bootstrap-servers 127.0.0.1:9092 [--env-vars env.json]
    emulator status [--json]

It knows nothing of the application: the services a template needs (broker, S3, databases) are
started by whoever calls it (kafkagram's `make up` does).
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import threading
from pathlib import Path

from emulator.runtime import Runtime, RuntimeOptions
from emulator.status import fetch_status, format_status
from emulator.template import TemplateError


def _run(args: argparse.Namespace) -> int:
    overrides = dict(item.partition("=")[::2] for item in args.parameter_overrides)
    try:
        runtime = Runtime(RuntimeOptions(
            template_path=Path(args.template), kafka_bootstrap_servers=args.kafka_bootstrap_servers,
            parameter_overrides=overrides, env_vars_file=Path(args.env_vars) if args.env_vars else None,
            workers=args.workers, session_timeout_ms=args.session_timeout_ms, host=args.host,
            http_port=args.http_port, websocket_port=args.websocket_port, status_port=args.status_port,
            static_dir=Path(args.static_dir) if args.static_dir else None))
        runtime.start()
    except (TemplateError, ConnectionError, OSError) as exc:
        print(f"emulator: {exc}", file=sys.stderr)
        return 1
    for name, url in runtime.urls.items():
        print(f"{name:<10} {url}")
    for mapping in runtime.mappings:
        print(f"{'function':<10} {mapping.function.function_name} <- {mapping.topic}")
    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())
    while not stop.wait(1):
        pass
    runtime.stop()
    return 0


def _status(args: argparse.Namespace) -> int:
    try:
        snapshot = fetch_status(args.host, args.status_port)
    except ConnectionError as exc:
        print(f"emulator: {exc}", file=sys.stderr)
        return 1
    print(json.dumps(snapshot, indent=2) if args.json else format_status(snapshot))
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="emulator", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--status-port", type=int, default=3002)
    commands = parser.add_subparsers(dest="command", required=True)
    run = commands.add_parser("run", help="run the template's functions until Ctrl-C")
    run.add_argument("template")
    run.add_argument("--kafka-bootstrap-servers", default=os.environ.get("KAFKA_BOOTSTRAP_SERVERS"))
    run.add_argument("--parameter-overrides", nargs="*", default=[], metavar="NAME=VALUE")
    run.add_argument("--env-vars", help="JSON file, as `sam local --env-vars`")
    run.add_argument("--workers", type=int, default=1)
    run.add_argument("--session-timeout-ms", type=int, default=6000)
    run.add_argument("--http-port", type=int, default=3000)
    run.add_argument("--websocket-port", type=int, default=3001)
    run.add_argument("--static-dir")
    run.set_defaults(handler=_run)
    status = commands.add_parser("status", help="per-function figures of a running runtime")
    status.add_argument("--json", action="store_true")
    status.set_defaults(handler=_status)
    return parser


def main(argv: list[str] | None = None) -> None:
    args = build_parser().parse_args(argv)
    raise SystemExit(args.handler(args))


if __name__ == "__main__":
    main()

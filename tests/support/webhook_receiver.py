"""A real HTTP server on a free port that receives webhook deliveries, for the webhook tests: it keeps
every request (headers, body) and answers what the test tells it (a status per request, never answering,
or a huge body)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from tests.support.services import free_port


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class Receiver:
    port: int
    requests: list[Received] = field(default_factory=list)
    # The status of each next request, in order; then `default_status`.
    statuses: list[int] = field(default_factory=list)
    default_status: int = 200
    hang: bool = False  # accept the request and never answer (until the receiver stops)
    huge_body_bytes: int = 0  # answer 200 with this many bytes of body
    sent_bytes: int = 0  # of the huge body, before the client went away
    stopped: threading.Event = field(default_factory=threading.Event)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def url(self, path: str = "/hook", host: str = "127.0.0.1") -> str:
        return f"http://{host}:{self.port}{path}"

    def received(self) -> list[Received]:
        with self.lock:
            return list(self.requests)


def _handler(receiver: Receiver) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *_args: Any) -> None:  # quiet
            pass

        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            with receiver.lock:
                receiver.requests.append(Received(self.path, {k.lower(): v for k, v in self.headers.items()}, body))
                status = receiver.statuses.pop(0) if receiver.statuses else receiver.default_status
            if receiver.hang:
                receiver.stopped.wait()
                return
            if receiver.huge_body_bytes:
                self._huge()
                return
            self.send_response(status)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"ok")

        def _huge(self) -> None:
            self.send_response(200)
            self.send_header("Content-Length", str(receiver.huge_body_bytes))
            self.end_headers()
            chunk = b"x" * 65536
            try:
                while receiver.sent_bytes < receiver.huge_body_bytes and not receiver.stopped.is_set():
                    self.wfile.write(chunk)
                    receiver.sent_bytes += len(chunk)
            except OSError:
                pass  # the client stopped reading and closed: what the size limit does

    return Handler


@contextmanager
def webhook_receiver() -> Iterator[Receiver]:
    receiver = Receiver(free_port())
    server = ThreadingHTTPServer(("127.0.0.1", receiver.port), _handler(receiver))
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield receiver
    finally:
        receiver.stopped.set()
        server.shutdown()
        server.server_close()

"""The unit tier uses no services: a test here that opens a network connection, listens on a port or
starts a process fails, naming what it tried, so the tier stays fast and runs on any machine."""

from __future__ import annotations

import socket
import subprocess
from collections.abc import Iterator
from typing import Any

import pytest


class ServiceUsed(AssertionError):
    pass


def _refuse(what: str) -> Any:
    def refuse(*args: Any, **_kwargs: Any) -> Any:
        target = args[1] if len(args) > 1 else ""  # args[0] is the socket or the Popen
        raise ServiceUsed(f"a unit test may not {what} {target!r}: move it to tests/integration")
    return refuse


@pytest.fixture(autouse=True)
def _no_services(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    original_connect, original_bind = socket.socket.connect, socket.socket.bind

    def connect(sock: socket.socket, address: Any) -> Any:
        if sock.family == socket.AF_UNIX:
            return original_connect(sock, address)
        return _refuse("connect to")(sock, address)

    def bind(sock: socket.socket, address: Any) -> Any:
        if sock.family == socket.AF_UNIX:
            return original_bind(sock, address)
        return _refuse("listen on")(sock, address)

    monkeypatch.setattr(socket.socket, "connect", connect)
    monkeypatch.setattr(socket.socket, "connect_ex", _refuse("connect to"))
    monkeypatch.setattr(socket.socket, "bind", bind)
    monkeypatch.setattr(subprocess.Popen, "__init__", _refuse("start the process"))
    yield

"""The event loop the runtime's servers, load generators and benchmark clients run on.

uvloop (libuv) where it is installed: the HTTP and WebSocket gateways spend much of each request in
the loop and its transports (py-spy of the gateway at 2,000 req/s: about a fifth of its time in
asyncio's selector loop and socket writes), and uvloop does that work in C. asyncio's own loop
otherwise (uvloop has no Windows build), or when EMULATOR_EVENT_LOOP=asyncio asks for it: to compare
the two, or to rule the loop out when something misbehaves.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Coroutine
from typing import Any, TypeVar

T = TypeVar("T")

LOOP_VARIABLE = "EMULATOR_EVENT_LOOP"  # "uvloop" (the default) or "asyncio"


def loop_kind() -> str:
    """The loop new_event_loop makes: "uvloop" or "asyncio"."""
    if os.environ.get(LOOP_VARIABLE, "uvloop").strip().lower() == "asyncio":
        return "asyncio"
    try:
        import uvloop  # noqa: F401
    except ImportError:
        return "asyncio"
    return "uvloop"


def new_event_loop() -> asyncio.AbstractEventLoop:
    if loop_kind() == "uvloop":
        import uvloop

        return uvloop.new_event_loop()
    return asyncio.new_event_loop()


def run(main: Coroutine[Any, Any, T]) -> T:
    """asyncio.run on new_event_loop's loop."""
    with asyncio.Runner(loop_factory=new_event_loop) as runner:
        return runner.run(main)

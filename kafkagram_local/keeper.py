"""Keeps one server program (the embedded PostgreSQL or Redis of `kafkagram up`) running for exactly as
long as the process that started it, however that one ends.

A native server cannot watch its parent the way s3rver's launcher does (emulator/s3/node/serve.js), so
this small program stands between them: `up` starts `python -m kafkagram_local.keeper` in its own
session with a pipe on stdin and writes ONE line of JSON to it,

    {"argv": [...], "stop_signal": 2, "log": "/abs/file.log", "parent_pid": N, "title": "...",
     "user": "nobody" | null, "cwd": "/abs/dir" | null}

and keeps stdin open. The keeper starts the server (as `user` when given: PostgreSQL refuses to run as
root), prints ONE line of JSON, {"pid": <server pid>}, and waits. When stdin reaches EOF (`up` closed
it to stop, or died, even by `kill -9`: the kernel closes its end of the pipe) or its parent changes,
it sends the server `stop_signal` (a clean shutdown: SIGINT is PostgreSQL's fast shutdown, SIGTERM
makes Redis save), kills it after STOP_TIMEOUT_S, and exits. On Linux the server also gets
`stop_signal` from the kernel if the keeper itself is killed (PR_SET_PDEATHSIG), so no server outlives
`up`. The keeper exits too when the server does.
"""

from __future__ import annotations

import contextlib
import json
import os
import selectors
import signal
import subprocess
import sys
from typing import Any

from emulator.lifetime import die_with_parent

STOP_TIMEOUT_S = 30.0
PARENT_CHECK_S = 1.0


class _Stop(Exception):
    """Raised by the SIGTERM handler: stop the server and exit."""


def user_options(user: str | None) -> dict[str, Any]:
    """subprocess options running the program as `user` (with that user's group only), or none."""
    if not user:
        return {}
    import pwd

    entry = pwd.getpwnam(user)
    return {"user": entry.pw_uid, "group": entry.pw_gid, "extra_groups": []}


def stop_server(server: subprocess.Popen[bytes], stop_signal: int, timeout_s: float = STOP_TIMEOUT_S) -> None:
    if server.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            server.send_signal(stop_signal)
        try:
            server.wait(timeout_s)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


def main() -> int:
    # `up` runs this in its own session, so a terminal's Ctrl-C reaches `up` alone (which drains before it
    # stops anything). SIGTERM or SIGINT sent to the keeper itself mean stop.
    def on_term(*_: object) -> None:
        raise _Stop

    signal.signal(signal.SIGTERM, on_term)
    stdin = sys.stdin.buffer
    line = stdin.readline()
    if not line:
        return 1
    config = json.loads(line)
    parent_pid = int(config["parent_pid"])  # from the parent: getppid() is already 1 if it died meanwhile
    if os.getppid() != parent_pid:
        return 1
    stop_signal = int(config.get("stop_signal", signal.SIGTERM))
    if config.get("title"):
        import setproctitle

        setproctitle.setproctitle(config["title"])
    with open(config["log"], "ab") as log:
        server = subprocess.Popen(config["argv"], stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                                  cwd=config.get("cwd"), preexec_fn=die_with_parent(stop_signal, os.getpid()),
                                  **user_options(config.get("user")))
    try:
        sys.stdout.write(json.dumps({"pid": server.pid}) + "\n")
        sys.stdout.flush()
        with selectors.DefaultSelector() as selector:
            selector.register(stdin.fileno(), selectors.EVENT_READ)
            while server.poll() is None and os.getppid() == parent_pid:
                if selector.select(PARENT_CHECK_S) and not os.read(stdin.fileno(), 4096):
                    break  # EOF: `up` stopped us, or is gone
    except (_Stop, KeyboardInterrupt, BrokenPipeError):
        pass
    finally:
        for signum in (signal.SIGTERM, signal.SIGINT):  # a second one must not cut the shutdown short
            signal.signal(signum, signal.SIG_IGN)
        stop_server(server, stop_signal)
    return 0 if server.returncode in (0, -stop_signal) else 1


if __name__ == "__main__":
    raise SystemExit(main())

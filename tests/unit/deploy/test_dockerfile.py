"""The Dockerfile builds what `make up` runs: the same pinned install and the same command, on the
project's Python (the local runtime's, not Lambda's), with nothing the runtime needs left out of the context."""

from __future__ import annotations

import fnmatch
import json
import re
import shlex
import tomllib

from packaging.specifiers import SpecifierSet
from packaging.version import Version

from tests.support.repo import REPO

DOCKERFILE = REPO / "Dockerfile"


def instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) pairs, continuation lines joined, comments dropped."""
    text = re.sub(r"\\\n", " ", DOCKERFILE.read_text())
    result = []
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            keyword, _, arguments = line.partition(" ")
            result.append((keyword.upper(), arguments.strip()))
    return result


def make_recipe(target: str) -> str:
    """The recipe lines of a Makefile target (the line after `target:` up to the next blank line)."""
    match = re.search(rf"^{re.escape(target)}:.*\n((?:\t.*\n?)+)", (REPO / "Makefile").read_text(), re.MULTILINE)
    assert match, f"Makefile has no {target} target"
    return match.group(1)


def pip_installs(commands: str) -> list[list[str]]:
    """The argument lists of every `pip install` in some shell text (one list per command)."""
    lexer = shlex.shlex(commands.replace("\n", " ; "), posix=True, punctuation_chars=True)
    lexer.whitespace_split = True
    words, found = list(lexer), []
    for i, word in enumerate(words):
        if word.endswith("pip") and words[i + 1:i + 2] == ["install"]:
            end = next((j for j in range(i + 2, len(words)) if words[j] in ("&&", ";", "||", "|")), len(words))
            found.append(words[i + 2:end])
    return found


def option(arguments: list[str], flag: str) -> str | None:
    return arguments[arguments.index(flag) + 1] if flag in arguments else None


def test_install_is_make_ups_without_the_dev_extra():
    make_installs = [a for a in pip_installs(make_recipe("$(STAMP)")) if "-e" in a]
    assert make_installs, "the Makefile no longer installs with pip install -e"
    make = make_installs[0]
    docker = [a for line in (args for kind, args in instructions() if kind == "RUN") for a in pip_installs(line)
              if "-e" in a]
    assert docker, "the Dockerfile has no `pip install ... -e .`"
    assert option(docker[-1], "-c") == option(make, "-c") == "requirements.lock"
    # The Makefile installs '.[dev]' (tests, linters); the image needs the project alone.
    assert (option(make, "-e") or "").split("[")[0] == option(docker[-1], "-e") == "."


def test_command_is_make_ups():
    assert re.search(r"\bkafkagram up\b", make_recipe("up"))
    _, arguments = [(k, a) for k, a in instructions() if k in ("CMD", "ENTRYPOINT")][-1]
    command = json.loads(arguments)  # exec form: the runtime is PID 1 and gets SIGTERM itself
    assert command[0] == "kafkagram" and command[-1] == "up", command
    # Published ports only reach a runtime listening beyond the container's loopback.
    assert option(command, "--host") == "0.0.0.0"
    exposed = {int(p) for k, a in instructions() if k == "EXPOSE" for p in a.split()}
    assert exposed >= {3000, 3001, 3002}


def test_python_is_the_projects():
    """The image runs the local runtime, as `make up` does: on the Python requirements.lock was resolved
    for (pyproject's requires-python), which may be older than the template's Lambda Runtime (docs/deploy.md)."""
    requires = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["requires-python"]
    base = [a for k, a in instructions() if k == "FROM"][-1]
    version = re.match(r"python:(\d+\.\d+\.\d+)-", base)
    assert version, f"pin the patch version: {base}"
    assert Version(version.group(1)) in SpecifierSet(requires), f"{base} vs requires-python {requires}"


def test_build_context_keeps_what_the_runtime_needs(local_template):
    ignored = [line.strip() for line in (REPO / ".dockerignore").read_text().splitlines()
               if line.strip() and not line.startswith("#")]
    assert not [p for p in ignored if p.startswith("!")], "keep .dockerignore free of exceptions (checked simply)"

    def is_ignored(path: str) -> bool:
        parts = path.strip("/").split("/")
        prefixes = ["/".join(parts[:i]) for i in range(1, len(parts) + 1)]
        return any(fnmatch.fnmatch(prefix, pattern) for prefix in prefixes for pattern in ignored)

    needed = {"pyproject.toml", "requirements.lock", "template.yaml", "emulator", "kafkagram_local"}
    for spec in local_template.functions.values():
        needed.add(spec.code_dir.relative_to(REPO).as_posix())
        needed.update(d.relative_to(REPO).as_posix() for d in spec.layer_dirs)
    assert not [path for path in sorted(needed) if is_ignored(path)]
    assert all(is_ignored(path) for path in (".venv", ".git", ".run"))

"""The HTTP API's OpenAPI document, generated from the code: `python -m kafkagram_local.openapi`
writes docs/openapi.json; `--check` exits 1 when the checked-in file differs (CI, tests/api).

The API function's modules import as top-level `app`, `routes`... (its CodeUri is Lambda's task
root), so its directory goes on sys.path for the import, as the Lambda runtime would put it.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
API_DIR = REPO / "functions" / "api"
DOCUMENT = REPO / "docs" / "openapi.json"


def render() -> str:
    """The document as the running API serves it at /api/openapi.json, with a final newline."""
    if str(API_DIR) not in sys.path:
        sys.path.insert(0, str(API_DIR))
    app = importlib.import_module("app").app
    return str(app.get_openapi_json_schema()) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="fail if docs/openapi.json is out of date")
    args = parser.parse_args(argv)
    document = render()
    if args.check:
        current = DOCUMENT.read_text() if DOCUMENT.exists() else ""
        if current != document:
            print(f"{DOCUMENT.relative_to(REPO)} is out of date: run python -m kafkagram_local.openapi",
                  file=sys.stderr)
            return 1
        return 0
    DOCUMENT.write_text(document)
    print(f"wrote {DOCUMENT.relative_to(REPO)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""A handler that does nothing: the runtime's own cost is what the benchmark measures."""

from typing import Any


def handler(event: dict[str, Any], context: Any) -> None:
    return None

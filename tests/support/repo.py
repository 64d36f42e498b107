"""Paths of the repository, for tests wherever they sit."""

from __future__ import annotations

from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
TEMPLATE = REPO / "template.yaml"
COMPOSE = REPO / "docker-compose.yml"
APPS = Path(__file__).resolve().parent / "apps"  # small SAM apps that exercise the local runtime


def parameter_default(document: dict[str, Any], name: str) -> Any:
    """A template parameter's default, from the template as written."""
    return document["Parameters"][name]["Default"]

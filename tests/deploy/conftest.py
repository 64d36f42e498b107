"""Shared reads of the deploy files; every test here runs offline, without Docker or AWS."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from emulator.cfn_yaml import load_template
from emulator.template import Template, parse_template

REPO = Path(__file__).resolve().parents[2]
TEMPLATE = REPO / "template.yaml"
COMPOSE = REPO / "docker-compose.yml"


@pytest.fixture(scope="session")
def template_document() -> dict[str, Any]:
    """template.yaml as written (intrinsics unresolved, long form)."""
    return load_template(TEMPLATE)


@pytest.fixture(scope="session")
def local_template() -> Template:
    """template.yaml as the local runtime reads it: defaults only, no overrides."""
    return parse_template(TEMPLATE)


@pytest.fixture(scope="session")
def compose() -> dict[str, Any]:
    return yaml.safe_load(COMPOSE.read_text())


def parameter_default(document: dict[str, Any], name: str) -> Any:
    return document["Parameters"][name]["Default"]

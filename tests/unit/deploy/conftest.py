"""The deploy files as the tests read them; every test here runs offline, without Docker or AWS."""

from __future__ import annotations

from typing import Any

import pytest
import yaml

from tests.support.repo import COMPOSE


@pytest.fixture(scope="session")
def compose() -> dict[str, Any]:
    return yaml.safe_load(COMPOSE.read_text())

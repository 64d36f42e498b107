"""Fixtures of the integration tier shared by its folders: the S3 emulator holding the media bucket."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.support.services import local_s3, s3_client
from tests.support.uploads import BUCKET


@pytest.fixture(scope="session")
def s3_endpoint() -> Iterator[str]:
    """The S3 emulator (with its POST-policy front) holding the media bucket, for the whole session."""
    with local_s3(BUCKET) as endpoint_url:
        yield endpoint_url


@pytest.fixture
def s3(s3_endpoint: str) -> Any:
    return s3_client(s3_endpoint)

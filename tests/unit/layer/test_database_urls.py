"""DATABASE_URL as libpq reads it: the TLS settings of each `sslmode`, and no parameter silently ignored
(refused before any connection is tried)."""

from __future__ import annotations

import ssl

import pytest

from kafkagram.db import connect, tls_context
from tests.support.services import POSTGRES_SERVER_URL


def test_each_sslmode_verifies_as_libpq_does():
    assert tls_context("disable") is None
    require = tls_context("require")
    assert require is not None and require.verify_mode == ssl.CERT_NONE and not require.check_hostname
    verify_ca = tls_context("verify-ca")
    assert verify_ca is not None and verify_ca.verify_mode == ssl.CERT_REQUIRED and not verify_ca.check_hostname
    verify_full = tls_context("verify-full")
    assert verify_full is not None and verify_full.verify_mode == ssl.CERT_REQUIRED and verify_full.check_hostname


@pytest.mark.parametrize(("query", "named"), [("sslmode=prefer", "prefer"), ("connect_timeout=5", "connect_timeout")])
def test_what_this_client_cannot_honour_is_refused_by_name(query, named):
    with pytest.raises(ValueError, match=named):
        connect(f"{POSTGRES_SERVER_URL}/postgres?{query}")

"""Database TLS as deployed: sslmode=verify-full against the CA bundle named by configuration (the RDS
global bundle on AWS), and on AWS nothing weaker: refused before any connection is tried."""

from __future__ import annotations

import datetime
import ssl
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from kafkagram.config import Settings
from kafkagram.db import InsecureDatabaseTls, connect, tls_context
from tests.unit.conftest import ServiceUsed

RDS_URL = "postgresql://kafkagram.cluster-abc.eu-west-1.rds.amazonaws.com:5432/kafkagram"
# A Lambda sandbox's environment (kafkagram.auth.tokens.running_on_aws); the local runtime adds AWS_SAM_LOCAL.
ON_AWS = {"AWS_LAMBDA_FUNCTION_NAME": "kafkagram-dev-api"}
LOCAL_RUNTIME = {**ON_AWS, "AWS_SAM_LOCAL": "true"}


@pytest.fixture(scope="module")
def ca_bundle(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A PEM bundle with one self-signed CA, standing in for RDS's global-bundle.pem."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Test RDS Root CA")])
    now = datetime.datetime.now(datetime.UTC)
    certificate = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
                   .serial_number(x509.random_serial_number()).not_valid_before(now)
                   .not_valid_after(now + datetime.timedelta(days=1))
                   .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
                   .sign(key, hashes.SHA256()))
    path = tmp_path_factory.mktemp("ca") / "rds-global-bundle.pem"
    path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    return path


def test_verify_full_checks_certificate_and_host_name_against_the_bundle_only(ca_bundle):
    context = tls_context("verify-full", str(ca_bundle))
    assert context is not None
    assert context.verify_mode == ssl.CERT_REQUIRED
    assert context.check_hostname
    assert context.minimum_version >= ssl.TLSVersion.TLSv1_2
    # The bundle is loaded, and it is the only trust anchor: no system CA comes with it.
    [loaded] = context.get_ca_certs()
    assert dict(pair[0] for pair in loaded["subject"])["commonName"] == "Test RDS Root CA"


def test_a_missing_bundle_is_named(tmp_path):
    with pytest.raises(ValueError, match=r"the database CA bundle .*absent\.pem does not exist"):
        tls_context("verify-full", str(tmp_path / "absent.pem"))


def test_the_bundle_comes_from_database_ca_bundle(monkeypatch, ca_bundle):
    monkeypatch.setenv("DATABASE_CA_BUNDLE", str(ca_bundle))
    assert Settings().database_ca_bundle == str(ca_bundle)


@pytest.mark.parametrize("query", ["", "?sslmode=disable", "?sslmode=require", "?sslmode=verify-ca"])
def test_on_aws_anything_weaker_than_verify_full_is_refused_before_connecting(query, ca_bundle):
    with pytest.raises(InsecureDatabaseTls, match=r"on AWS the database connection must use sslmode=verify-full"):
        connect(RDS_URL + query, str(ca_bundle), environ=ON_AWS)


def test_on_aws_verify_full_needs_the_ca_bundle():
    with pytest.raises(InsecureDatabaseTls, match=r"needs the RDS CA bundle: set DATABASE_CA_BUNDLE"):
        connect(RDS_URL + "?sslmode=verify-full", environ=ON_AWS)


def test_on_aws_verify_full_with_the_bundle_goes_on_to_connect(ca_bundle):
    # Past the checks, the connection itself is what the unit tier refuses (a loopback address: no DNS).
    server = "postgresql://127.0.0.1:5432/kafkagram"
    with pytest.raises(ServiceUsed):
        connect(server + "?sslmode=verify-full", str(ca_bundle), environ=ON_AWS)
    with pytest.raises(ServiceUsed):
        connect(f"{server}?sslmode=verify-full&sslrootcert={ca_bundle}", environ=ON_AWS)


@pytest.mark.parametrize("environ", [{}, LOCAL_RUNTIME], ids=["local machine", "local runtime"])
def test_local_connections_are_unchanged(environ):
    for query in ("", "?sslmode=require"):
        with pytest.raises(ServiceUsed):
            connect("postgresql://postgres@127.0.0.1:5432/kafkagram" + query, environ=environ)

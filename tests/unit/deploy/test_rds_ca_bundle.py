"""On AWS the functions verify PostgreSQL against the RDS CA bundle: `make deploy` downloads it into the
layer before `sam build`, the template points DATABASE_CA_BUNDLE at where the layer puts it
(/opt/python is the root of a Python layer), and the file is never committed."""

from __future__ import annotations

import re

from emulator.template import parse_template
from tests.support.repo import REPO, TEMPLATE
from tests.unit.deploy.test_template import AWS_ACCOUNT, AWS_PARAMETERS, AWS_REGION

MAKEFILE = (REPO / "Makefile").read_text()


def make_variable(name: str) -> str:
    match = re.search(rf"^{name} :?= (.+)$", MAKEFILE, re.MULTILINE)
    assert match, f"Makefile sets no {name}"
    return match.group(1).strip()


def test_deploy_downloads_the_rds_bundle_first():
    assert re.search(r"^deploy: .*\brds-ca-bundle\b", MAKEFILE, re.MULTILINE)
    assert make_variable("RDS_CA_URL") == "https://truststore.pki.rds.amazonaws.com/global/global-bundle.pem"


def test_the_template_names_the_bundle_where_the_layer_puts_it():
    template = parse_template(TEMPLATE, AWS_PARAMETERS, region=AWS_REGION, account_id=AWS_ACCOUNT)
    layer_root = template.resources["KafkagramLayer"].properties["ContentUri"].rstrip("/") + "/"
    bundle = make_variable("RDS_CA_BUNDLE")
    assert bundle.startswith(layer_root)
    expected = "/opt/python/" + bundle.removeprefix(layer_root)
    assert {spec.environment["DATABASE_CA_BUNDLE"] for spec in template.functions.values()} == {expected}


def test_the_bundle_is_never_committed():
    ignored = [line.strip() for line in (REPO / ".gitignore").read_text().splitlines()]
    assert make_variable("RDS_CA_BUNDLE") in ignored

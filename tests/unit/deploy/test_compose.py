"""docker-compose.yml: valid against the Compose Specification, every image pinned, health checks and
start order, and the runtime wired to the compose services with the settings the code reads.
(Docker does not run here; this is what can be checked without it.)"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import pytest
from jsonschema import Draft202012Validator

from kafkagram.config import Settings
from tests.support.repo import REPO, parameter_default

SCHEMA = Path(__file__).with_name("compose-spec.json")
RUNTIME = "kafkagram"
# Backing service of each runtime setting, and the port that service listens on inside the network.
RUNTIME_BACKENDS = {
    "DATABASE_URL": ("postgres", 5432),
    "REDIS_URL": ("redis", 6379),
    "KAFKA_BOOTSTRAP_SERVERS": ("redpanda", 9092),
    "AWS_ENDPOINT_URL_S3": ("localstack", 4566),
    "SMTP_URL": ("mailpit", 1025),
}
# Variables the AWS SDK reads (the runtime and its functions sign requests to LocalStack with them).
AWS_SDK_VARIABLES = {"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_DEFAULT_REGION", "AWS_REGION"}
LOOPBACK = {"localhost", "127.0.0.1", "0.0.0.0"}
# The last LocalStack release that starts without an auth token; later images exit without one.
LAST_FREE_LOCALSTACK = (4, 14)


def environment(service: dict[str, Any]) -> dict[str, str]:
    """A service's environment in either Compose form (mapping or list of NAME=VALUE)."""
    env = service.get("environment") or {}
    if isinstance(env, list):
        env = dict(item.split("=", 1) for item in env)
    return {str(k): str(v) for k, v in env.items()}


def network_names(compose: dict[str, Any], name: str) -> set[str]:
    """The names a service answers to on the project's networks: its own and its aliases."""
    names = {name}
    networks = compose["services"][name].get("networks") or {}
    if isinstance(networks, dict):
        for settings in networks.values():
            names.update((settings or {}).get("aliases") or [])
    return names


def advertised_kafka_addresses(compose: dict[str, Any]) -> set[str]:
    command = " ".join(compose["services"]["redpanda"]["command"])
    listeners = re.search(r"--advertise-kafka-addr\s+(\S+)", command)
    assert listeners, "redpanda advertises no Kafka address"
    return {item.split("://", 1)[1] for item in listeners.group(1).split(",")}


def settings_the_code_reads() -> set[str]:
    """Settings fields (pydantic-settings reads NAME from the environment) and the CLI's variables."""
    cli = (REPO / "kafkagram_local" / "cli.py").read_text()
    return {name.upper() for name in Settings.model_fields} | set(re.findall(r"os\.environ\.get\(\"(\w+)\"", cli))


def published_target_ports(service: dict[str, Any]) -> set[int]:
    ports = set()
    for port in service.get("ports") or []:
        ports.add(int(port["target"]) if isinstance(port, dict) else int(str(port).rsplit(":", 1)[-1]))
    return ports


def test_compose_file_matches_the_compose_specification(compose):
    schema = json.loads(SCHEMA.read_text())
    errors = sorted(Draft202012Validator(schema).iter_errors(compose), key=lambda e: list(e.absolute_path))
    assert not errors, "\n".join(f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in errors)


def test_the_schema_rejects_a_broken_file(compose):
    """The vendored schema really constrains services (guards against an empty or permissive file)."""
    broken = {"services": {"x": {"image": "a:1", "depends_on": {"y": {"condition": "when_ready"}}}}}
    assert list(Draft202012Validator(json.loads(SCHEMA.read_text())).iter_errors(broken))


def test_every_image_is_pinned_to_a_version(compose):
    for name, service in compose["services"].items():
        if "build" in service:
            continue
        image = service.get("image", "")
        tag = image.rsplit("/", 1)[-1].partition(":")[2]
        assert tag and tag != "latest" and re.search(r"\d", tag), f"{name}: image {image!r} is not pinned"


def test_localstack_is_a_version_that_runs_without_an_account(compose):
    tag = compose["services"]["localstack"]["image"].rsplit(":", 1)[1]
    assert tuple(int(part) for part in tag.split(".")[:2]) <= LAST_FREE_LOCALSTACK, tag


def test_start_order_waits_for_healthy_services(compose):
    services = compose["services"]
    depends_on = services[RUNTIME]["depends_on"]
    for backend, _port in RUNTIME_BACKENDS.values():
        assert depends_on.get(backend, {}).get("condition") == "service_healthy", (
            f"{RUNTIME} must wait for {backend} to be healthy")
    for name, service in services.items():
        for target, condition in (service.get("depends_on") or {}).items():
            assert condition.get("condition") == "service_healthy", f"{name} -> {target}"
            assert services[target].get("healthcheck", {}).get("test"), f"{target} has no health check"
    assert services[RUNTIME]["healthcheck"]["test"]


def test_runtime_environment_points_at_the_compose_services(compose):
    env = environment(compose["services"][RUNTIME])
    known = settings_the_code_reads() | AWS_SDK_VARIABLES
    assert not set(env) - known, f"variables no code reads: {sorted(set(env) - known)}"
    for variable, (backend, port) in RUNTIME_BACKENDS.items():
        assert variable in env, f"{RUNTIME} lacks {variable}"
        names = network_names(compose, backend)
        for address in env[variable].split(","):
            url = urlparse(address if "://" in address else f"kafka://{address}")
            assert url.hostname in names and url.port == port, (
                f"{variable}={env[variable]}: expected {backend} ({', '.join(sorted(names))}) on port {port}")

    database = urlparse(env["DATABASE_URL"])
    postgres = environment(compose["services"]["postgres"])
    assert (database.username, database.password, database.path.lstrip("/")) == (
        postgres["POSTGRES_USER"], postgres["POSTGRES_PASSWORD"], postgres["POSTGRES_DB"])
    assert set(env["KAFKA_BOOTSTRAP_SERVERS"].split(",")) <= advertised_kafka_addresses(compose)
    assert published_target_ports(compose["services"][RUNTIME]) >= {3000, 3001, 3002}


def test_bucket_settings_agree_with_localstack_and_the_template(compose, template_document):
    runtime = environment(compose["services"][RUNTIME])
    localstack = environment(compose["services"]["localstack"])
    assert localstack["SERVICES"] == "s3"
    for variable in ("MEDIA_BUCKET", "WEB_ORIGIN"):
        assert runtime[variable] == localstack[variable], variable
    # The template's local values: what functions get under `kafkagram up` (see test_template.py).
    assert runtime["WEB_ORIGIN"] == parameter_default(template_document, "WebOrigin")
    assert runtime["MEDIA_BUCKET"] == Settings.model_fields["media_bucket"].default
    assert int(localstack["ABANDONED_UPLOAD_DAYS"]) == parameter_default(template_document, "AbandonedUploadDays")
    mounts = compose["services"]["localstack"]["volumes"]
    assert any(m.split(":")[:2] == ["./localstack/init", "/etc/localstack/init"] for m in mounts), mounts
    assert (REPO / "localstack" / "init" / "ready.d" / "media_bucket.py").is_file()


def test_mail_goes_to_mailpit_whose_ui_is_published(compose):
    """`up` checks an SMTP_URL it is given (no sink of its own then): Mailpit catches every email."""
    env = environment(compose["services"][RUNTIME])
    assert urlparse(env["SMTP_URL"]).scheme == "smtp"  # Mailpit takes plain SMTP without login
    assert 8025 in published_target_ports(compose["services"]["mailpit"])


def test_tools_point_at_the_compose_services(compose):
    console = environment(compose["services"]["console"])
    assert set(console["KAFKA_BROKERS"].split(",")) <= advertised_kafka_addresses(compose)
    assert urlparse(console["REDPANDA_ADMINAPI_URLS"]).hostname == "redpanda"
    assert environment(compose["services"]["redisinsight"])["RI_REDIS_HOST"] == "redis"


@pytest.mark.parametrize("service_name", ["console", "redisinsight", RUNTIME])
def test_every_address_in_an_environment_is_a_compose_service(compose, service_name):
    names = set().union(*(network_names(compose, name) for name in compose["services"]))
    for variable, value in environment(compose["services"][service_name]).items():
        for host in re.findall(r"(?:^|,|//)(?:[^@/,\s]+@)?([A-Za-z][\w.-]*):\d+", value):
            assert host in names | LOOPBACK, f"{service_name} {variable}: {host} is no compose service"

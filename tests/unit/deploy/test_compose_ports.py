"""docker-compose.yml publishes nothing beyond this machine: every port binds 127.0.0.1 (its services
run with local passwords or none, and Docker's published ports bypass host firewalls such as ufw)."""

from __future__ import annotations

import ipaddress
from typing import Any

import pytest

from tests.support.repo import COMPOSE

LOOPBACK = "127.0.0.1"


def host_ip(port: Any) -> str | None:
    """The host address of one `ports` entry in either Compose form; None when it binds every address."""
    if isinstance(port, dict):  # long form: {target, published, host_ip, protocol}
        return port.get("host_ip")
    text = str(port).split("/", 1)[0]  # drop /tcp or /udp
    if text.startswith("["):  # [::1]:8080:80
        return text[1:text.index("]")]
    parts = text.split(":")
    return parts[0] if len(parts) == 3 else None  # HOST:PUBLISHED:TARGET, else PUBLISHED:TARGET or TARGET


@pytest.mark.parametrize(("entry", "expected"), [
    ("127.0.0.1:6379:6379", LOOPBACK), ("6379:6379", None), ("6379", None), ("0.0.0.0:80:80/tcp", "0.0.0.0"),
    ("[::1]:8080:80", "::1"), ({"target": 80, "published": 8080, "host_ip": LOOPBACK}, LOOPBACK),
    ({"target": 80, "published": 8080}, None),
])
def test_host_ip_reads_every_compose_port_form(entry, expected):
    assert host_ip(entry) == expected


def test_every_published_port_binds_127_0_0_1_only(compose):
    published = [(name, port) for name, service in compose["services"].items() for port in service.get("ports") or []]
    assert published, "docker-compose.yml publishes no port"
    wrong = [f"{name}: {port!r}" for name, port in published if host_ip(port) != LOOPBACK]
    assert not wrong, f"publish as \"{LOOPBACK}:HOST:CONTAINER\": {', '.join(wrong)}"
    assert all(ipaddress.ip_address(host_ip(port) or "0.0.0.0").is_loopback for _, port in published)


def test_no_service_uses_the_host_network(compose):
    # network_mode: host would expose every listening port without any `ports` entry.
    assert not [name for name, service in compose["services"].items() if service.get("network_mode") == "host"]
    assert COMPOSE.is_file()

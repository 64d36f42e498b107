"""Webhooks without services: the address checks that keep deliveries off private networks, URL checks,
signatures, the sealed secrets, and the retry budget agreeing with the template's mappings."""

from __future__ import annotations

import ipaddress
import re

import pytest

from kafkagram import webhooks
from kafkagram.webhooks import RefusedTarget, SecretBox, check_url, refused_address, resolve_target


@pytest.mark.parametrize(("address", "reason"), [
    ("127.0.0.1", "loopback"),
    ("127.255.0.9", "loopback"),
    ("::1", "loopback"),
    ("10.1.2.3", "private"),
    ("172.16.0.1", "private"),
    ("192.168.1.1", "private"),
    ("fc00::1", "private"),
    ("169.254.169.254", "link-local"),
    ("fe80::1", "link-local"),
    ("224.0.0.1", "multicast"),
    ("ff02::1", "multicast"),
    ("0.0.0.0", "unspecified"),
    ("::", "unspecified"),
    ("100.64.0.1", "not globally routable"),  # carrier-grade NAT
    ("240.0.0.1", "private"),  # reserved (Python files it under private)
    ("::ffff:127.0.0.1", "loopback (IPv4-mapped)"),
    ("::ffff:10.0.0.1", "private (IPv4-mapped)"),
    ("64:ff9b::7f00:1", "loopback (NAT64)"),
    ("64:ff9b::a9fe:a9fe", "link-local (NAT64)"),
    ("2002:7f00:1::", "loopback (6to4)"),
    ("2001:0:4136:e378:8000:63bf:3fff:fdd2", "a tunnelling address"),  # Teredo
    ("64:ff9b:1::1", "a tunnelling address"),  # local-use NAT64
])
def test_private_and_special_addresses_are_refused(address, reason):
    assert refused_address(ipaddress.ip_address(address)) == reason


@pytest.mark.parametrize("address", ["93.184.215.14", "2606:2800:21f:cb07:6820:80da:af6b:8b2c", "1.1.1.1",
                                     "::ffff:93.184.215.14", "64:ff9b::5db8:d70e"])
def test_public_addresses_are_allowed(address):
    assert refused_address(ipaddress.ip_address(address)) is None


@pytest.mark.parametrize(("url", "message"), [
    ("http://hooks.example.com/x", "must start with https://"),
    ("ftp://hooks.example.com/x", "must start with https://"),
    ("https://user:pass@hooks.example.com/x", "credentials"),
    ("https://token@hooks.example.com/x", "credentials"),
    ("https:///x", "no host"),
    ("https://localhost/x", "localhost"),
    ("https://api.localhost/x", "localhost"),
    ("https://127.0.0.1/x", "loopback"),
    ("https://[::ffff:169.254.169.254]/x", "link-local (IPv4-mapped)"),
    ("https://10.0.0.1:8443/x", "private"),
    ("https://hooks.example.com/x#y", "fragment"),
    ("https://hooks.example.com/a b", "spaces"),
    ("https://hooks.example.com:99999/x", "not a URL"),
    ("https://hooks.example.com/" + "x" * webhooks.URL_MAX_LENGTH, "longer than"),
])
def test_urls_that_are_refused(url, message):
    with pytest.raises(RefusedTarget, match=re.escape(message)):
        check_url(url, allow_local=False)


def test_the_local_flag_allows_http_and_local_addresses():
    assert check_url("http://127.0.0.1:8080/hook", allow_local=True)
    assert check_url("https://hooks.example.com/x?token=1", allow_local=False)
    with pytest.raises(RefusedTarget, match="credentials"):  # never, flag or not
        check_url("http://a:b@127.0.0.1/", allow_local=True)


def test_a_name_resolving_to_any_private_address_is_refused():
    def rebinding(host: str, port: int) -> list[str]:
        return ["93.184.215.14", "127.0.0.1"]  # one public, one loopback: refused whole

    with pytest.raises(RefusedTarget, match=r"resolves to 127\.0\.0\.1, which is loopback"):
        resolve_target("https://hooks.example.com/x", allow_local=False, resolve=rebinding)
    with pytest.raises(RefusedTarget, match="link-local"):
        resolve_target("https://metadata.example/x", allow_local=False, resolve=lambda h, p: ["169.254.169.254"])


def test_the_target_pins_the_checked_address():
    target = resolve_target("https://hooks.example.com:8443/in?a=1", allow_local=False,
                            resolve=lambda h, p: ["93.184.215.14", "1.1.1.1"])
    assert (target.host, target.port, target.address, target.path) == ("hooks.example.com", 8443, "93.184.215.14",
                                                                       "/in?a=1")


def test_signatures_verify_and_expire():
    body = b'{"id":"x"}'
    header = webhooks.signature("whsec_abc", 1_700_000_000, body)
    assert header.startswith("t=1700000000,v1=")
    assert webhooks.verify_signature("whsec_abc", header, body, now=1_700_000_100)
    assert not webhooks.verify_signature("whsec_abc", header, body, now=1_700_000_000 + 301)  # a replay
    assert not webhooks.verify_signature("whsec_abd", header, body, now=1_700_000_000)
    assert not webhooks.verify_signature("whsec_abc", "v1=00", body, now=1_700_000_000)
    # Several v1 values (a secret being rolled) pass when one matches.
    rolled = header.replace("v1=", "v1=" + "0" * 64 + ",v1=")
    assert webhooks.verify_signature("whsec_abc", rolled, body, now=1_700_000_000)


def test_sealed_secrets_open_only_with_the_key_and_for_their_endpoint():
    box = SecretBox("k" * 32)
    sealed = box.seal(7, "whsec_secret")
    assert b"whsec_secret" not in sealed
    assert box.open(7, sealed) == "whsec_secret"
    with pytest.raises(Exception):  # noqa: B017 - cryptography's InvalidTag
        box.open(8, sealed)  # copied to another endpoint's row
    with pytest.raises(Exception):  # noqa: B017
        SecretBox("j" * 32).open(7, sealed)
    with pytest.raises(ValueError):
        SecretBox("short")


def test_the_retry_budget_is_the_mappings(template_document):
    """MAX_ATTEMPTS (when a delivery shows failed) is the first attempt plus each mapping's retries."""
    spec = template_document["Resources"]["WebhooksFunction"]["Properties"]
    retries = {name: event["Properties"]["MaximumRetryAttempts"] for name, event in spec["Events"].items()}
    assert set(retries.values()) == {webhooks.MAX_ATTEMPTS - 1}
    destinations = {event["Properties"]["DestinationConfig"]["OnFailure"]["Destination"]
                    for event in spec["Events"].values()}
    assert destinations == {"kafka://user-events-failed", "kafka://interaction-events-failed",
                            "kafka://post-events-failed"}
    filters = " ".join(event["Properties"]["FilterCriteria"]["Filters"][0]["Pattern"]
                       for event in spec["Events"].values())
    assert all(f'"{type_name}"' in filters for type_name in webhooks.EVENT_TYPES)

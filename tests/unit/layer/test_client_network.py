"""The keys of per-client limits and the coarse address the session list shows."""

from __future__ import annotations

import pytest

from kafkagram.auth.ratelimit import client_network
from kafkagram.auth.sessions import coarse_ip


@pytest.mark.parametrize(("source_ip", "key"), [
    ("203.0.113.7", "203.0.113.7"),  # IPv4: per address
    ("203.0.113.8", "203.0.113.8"),
    ("2001:db8:1:2:3:4:5:6", "2001:db8:1:2::/64"),  # IPv6: one subscriber's /64
    ("2001:DB8:1:2:ffff::1", "2001:db8:1:2::/64"),
    ("2001:db8:1:3::1", "2001:db8:1:3::/64"),
    ("::ffff:198.51.100.4", "198.51.100.4"),  # IPv4-mapped: the IPv4 address
    (" 192.0.2.1 ", "192.0.2.1"),
    ("", "unknown"),
    ("not an address", "unknown"),
])
def test_client_network_groups_ipv6_by_64_and_keeps_ipv4_addresses(source_ip, key):
    assert client_network(source_ip) == key


@pytest.mark.parametrize(("source_ip", "shown"), [
    ("198.51.100.23", "198.51.100.0/24"),
    ("2001:db8:abcd:12:1::9", "2001:db8:abcd::/48"),
    ("::ffff:198.51.100.4", "198.51.100.0/24"),
    ("", ""),
])
def test_the_session_list_shows_only_a_coarse_network(source_ip, shown):
    assert coarse_ip(source_ip) == shown

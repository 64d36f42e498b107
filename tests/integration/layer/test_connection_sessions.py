"""The connection registry's session index and per-user cap, against the real Redis (db 15)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import redis

from kafkagram.connections import ConnectionRegistry


@pytest.fixture
def registry(redis_client: redis.Redis, unique: str) -> Iterator[ConnectionRegistry]:
    prefix = f"test:{unique}:"
    yield ConnectionRegistry(redis_client, prefix=prefix)
    keys = list(redis_client.scan_iter(match=f"{prefix}*"))
    if keys:
        redis_client.delete(*keys)


def test_a_connection_is_recorded_with_its_session(registry: ConnectionRegistry) -> None:
    assert registry.register(7, "c1", "phone")
    assert registry.register(7, "c2", "laptop")
    assert registry.register(7, "c3")  # a token without a session ("sid"): still a connection of the user
    assert registry.owner_of("c1") == (7, "phone") and registry.owner_of("c3") == (7, None)
    assert registry.user_of("c2") == 7
    assert registry.connections_of_sessions(["phone"]) == ["c1"]
    assert registry.connections_of_sessions(["phone", "laptop", "gone"]) == ["c1", "c2"]
    assert registry.refresh("c1") == 7
    assert 0 < registry._redis.ttl(registry.session_key("phone")) <= registry.ttl_s
    assert registry.unregister("c1") == 7
    assert registry.connections_of_sessions(["phone"]) == []
    assert registry.connections_of([7]) == {7: ["c2", "c3"]}


def test_the_cap_refuses_one_more_but_not_connections_whose_keys_expired(registry: ConnectionRegistry) -> None:
    for n in range(3):
        assert registry.register(7, f"c{n}", "s", max_per_user=3)
    assert not registry.register(7, "c3", "s", max_per_user=3)
    assert registry.count_of(7) == 3 and registry.owner_of("c3") is None  # nothing recorded
    assert registry.register(8, "other", max_per_user=3)  # another user has their own places
    registry._redis.delete(registry.connection_key("c0"))  # a lost $disconnect: only the set remembers it
    assert registry.register(7, "c3", "s", max_per_user=3)
    assert sorted(registry.connections_of([7])[7]) == ["c1", "c2", "c3"]

"""A person's action crosses the whole system under `kafkagram up`: HTTP API → PostgreSQL + outbox
(one transaction) → relay → Kafka → event source mapping (with its filter) → handler → PostgreSQL."""

from __future__ import annotations

import pytest

from kafkagram.db import connect
from tests.support.up import api_call, register_users, running_up
from tests.support.waiting import wait_for


@pytest.mark.slow
def test_a_follow_through_the_api_notifies_the_followee(fresh_database, tmp_path):
    with running_up(fresh_database, tmp_path) as ports:
        sessions = register_users(ports["http"], "ada", "bob")
        tokens = {name: session["access_token"] for name, session in sessions.items()}
        status, _ = api_call(ports["http"], "PUT", "/api/users/ada/follow", token=tokens["bob"])
        assert status == 204

        database = connect(fresh_database)
        try:
            rows = wait_for(lambda: database.run(
                "SELECT n.kind, n.actor_count FROM notifications n JOIN users u ON u.id = n.recipient_id "
                "WHERE u.username = 'ada'"), timeout=90, message="ada's follow notification")
        finally:
            database.close()
        assert rows == [["follow", 1]]
        status, profile = api_call(ports["http"], "GET", "/api/users/ada", token=tokens["bob"])
        assert status == 200 and profile["followers_count"] == 1 and profile["is_following"] is True

"""`kafkagram replay --topic T [--since TIME] [--type TYPE]`: events from the event log back in line."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from tests.support.repo import REPO


def test_replay_puts_the_chosen_published_events_back_in_line(db, database_url):
    db.run("TRUNCATE outbox")
    rows = {}
    for name, topic, kind, age in (("wanted", "post-events", "post-created", "10 minutes"),
                                   ("too old", "post-events", "post-created", "3 hours"),
                                   ("other type", "post-events", "post-deleted", "10 minutes"),
                                   ("other topic", "user-events", "post-created", "10 minutes")):
        rows[name] = db.run("INSERT INTO outbox (topic, key, payload, created_at, published_at) VALUES "
                            "(:topic, 'k', CAST(:payload AS jsonb), now() - CAST(:age AS interval), now()) "
                            "RETURNING id", topic=topic, payload=json.dumps({"type": kind}), age=age)[0][0]
    done = subprocess.run([sys.executable, "-m", "kafkagram_local.cli", "replay", "--topic", "post-events",
                           "--since", "1h", "--type", "post-created"], cwd=REPO, capture_output=True, text=True,
                          env={**os.environ, "DATABASE_URL": database_url}, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("1 events of post-events of type post-created since ")
    assert db.run("SELECT id FROM outbox WHERE published_at IS NULL") == [[rows["wanted"]]]
    refused = subprocess.run([sys.executable, "-m", "kafkagram_local.cli", "replay", "--topic", "post-events",
                              "--since", "yesterday"], cwd=REPO, capture_output=True, text=True,
                             env={**os.environ, "DATABASE_URL": database_url}, timeout=60)
    assert refused.returncode == 2 and "neither an ISO 8601 time nor a span" in refused.stderr
    db.run("TRUNCATE outbox")

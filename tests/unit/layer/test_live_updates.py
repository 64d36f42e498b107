"""Live updates without a record per follower: fan-out groups the connected followers into chunks keyed
by shard, and push turns a chunk back into one view per recipient."""

from __future__ import annotations

import json

from kafkagram.events import new_event, validate
from kafkagram.events.catalog import TIMELINE_RECIPIENTS_MAX, TIMELINE_SHARDS, timeline_shard
from kafkagram.flows.fan_out import recipient_chunks
from kafkagram.flows.push import frames_of
from kafkagram.ids import compose_id


def test_recipients_are_chunked_by_shard_each_user_once_and_in_order():
    users = list(range(1, 3 * TIMELINE_RECIPIENTS_MAX))
    chunks = recipient_chunks(users)
    assert sorted(user for _, chunk in chunks for user in chunk) == users
    assert all(len(chunk) <= TIMELINE_RECIPIENTS_MAX and {timeline_shard(u) for u in chunk} == {shard}
               for shard, chunk in chunks)
    assert len(chunks) == TIMELINE_SHARDS  # 1,499 users: fewer than 500 in each of the shards
    same_shard = [u for u in range(1, 20_000) if timeline_shard(u) == 0][:2 * TIMELINE_RECIPIENTS_MAX + 1]
    assert [len(chunk) for _, chunk in recipient_chunks(same_shard)] == [500, 500, 1]
    assert recipient_chunks([]) == []


def test_ids_made_a_millisecond_apart_spread_over_every_shard():
    """Ids keep a per-millisecond sequence in their low bits (0 for most ids made one at a time): the
    shard must not follow them, or nearly every user lands on one shard and one partition."""
    users = [compose_id(1_800_000_000_000 + ms, 1, 0) for ms in range(8_000)]
    counts = [0] * TIMELINE_SHARDS
    for user in users:
        counts[timeline_shard(user)] += 1
    assert min(counts) > 0.8 * len(users) / TIMELINE_SHARDS


def test_the_shard_is_crc32_of_the_decimal_id_as_the_catalogue_documents():
    import zlib

    assert [timeline_shard(u) for u in (1, 42, 123456789012345678)] == [
        zlib.crc32(str(u).encode()) % TIMELINE_SHARDS for u in (1, 42, 123456789012345678)]


def test_a_chunk_becomes_one_frame_per_recipient_in_the_shape_clients_know():
    update = new_event("timeline-updated", {"shard": "2", "recipient_ids": ["10", "18", "10"], "action": "removed",
                                            "post_ids": ["3001"], "author_id": "1001"}, 1001)
    frames = frames_of(update)
    assert [user for user, _ in frames] == [10, 18]  # a repeated recipient gets one frame
    for user, frame in frames:
        document = json.loads(frame)
        validate(document)  # a valid version 1 event: what clients written for version 1 read
        assert (document["id"], document["version"]) == (update.id, 1)
        assert document["data"] == {"user_id": str(user), "action": "removed", "post_ids": ["3001"],
                                    "author_id": "1001"}


def test_a_notification_is_pushed_as_it_is():
    created = new_event("notification-created", {"notification_id": "6001", "user_id": "1002", "kind": "like",
                                                 "from_user_id": "1001", "post_id": "3002", "comment_id": None,
                                                 "text": None}, 1001)
    assert frames_of(created) == [(1002, created.to_json().encode())]

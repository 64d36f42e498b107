"""`kafkagram seed` (make seed) against a real `kafkagram up`: seeded users log in through the HTTP API,
see their followees' posts, their counters match the graph, their images are in S3, and running the
seed again tops up what is missing and adds nothing once complete."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from pathlib import Path

import boto3
import pytest
import redis
from PIL import Image

from kafkagram.db import connect
from kafkagram.timeline import FeedManager
from kafkagram_local.seed import GRAPH_NAME, SEED_PASSWORD, load_graph, posts_for, profile_for
from kafkagram_local.services import LOCAL_AWS_ACCESS_KEY_ID, LOCAL_AWS_SECRET_ACCESS_KEY
from tests.support.repo import REPO
from tests.support.services import REDIS_TEST_URL
from tests.support.up import api_call, running_up

SMALL = 120  # the first run: the subgraph of the first 120 users; the second run tops up to all 962
SEED_TIMEOUT_S = 240


def run_seed(env: dict[str, str], *args: str) -> str:
    done = subprocess.run([sys.executable, "-m", "kafkagram_local.cli", "seed", *args], cwd=REPO, env=env,
                          capture_output=True, text=True, timeout=SEED_TIMEOUT_S)
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def table_counts(database_url: str) -> dict[str, int]:
    conn = connect(database_url)
    try:
        return {table: int(conn.run(f"SELECT count(*) FROM {table}")[0][0])
                for table in ("users", "follows", "posts", "media", "post_media")}
    finally:
        conn.close()


def counter_mismatches(database_url: str) -> int:
    conn = connect(database_url)
    try:
        return int(conn.run(
            "SELECT count(*) FROM users u WHERE "
            "followers_count <> (SELECT count(*) FROM follows WHERE followee_id = u.id) OR "
            "following_count <> (SELECT count(*) FROM follows WHERE follower_id = u.id) OR "
            "posts_count <> (SELECT count(*) FROM posts WHERE author_id = u.id AND status = 'published')")[0][0])
    finally:
        conn.close()


def check_user(port: int, s3, node: int, graph_users: int) -> None:
    """Through the API: log in as graph user `node`, counters = graph degree, the home timeline holds
    exactly their own and their followees' posts (first page), and a post's images are processed JPEGs
    in S3."""
    graph = load_graph(graph_users)
    neighbours = {b if a == node else a for a, b in graph.edges if node in (a, b)}
    profile = profile_for(node)
    status, session = api_call(port, "POST", "/api/auth/login",
                               {"username": profile.username, "password": SEED_PASSWORD})
    assert status == 200, session
    token = session["access_token"]
    status, me = api_call(port, "GET", "/api/me", token=token)
    assert status == 200, me
    assert (me["followers_count"], me["following_count"]) == (len(neighbours), len(neighbours))
    assert me["posts_count"] == len(posts_for(node))
    assert me["display_name"] == profile.display_name and me["bio"] == profile.bio

    status, page = api_call(port, "GET", "/api/timeline?limit=50", token=token)
    assert status == 200, page
    expected = sum(len(posts_for(n)) for n in [node, *neighbours])  # their own posts and their followees'
    assert page["items"], "a seeded user's home timeline is empty"
    assert len(page["items"]) == min(50, expected)
    authors = {profile_for(n).username for n in [node, *neighbours]}
    assert {post["author"]["username"] for post in page["items"]} <= authors
    ids = [int(post["id"]) for post in page["items"]]
    assert ids == sorted(ids, reverse=True)

    # Explore is populated from the seeded posts: others' posts, none of their own or their followees'.
    status, explore = api_call(port, "GET", "/api/explore/posts", token=token)
    assert status == 200, explore
    assert explore["items"], "a seeded user's Explore is empty"
    assert not {post["author"]["username"] for post in explore["items"]} & authors

    media = page["items"][0]["media"][0]
    assert media["blurhash"] and media["width"] == media["height"] == 640
    for variant in media["variants"]:
        stored = s3.get_object(Bucket="kafkagram-media", Key=variant["object_key"])
        data = stored["Body"].read()
        assert stored["ContentType"] == "image/jpeg" and len(data) == variant["size_bytes"]
        assert Image.open(io.BytesIO(data)).size == (variant["width"], variant["height"])


@pytest.mark.slow
@pytest.mark.timeout(900)
def test_seed_through_the_api_and_again(fresh_database, tmp_path: Path, monkeypatch):
    # The API tests' Redis database; ids are unique per run, and the seeded keys are removed below.
    monkeypatch.setenv("REDIS_URL", REDIS_TEST_URL)
    seeded_ids: list[int] = []
    with running_up(fresh_database, tmp_path) as ports:
        env = {**os.environ, "DATABASE_URL": fresh_database, "REDIS_URL": REDIS_TEST_URL, "S3_PORT": str(ports["s3"])}
        env.pop("AWS_ENDPOINT_URL_S3", None)  # as in a fresh shell: seed finds the S3 of `up` by its port
        s3 = boto3.client("s3", endpoint_url=f"http://127.0.0.1:{ports['s3']}", region_name="us-east-1",
                          aws_access_key_id=os.environ.get("AWS_ACCESS_KEY_ID", LOCAL_AWS_ACCESS_KEY_ID),
                          aws_secret_access_key=os.environ.get("AWS_SECRET_ACCESS_KEY", LOCAL_AWS_SECRET_ACCESS_KEY))
        try:
            small = load_graph(SMALL)
            output = run_seed(env, "--users", str(SMALL))
            assert f"seeded {SMALL} users, {len(small.follows):,} follows" in output, output
            assert SEED_PASSWORD in output
            degrees = small.degrees()
            busiest = max(degrees, key=lambda n: degrees[n])
            check_user(ports["http"], s3, busiest, SMALL)

            # The full graph tops up the first run: the rest of the users, their posts and follows.
            output = run_seed(env)
            full = load_graph()
            assert f"seeded {962 - SMALL} users, {len(full.follows) - len(small.follows):,} follows" in output, output
            counts = table_counts(fresh_database)
            planned_posts = sum(len(posts_for(node)) for node in full.users)
            assert counts == {"users": 962, "follows": 37_624, "posts": planned_posts, "media": planned_posts,
                              "post_media": planned_posts}
            assert counter_mismatches(fresh_database) == 0
            check_user(ports["http"], s3, busiest, len(full.users))  # now with followees from the top-up
            check_user(ports["http"], s3, 900, len(full.users))

            output = run_seed(env)
            assert "already seeded" in output, output
            assert table_counts(fresh_database) == counts
            assert f"users      962 (graph {GRAPH_NAME}" in output

            # `up`'s S3 lives in memory: after a restart the rows are there and the objects are not.
            # The seed puts back exactly the images that are gone (they are deterministic).
            conn = connect(fresh_database)
            try:
                lost = [variant for [variants] in conn.run("SELECT variants FROM media ORDER BY id DESC LIMIT 3")
                        for variant in variants]
            finally:
                conn.close()
            for variant in lost:
                s3.delete_object(Bucket="kafkagram-media", Key=variant["object_key"])
            output = run_seed(env)
            assert "already seeded" in output and "restored the images of 3 seeded posts" in output, output
            for variant in lost:
                data = s3.get_object(Bucket="kafkagram-media", Key=variant["object_key"])["Body"].read()
                assert len(data) == variant["size_bytes"]
            assert table_counts(fresh_database) == counts
        finally:
            conn = connect(fresh_database)
            try:
                seeded_ids = [int(row[0]) for row in conn.run("SELECT id FROM users")]
            finally:
                conn.close()
            client = redis.Redis.from_url(REDIS_TEST_URL)
            feeds = FeedManager(client)
            if seeded_ids:
                client.delete(*(feeds.timeline_key(user_id) for user_id in seeded_ids))
                client.zrem(feeds.activity_key, *(str(user_id) for user_id in seeded_ids))
            client.close()

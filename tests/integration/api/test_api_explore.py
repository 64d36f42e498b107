"""Explore through the API, with real PostgreSQL and Redis: the grid and the tags as the Explore handler
left them (it is invoked here with the outbox's events, as its event source mapping would), and the
suggestions straight from the follow graph."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from handlers import explore as explore_handler
from kafkagram.clients import Clients
from kafkagram.explore import CANDIDATES
from tests.support.api import Account, Client, follow, publish, register
from tests.support.invocations import OK, invoke, kafka_record
from tests.support.services import REDIS_TEST_URL
from tests.support.store import one_event

Deliver = Callable[..., None]


@pytest.fixture
def deliver(database_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[Deliver]:
    """Runs the Explore handler on the API's database and Redis keys with the outbox events of
    (type, post id) pairs."""
    made = Clients(database_url, REDIS_TEST_URL)
    monkeypatch.setattr(explore_handler, "clients", made)

    def run(db: Any, *events: tuple[str, str]) -> None:
        assert invoke(explore_handler.handler, *(kafka_record(one_event(db, t, key)) for t, key in events)) == OK

    yield run
    made.close()


def grid(client: Client, account: Account, query: str = "?limit=100") -> dict[str, Any]:
    reply = client.request("GET", f"/api/explore/posts{query}", token=account.access_token)
    assert reply.status == 200, reply.body
    return dict(reply.json())


def grid_ids(client: Client, account: Account) -> list[str]:
    return [item["id"] for item in grid(client, account)["items"]]


def test_the_grid_leaves_out_ones_own_and_followed_authors(direct: Client, db: Any, deliver: Deliver) -> None:
    viewer, followed, stranger = (register(direct) for _ in range(3))
    follow(direct, viewer, followed)
    mine, theirs, other = (publish(direct, db, author, "hi") for author in (viewer, followed, stranger))
    deliver(db, *(("post-created", post["id"]) for post in (mine, theirs, other)))

    seen = grid_ids(direct, viewer)

    assert other["id"] in seen and mine["id"] not in seen and theirs["id"] not in seen
    [item] = [item for item in grid(direct, viewer)["items"] if item["id"] == other["id"]]
    assert item["author"]["username"] == stranger.username and item["media"][0]["variants"]
    assert other["id"] in grid_ids(direct, followed)  # the same post, for someone else


def test_the_grid_pages_by_an_offset_cursor(direct: Client, db: Any, deliver: Deliver) -> None:
    viewer, author = register(direct), register(direct)
    posts = [publish(direct, db, author) for _ in range(3)]
    deliver(db, *(("post-created", post["id"]) for post in posts))

    both = grid(direct, viewer, "?limit=2")
    first = grid(direct, viewer, "?limit=1")
    second = grid(direct, viewer, f"?limit=1&cursor={first['next_cursor']}")

    assert first["next_cursor"] == "1" and both["next_cursor"] == "2"
    assert [i["id"] for i in first["items"] + second["items"]] == [i["id"] for i in both["items"]]
    for cursor in ("abc", "0", str(CANDIDATES)):  # not one this list returned: offsets are bounded
        reply = direct.request("GET", f"/api/explore/posts?cursor={cursor}", token=viewer.access_token)
        assert reply.status == 400 and reply.error == "invalid-cursor", (cursor, reply.body)


def test_a_deleted_post_leaves_the_grid(direct: Client, db: Any, deliver: Deliver) -> None:
    viewer, author = register(direct), register(direct)
    post = publish(direct, db, author)
    deliver(db, ("post-created", post["id"]))
    assert post["id"] in grid_ids(direct, viewer)

    reply = direct.request("DELETE", f"/api/posts/{post['id']}", token=author.access_token)
    assert reply.status == 204, reply.body
    assert post["id"] not in grid_ids(direct, viewer)  # at once: the read keeps published posts only
    deliver(db, ("post-deleted", post["id"]))
    assert post["id"] not in grid_ids(direct, viewer)


def test_people_followed_by_people_one_follows_come_with_their_mutual_count(direct: Client) -> None:
    viewer, ada, bob, carol, dave = (register(direct) for _ in range(5))
    for followee in (ada, bob):
        follow(direct, viewer, followee)
    for follower in (ada, bob):
        follow(direct, follower, carol)
    follow(direct, ada, dave)
    follow(direct, bob, viewer)  # the viewer is never suggested to themselves

    reply = direct.request("GET", "/api/explore/people", token=viewer.access_token)

    assert reply.status == 200, reply.body
    assert [(s["user"]["username"], s["mutual_count"]) for s in reply.json()["items"]] == [
        (carol.username, 2), (dave.username, 1)]
    follow(direct, viewer, carol)  # followed: no longer suggested
    reply = direct.request("GET", "/api/explore/people?limit=5", token=viewer.access_token)
    assert [s["user"]["username"] for s in reply.json()["items"]] == [dave.username]
    lonely = register(direct)
    assert direct.request("GET", "/api/explore/people", token=lonely.access_token).json()["items"] == []


def test_trending_tags_count_recent_posts_per_tag(direct: Client, db: Any, deliver: Deliver) -> None:
    ada, bob = register(direct), register(direct)
    hot, warm = f"hot{uuid.uuid4().hex[:8]}", f"warm{uuid.uuid4().hex[:8]}"
    posts = [publish(direct, db, ada, f"#{hot} #{warm}"), publish(direct, db, bob, f"again #{hot}")]
    deliver(db, *(("post-created", post["id"]) for post in posts))
    try:
        reply = direct.request("GET", "/api/explore/tags?limit=50", token=ada.access_token)
        assert reply.status == 200, reply.body
        counts = {item["tag"]: item["posts"] for item in reply.json()["items"]}
        assert counts[hot] == 2 and counts[warm] == 1
        assert reply.json()["window_hours"] == 24
    finally:  # the API's keys outlive the test: take the tags back
        for post, author in zip(posts, (ada, bob), strict=True):
            direct.request("DELETE", f"/api/posts/{post['id']}", token=author.access_token)
        deliver(db, *(("post-deleted", post["id"]) for post in posts))
    counts = {i["tag"]: i["posts"] for i in direct.request("GET", "/api/explore/tags?limit=50",
                                                           token=ada.access_token).json()["items"]}
    assert hot not in counts and warm not in counts


def test_explore_needs_a_caller(direct: Client) -> None:
    for path in ("/api/explore/posts", "/api/explore/people", "/api/explore/tags"):
        assert direct.request("GET", path).status == 401

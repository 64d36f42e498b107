"""A hashtag's posts through the API (`GET /api/tags/{tag}/posts`): newest first by cursor, published
posts only, one statement per page through the posts_hashtags GIN index, and a 400 naming `tag` for
anything the caption parser would not read as a hashtag."""

from __future__ import annotations

import re
import uuid
from typing import Any
from urllib.parse import quote

import pytest

from kafkagram.store.tags import _TAG_PAGE
from tests.support.api import Account, Client, create, publish, register
from tests.support.store import make_media


def _tag() -> str:
    return f"t{uuid.uuid4().hex[:10]}"


def _pages(client: Client, account: Account, tag: str, limit: int) -> list[list[dict[str, Any]]]:
    pages, cursor = [], None
    while True:
        query = f"/api/tags/{quote(tag)}/posts?limit={limit}" + (f"&cursor={cursor}" if cursor else "")
        reply = client.request("GET", query, token=account.access_token)
        assert reply.status == 200, reply.body
        pages.append(reply.json()["items"])
        cursor = reply.json()["next_cursor"]
        if cursor is None:
            return pages


def test_a_tags_published_posts_newest_first_by_cursor(direct, db):
    ada, bob = register(direct), register(direct)
    tag = _tag()
    tagged = [publish(direct, db, author, caption=f"#{tag.upper() if i % 2 else tag} number {i}")["id"]
              for i, author in enumerate([ada, bob, ada, bob, ada])]
    publish(direct, db, ada, caption=f"#{tag}x and #x{tag}: other tags")  # not this tag
    publish(direct, db, ada, caption=f"{tag} without the hash, and a#{tag} in a word")
    pending = create(direct, bob, [make_media(db, int(bob.id), ready=False)], f"#{tag} still processing")
    assert pending.status == 201 and pending.json()["status"] == "pending"
    deleted = publish(direct, db, bob, caption=f"gone #{tag}")["id"]
    assert direct.request("DELETE", f"/api/posts/{deleted}", token=bob.access_token).status == 204
    assert direct.request("PUT", f"/api/posts/{tagged[1]}/like", token=ada.access_token).status == 204

    pages = _pages(direct, ada, tag, 2)
    assert [len(page) for page in pages] == [2, 2, 1]
    listed = [post for page in pages for post in page]
    assert [post["id"] for post in listed] == list(reversed(tagged))
    assert all(tag in post["hashtags"] and post["status"] == "published" for post in listed)
    assert [post["id"] for post in listed if post["liked_by_me"]] == [tagged[1]]
    assert listed[-1]["author"]["username"] == ada.username and listed[-1]["media"][0]["variants"]
    # Any case names the same tag (captions' tags are stored lowercase).
    upper = direct.request("GET", f"/api/tags/{tag.upper()}/posts", token=bob.access_token)
    assert upper.status == 200 and [p["id"] for p in upper.json()["items"]] == list(reversed(tagged))
    assert not any(p["liked_by_me"] for p in upper.json()["items"])  # Bob liked none of them
    empty = direct.request("GET", f"/api/tags/{_tag()}/posts", token=ada.access_token)
    assert empty.status == 200 and empty.json() == {"items": [], "next_cursor": None}


def test_a_page_is_one_statement(direct, db, statements):
    ada = register(direct)
    tag = _tag()
    for i in range(3):
        publish(direct, db, ada, caption=f"#{tag} {i}")
    statements.clear()
    assert [len(page) for page in _pages(direct, ada, tag, 2)] == [2, 1]
    assert statements == [_TAG_PAGE, _TAG_PAGE]  # no query per post, nor for the likes


def test_the_page_query_reads_the_gin_index_for_a_rare_tag(db):
    """The planner's choice on a realistic table: a temporary `posts` (shadowing the real one in this
    session, with its indexes) of 20,000 published posts where one tag is rare. (A tag on most posts
    may read the newest ids backwards instead and stop after a page: the planner's call.)"""
    db.run("BEGIN")
    try:
        db.run("CREATE TEMP TABLE posts (LIKE public.posts INCLUDING ALL) ON COMMIT DROP")
        db.run("INSERT INTO posts (id, author_id, caption, status, hashtags, published_at) "
               "SELECT n, 1, '', 'published', CASE WHEN n % 5000 = 0 THEN ARRAY['rare', 'common'] "
               "ELSE ARRAY['common'] END, now() FROM generate_series(1, 20000) AS n")
        db.run("ANALYZE posts")

        def plan(tag: str) -> str:
            rows = db.run(f"EXPLAIN {_TAG_PAGE}", tag=tag, viewer=1, n=21, before=2**63 - 1)
            return "\n".join(row[0] for row in rows)

        rare = plan("rare")
        gin = r"Bitmap Index Scan on posts_hashtags\w* .*\n\s+Index Cond: \(hashtags @> '\{rare\}'"
        assert re.search(gin, rare), rare
    finally:
        db.run("ROLLBACK")


def test_a_unicode_tag_through_the_gateway(gateway, redis_client, db):
    ada = register(gateway, redis_client)
    tag = f"café_{uuid.uuid4().hex[:6]}"
    media = make_media(db, int(ada.id))
    assert create(gateway, ada, [media], f"Morning #{tag.upper()}!").status == 201
    reply = gateway.request("GET", f"/api/tags/{quote(tag)}/posts", token=ada.access_token)
    assert reply.status == 200, reply.body
    [post] = reply.json()["items"]
    assert post["hashtags"] == [tag]
    longest = gateway.request("GET", f"/api/tags/{quote('é' * 100)}/posts", token=ada.access_token)
    assert longest.status == 200, longest.body  # 100 letters, whatever their encoded length


@pytest.mark.parametrize("tag", ["%23math", "a-b", "a%20b", "a.b", "x" * 101, "a%00b", "%E2%9C%93"])
def test_what_the_parser_would_not_read_as_a_tag_is_400_naming_it(gateway, redis_client, tag):
    ada = register(gateway, redis_client)
    reply = gateway.request("GET", f"/api/tags/{tag}/posts", token=ada.access_token)
    assert reply.status == 400 and reply.error == "invalid-request", reply.body
    assert reply.json()["message"].startswith("tag (path): "), reply.body


@pytest.mark.parametrize(("query", "code", "names"), [
    ("cursor=abc", "invalid-cursor", None), ("limit=0", "invalid-request", "limit (query)"),
    ("limit=101", "invalid-request", "limit (query)"),
])
def test_bad_paging_is_400(direct, query, code, names):
    ada = register(direct)
    reply = direct.request("GET", f"/api/tags/{_tag()}/posts?{query}", token=ada.access_token)
    assert reply.status == 400 and reply.error == code, reply.body
    assert names is None or reply.json()["message"].startswith(names)


def test_only_signed_in_callers_read_tags(direct):
    reply = direct.request("GET", "/api/tags/math/posts")
    assert reply.status == 401 and "Bearer" in reply.headers.get("www-authenticate", "")

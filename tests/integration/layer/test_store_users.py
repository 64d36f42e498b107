"""Users: registration with its event, case-insensitive uniqueness, profile updates, prefix search."""

from __future__ import annotations

import pytest

from kafkagram.db import transaction
from kafkagram.store import Conflict, Forbidden, Invalid, NotFound, users
from kafkagram.store.pagination import decode_cursor
from tests.support.store import CountingConnection, events, make_media, make_user, unique_name


def test_create_user_emits_user_registered_and_lookups_ignore_case(db):
    user = make_user(db)
    assert (user.followers_count, user.following_count, user.posts_count) == (0, 0, 0)
    [event] = events(db, "user-registered", user.id)
    assert event["data"] == {"user_id": str(user.id), "username": user.username, "display_name": user.display_name}
    assert users.get_user_by_username(db, user.username.upper()).id == user.id
    assert users.get_user_by_email(db, user.email.upper()).id == user.id
    assert users.get_user_by_id(db, user.id) == user
    with pytest.raises(NotFound):
        users.get_user_by_username(db, unique_name())


def test_username_and_email_are_unique_ignoring_case_and_the_transaction_survives(db):
    user = make_user(db)
    with transaction(db):
        with pytest.raises(Conflict) as taken:
            users.create_user(db, user.username.upper(), f"{unique_name()}@example.test", "h")
        assert taken.value.code == "username-taken"
        with pytest.raises(Conflict) as email_taken:
            users.create_user(db, unique_name(), user.email.upper(), "h")
        assert email_taken.value.code == "email-taken"
        other = users.create_user(db, unique_name(), f"{unique_name()}@example.test", "h")  # still usable
    assert users.get_user_by_id(db, other.id).username == other.username


@pytest.mark.parametrize(("username", "email"), [("has space", "a@b.co"), ("x" * 31, "a@b.co"), ("", "a@b.co"),
                                                 ("fine", "not-an-email")])
def test_invalid_registration_is_refused(db, username, email):
    with transaction(db), pytest.raises(Invalid):
        users.create_user(db, username, email, "h")


def test_update_profile_emits_only_what_changed(db):
    user = make_user(db)
    with transaction(db):
        updated = users.update_profile(db, user.id, display_name="Ada", bio=user.bio)
    assert updated.display_name == "Ada"
    [event] = events(db, "profile-updated", user.id)
    assert event["data"]["changed"] == ["display_name"]
    with transaction(db):
        users.update_profile(db, user.id, display_name="Ada")  # no change, no event
    assert len(events(db, "profile-updated", user.id)) == 1
    with transaction(db), pytest.raises(Invalid):
        users.update_profile(db, user.id, bio="b" * 151)


def test_username_change_checks_uniqueness(db):
    user, other = make_user(db), make_user(db)
    with transaction(db), pytest.raises(Conflict):
        users.update_profile(db, user.id, username=other.username.upper())
    new_name = unique_name()
    with transaction(db):
        assert users.update_profile(db, user.id, username=new_name).username == new_name


def test_avatar_must_be_a_ready_avatar_of_the_user(db):
    user, other = make_user(db), make_user(db)
    theirs = make_media(db, other.id, purpose="avatar")
    post_media = make_media(db, user.id)
    mine = make_media(db, user.id, purpose="avatar")
    with transaction(db), pytest.raises(Forbidden):
        users.update_profile(db, user.id, avatar_media_id=theirs)
    with transaction(db), pytest.raises(Invalid):
        users.update_profile(db, user.id, avatar_media_id=post_media)
    with transaction(db):
        assert users.update_profile(db, user.id, avatar_media_id=mine).avatar_media_id == mine
        assert users.update_profile(db, user.id, avatar_media_id=None).avatar_media_id is None
    assert [e["data"]["avatar_media_id"] for e in events(db, "profile-updated", user.id)] == [str(mine), None]


def test_settings_merge(db):
    user = make_user(db)
    users.update_settings(db, user.id, {"email_notifications": ["follow"]})
    assert users.update_settings(db, user.id, {"locale": "en"}) == {"email_notifications": ["follow"],
                                                                     "locale": "en"}


def test_prefix_search_pages_in_username_order_and_treats_underscore_literally(db):
    stem = unique_name("s")
    names = sorted(f"{stem}_{i}" for i in range(5))
    for name in names:
        with transaction(db):
            users.create_user(db, name.upper() if name.endswith("3") else name, f"{name}@example.test", "h")
    with transaction(db):
        users.create_user(db, f"{stem}x9", f"{stem}x9@example.test", "h")  # '_' must not match 'x'
    counting = CountingConnection(db)
    seen, cursor = [], None
    while True:
        counting.reset()
        page = users.search_users_by_prefix(counting, f"@{stem.upper()}_", cursor=cursor, limit=2)
        assert len(counting.statements) == 1
        seen += [user.username.lower() for user in page.items]
        if page.next_cursor is None:
            break
        cursor = page.next_cursor
    assert seen == names


def test_prefix_search_uses_the_username_index(db):
    with transaction(db):
        db.run("SET LOCAL enable_seqscan = off")
        plan = "\n".join(row[0] for row in db.run(
            "EXPLAIN SELECT id FROM users u WHERE lower(u.username) LIKE 'ab%' AND lower(u.username) ~>~ '' "
            "ORDER BY lower(u.username) USING ~<~ LIMIT 3"))
    assert "users_username_lower" in plan


def test_bad_cursor_is_invalid():
    for bad in ("abc", "-1", "0", "01", str(2**63)):
        with pytest.raises(Invalid):
            decode_cursor(bad)
    assert decode_cursor(None) is None and decode_cursor("42") == 42

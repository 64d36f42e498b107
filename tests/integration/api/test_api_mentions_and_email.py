"""Issue 12, at the API: at most MENTIONS_MAX distinct @mentions in a caption or comment (a 400 naming
the field, the store's own check behind it, and the event schemas' maxItems), and email verification by
the token of the link mailed at registration (POST /api/auth/verify-email)."""

from __future__ import annotations

from typing import Any

import pytest

from kafkagram.db import transaction
from kafkagram.events import POST_CREATED, new_event
from kafkagram.events.catalog import MENTIONS_MAX
from kafkagram.events.envelope import EventValidationError, validate
from kafkagram.store import Invalid
from kafkagram.store import posts as posts_store
from kafkagram.store.email_verification import email_verified, issue_verification
from tests.support.api import create, publish, register
from tests.support.store import make_media, make_user


def mentions(count: int, prefix: str = "friend") -> str:
    return " ".join(f"@{prefix}{i}" for i in range(count))


def test_a_caption_with_more_than_the_limit_of_mentions_is_400_naming_the_caption(direct, db):
    ada = register(direct)
    reply = create(direct, ada, [make_media(db, int(ada.id))], caption=f"hello {mentions(MENTIONS_MAX + 1)}")
    assert reply.status == 400 and reply.error == "invalid-request", reply.body
    assert reply.json()["message"].startswith("caption"), reply.body
    assert f"at most {MENTIONS_MAX}" in reply.json()["message"]
    # The limit itself, and one name written many times (it notifies once), pass.
    assert publish(direct, db, ada, caption=mentions(MENTIONS_MAX))["status"] == "published"
    assert publish(direct, db, ada, caption=" ".join(["@bob"] * 50))["mentions"] == ["bob"]


def test_a_comment_with_more_than_the_limit_of_mentions_is_400_naming_the_body(direct, db):
    ada = register(direct)
    post = publish(direct, db, ada)
    path = f"/api/posts/{post['id']}/comments"
    reply = direct.request("POST", path, token=ada.access_token, json_body={"body": mentions(MENTIONS_MAX + 1)})
    assert reply.status == 400 and reply.json()["message"].startswith("body"), reply.body
    assert direct.request("POST", path, token=ada.access_token,
                          json_body={"body": mentions(MENTIONS_MAX)}).status == 201


def test_the_store_and_the_event_schema_hold_the_same_limit(db):
    ada = make_user(db)
    media_id = make_media(db, ada.id)
    with pytest.raises(Invalid) as refused, transaction(db):
        posts_store.create_post(db, ada.id, mentions(MENTIONS_MAX + 1), [media_id])
    assert refused.value.code == "too-many-mentions"
    data: dict[str, Any] = {"post_id": "3001", "author_id": "1001", "caption": "", "media_ids": ["5001"],
                            "hashtags": [], "mentioned_user_ids": [str(1002 + i) for i in range(MENTIONS_MAX)]}
    validate(new_event(POST_CREATED, data, 1001))
    data["mentioned_user_ids"].append("9999")
    with pytest.raises(EventValidationError, match="mentioned_user_ids"):
        validate(new_event(POST_CREATED, data, 1001))


def issue(db: Any, user_id: int) -> str:
    with transaction(db):
        link = issue_verification(db, user_id)
    assert link is not None
    return link.token


def test_the_mailed_token_verifies_the_address_without_a_session(direct, db):
    ada = register(direct)
    assert not db.run("SELECT 1 FROM users WHERE id = :id AND email_verified_at IS NOT NULL", id=int(ada.id))
    token = issue(db, int(ada.id))
    for _ in range(2):  # opening the link twice answers the same
        reply = direct.request("POST", "/api/auth/verify-email", json_body={"token": token})
        assert reply.status == 200, reply.body
        assert reply.json() == {"email": f"{ada.username}@example.com"}
    assert email_verified(db, int(ada.id))
    with transaction(db):
        assert issue_verification(db, int(ada.id)) is None  # nothing more to verify


@pytest.mark.parametrize("spoil", ["unknown", "expired", "email-changed"])
def test_a_token_that_is_unknown_expired_or_for_an_older_address_verifies_nothing(direct, db, spoil):
    ada = register(direct)
    token = issue(db, int(ada.id))
    if spoil == "unknown":
        token = token[:-2] + ("AA" if not token.endswith("AA") else "BB")
    elif spoil == "expired":
        db.run("UPDATE email_verifications SET expires_at = now() - interval '1 second' WHERE user_id = :id",
               id=int(ada.id))
    else:
        db.run("UPDATE users SET email = :email WHERE id = :id", email=f"new-{ada.username}@example.com",
               id=int(ada.id))
    reply = direct.request("POST", "/api/auth/verify-email", json_body={"token": token})
    assert reply.status == 400 and reply.error == "invalid-verification-token", reply.body
    assert not email_verified(db, int(ada.id))


def test_verify_email_validates_its_body(direct):
    for body in ({}, {"token": ""}, {"token": "x" * 129}, {"token": "ok", "extra": 1}):
        reply = direct.request("POST", "/api/auth/verify-email", json_body=body)
        assert reply.status == 400 and reply.error == "invalid-request", (body, reply.body)

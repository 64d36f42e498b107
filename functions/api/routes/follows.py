"""Follow and unfollow: idempotent (repeating either is a 204 with no second effect or event)."""

from __future__ import annotations

import deps
from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.router import APIGatewayHttpRouter
from models.common import AUTHENTICATED, Username, no_content, responses
from models.users import NOT_FOUND

from kafkagram.db import Connection
from kafkagram.store import follows as follows_store
from kafkagram.store import users as users_store
from routes import BEARER, Caller

router = APIGatewayHttpRouter()
TAGS = ["follows"]
NO_CONTENT = no_content("Done (also when it already was)")


@router.put("/api/users/<username>/follow", status_code=204, tags=TAGS, summary="Follow a user",
            security=BEARER, responses=responses(NO_CONTENT, AUTHENTICATED, NOT_FOUND))
def follow(username: Username, caller: Caller) -> Response[None]:
    def work(conn: Connection) -> None:
        followee = users_store.get_user_by_username(conn, username)
        follows_store.follow(conn, caller, followee.id)  # Invalid (400) for oneself

    deps.write(work)
    return Response(status_code=204)


@router.delete("/api/users/<username>/follow", status_code=204, tags=TAGS, summary="Stop following a user",
               security=BEARER, responses=responses(NO_CONTENT, AUTHENTICATED, NOT_FOUND))
def unfollow(username: Username, caller: Caller) -> Response[None]:
    def work(conn: Connection) -> None:
        followee = users_store.get_user_by_username(conn, username)
        follows_store.unfollow(conn, caller, followee.id)

    deps.write(work)
    return Response(status_code=204)

"""The caller's notifications: grouped list ("ada and 3 others liked your post"), unread count, mark read.

Only ever the caller's own: no route names another recipient, and marking someone else's id read
changes nothing (the store filters by recipient).
"""

from __future__ import annotations

import deps
from aws_lambda_powertools.event_handler.router import APIGatewayHttpRouter
from models.common import AUTHENTICATED, Cursor, Limit, responses, success
from models.notifications import MarkReadRequest, MarkReadResult, NotificationPage, UnreadCount

from kafkagram.store import notifications as notifications_store
from routes import BEARER, Caller

router = APIGatewayHttpRouter()
TAGS = ["notifications"]


@router.get("/api/notifications", tags=TAGS, summary="The caller's notifications, newest activity first",
            security=BEARER, responses=responses(success(200, "OK"), AUTHENTICATED))
def list_notifications(caller: Caller, cursor: Cursor = None, limit: Limit = None) -> NotificationPage:
    return NotificationPage.of(deps.read(
        lambda conn: notifications_store.notifications_page(conn, caller, cursor, limit)))


@router.get("/api/notifications/unread-count", tags=TAGS, summary="How many notifications are unread",
            security=BEARER, responses=responses(success(200, "OK"), AUTHENTICATED))
def unread_count(caller: Caller) -> UnreadCount:
    return UnreadCount(count=deps.read(lambda conn: notifications_store.unread_count(conn, caller)))


@router.post("/api/notifications/read", tags=TAGS, summary="Mark some, or all, of the caller's notifications read",
             security=BEARER, responses=responses(success(200, "OK"), AUTHENTICATED))
def mark_read(body: MarkReadRequest, caller: Caller) -> MarkReadResult:
    return MarkReadResult(marked=deps.write(lambda conn: notifications_store.mark_read(conn, caller, body.ids)))

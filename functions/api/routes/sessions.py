"""The caller's sessions and password: list sessions, end one or all ("log out everywhere"), change
the password (which ends every other session). Each ended session's WebSockets are closed.

Access tokens stay stateless (kafkagram.auth.tokens): one issued to an ended session works until it
expires (15 minutes at most) for HTTP requests, but no longer opens a WebSocket (`$connect` checks
its session) and can no longer be refreshed.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

import deps
from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Path
from aws_lambda_powertools.event_handler.router import APIGatewayHttpRouter
from errors import ApiError
from models.auth import (
    SESSION_ID_PATTERN,
    SESSION_NOT_FOUND,
    WRONG_PASSWORD,
    ChangePasswordRequest,
    SessionList,
    SessionOut,
)
from models.common import AUTHENTICATED, no_content, responses, success

from kafkagram import accounts
from routes import BEARER, Caller, CallerSession
from routes.auth import close_session_sockets, login_throttle

router = APIGatewayHttpRouter()
TAGS = ["sessions"]
SessionId = Annotated[str, Path(pattern=SESSION_ID_PATTERN, description="a session id from GET /api/me/sessions")]


def _time(seconds: float) -> datetime:
    return datetime.fromtimestamp(seconds, UTC)


@router.get("/api/me/sessions", tags=TAGS, summary="The caller's active sessions (logged-in devices)",
            security=BEARER, responses=responses(success(200, "Most recently used first"), AUTHENTICATED))
def list_sessions(caller: Caller, current: CallerSession) -> SessionList:
    return SessionList(items=[
        SessionOut(id=info.session_id, created_at=_time(info.created_at), last_used_at=_time(info.last_used_at),
                   user_agent=info.user_agent, ip=info.ip, current=info.session_id == current)
        for info in deps.refresh_sessions().sessions_of(caller)])


@router.delete("/api/me/sessions/<session_id>", status_code=204, tags=TAGS, summary="End one of the caller's sessions",
               description="Its refresh token stops working and its WebSockets are closed; the current session "
                           "may be ended too (a logout).",
               security=BEARER, responses=responses(no_content("Ended"), AUTHENTICATED, SESSION_NOT_FOUND))
def revoke_session(session_id: SessionId, caller: Caller) -> Response[None]:
    if not deps.refresh_sessions().revoke_session(caller, session_id):
        raise ApiError(404, "session-not-found", "no such session")
    close_session_sockets([session_id])
    return Response(status_code=204)


@router.delete("/api/me/sessions", status_code=204, tags=TAGS, summary="Log out everywhere",
               description="Ends every session of the caller's, the current one included, and closes their "
                           "WebSockets.",
               security=BEARER, responses=responses(no_content("Every session ended"), AUTHENTICATED))
def revoke_all_sessions(caller: Caller) -> Response[None]:
    close_session_sockets(deps.refresh_sessions().revoke_all(caller))
    return Response(status_code=204)


@router.post("/api/me/password", status_code=204, tags=TAGS, summary="Change the caller's password",
             description="Needs the current password. Ends every other session and closes their WebSockets; "
                         "the current session stays. Wrong current passwords count towards the login lockout.",
             security=BEARER, responses=responses(no_content("Changed"), AUTHENTICATED, WRONG_PASSWORD))
def change_password(body: ChangePasswordRequest, caller: Caller, current: CallerSession) -> Response[None]:
    try:
        accounts.change_password(deps.clients().database, caller, body.current_password, body.new_password,
                                 throttle=login_throttle())
    except accounts.LoginLocked as locked:
        raise ApiError(429, "login-locked", str(locked), {"Retry-After": str(locked.retry_after_s)}) from None
    close_session_sockets(deps.refresh_sessions().revoke_all(caller, keep=current))
    return Response(status_code=204)

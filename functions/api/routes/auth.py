"""Register, login, refresh and logout: the routes without an access token (limited per client network:
login and register share a small bucket, refresh and logout a large one; see kafkagram.auth.ratelimit).

Ending a session also closes the WebSockets opened with its access tokens (`close_session_sockets`),
through the WebSocket API's management endpoint (DeleteConnection).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Sequence

import deps
from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.request import Request
from aws_lambda_powertools.event_handler.router import APIGatewayHttpRouter
from errors import ApiError
from models.auth import (
    REGISTER_ACCEPTED_MESSAGE,
    USERNAME_TAKEN,
    LoginRequest,
    LogoutRequest,
    RefreshRequest,
    RegisterAccepted,
    RegisterRequest,
    Session,
    Tokens,
)
from models.common import BAD_REQUEST, RATE_LIMITED, UNAUTHORIZED, no_content, responses, success
from models.users import Me

from kafkagram import accounts
from kafkagram.auth import RefreshGrant
from kafkagram.auth.ratelimit import LoginThrottle
from kafkagram.auth.sessions import coarse_ip
from kafkagram.auth.tokens import ACCESS_TOKEN_TTL_S
from kafkagram.websocket_api import close_connections

logger = logging.getLogger(__name__)
router = APIGatewayHttpRouter()
TAGS = ["auth"]
# The WebSocket API's management endpoint (https://{api}.execute-api.{region}.amazonaws.com/{stage}).
WEBSOCKET_ENDPOINT_ENV = "WEBSOCKET_ENDPOINT"


def login_throttle() -> LoginThrottle:
    return LoginThrottle(deps.clients().redis)  # cheap: the script is registered by hash, no round trip


def client_of(request: Request) -> tuple[str, str]:
    """(User-Agent, coarse network) of the request, for the session list."""
    headers = {key.lower(): value for key, value in (request.headers or {}).items()}
    http = (request.resolved_event.raw_event.get("requestContext") or {}).get("http") or {}
    return str(headers.get("user-agent") or ""), coarse_ip(str(http.get("sourceIp") or ""))


def tokens_for(grant: RefreshGrant) -> Tokens:
    """A new access token for the grant's user and session, with the grant's refresh token."""
    return Tokens(access_token=deps.access_tokens().issue(grant.user_id, grant.session_id),
                  expires_in=ACCESS_TOKEN_TTL_S, refresh_token=grant.token, refresh_expires_in=grant.expires_in_s)


def close_session_sockets(session_ids: Sequence[str]) -> None:
    """Close the WebSockets of ended sessions. Best effort after the sessions ended: a failure is logged,
    not answered (the session is over either way, and `$connect` refuses its tokens from now on)."""
    endpoint = os.environ.get(WEBSOCKET_ENDPOINT_ENV)
    if not session_ids:
        return
    try:
        connections = deps.clients().registry.connections_of_sessions(session_ids)
        if connections and endpoint:
            close_connections(endpoint, connections)
        elif connections:
            logger.warning("no %s: %d WebSocket(s) of ended sessions stay open", WEBSOCKET_ENDPOINT_ENV,
                           len(connections))
    except Exception:
        logger.exception("could not close the WebSockets of ended sessions")


@router.post("/api/auth/register", status_code=202, tags=TAGS, summary="Create an account",
             description="Answers 202 with the same message whether or not the email already has an account, "
                         "so registration never reveals who is registered; log in afterwards. A taken "
                         "username is a 409 (usernames are public).",
             responses=responses(success(202, "Accepted (the account exists unless the email was taken)"),
                                 BAD_REQUEST, USERNAME_TAKEN, RATE_LIMITED))
def register(body: RegisterRequest) -> RegisterAccepted:
    # None (email taken) and a new user answer alike; the work done is the same too (one scrypt hash,
    # one INSERT), so the time does not tell them apart either.
    accounts.register(deps.clients().database, body.username, body.email, body.password, body.display_name)
    return RegisterAccepted(message=REGISTER_ACCEPTED_MESSAGE)


@router.post("/api/auth/login", tags=TAGS, summary="Log in with username or email and password",
             description="Too many wrong passwords for one account lock it for a while (429, growing with "
                         "each further failure; a successful login resets it).",
             responses=responses(success(200, "The user and a new token pair"), BAD_REQUEST, UNAUTHORIZED,
                                 RATE_LIMITED))
def login(body: LoginRequest, request: Request) -> Session:
    try:
        user = accounts.login(deps.clients().database, body.password, username=body.username, email=body.email,
                              throttle=login_throttle())
    except accounts.LoginLocked as locked:
        raise ApiError(429, "login-locked", str(locked), {"Retry-After": str(locked.retry_after_s)}) from None
    user_agent, ip = client_of(request)
    grant = deps.refresh_sessions().create(user.id, user_agent=user_agent, ip=ip)
    return Session(**tokens_for(grant).model_dump(), user=Me.from_user(user))


@router.post("/api/auth/refresh", tags=TAGS, summary="Exchange a refresh token for a new token pair",
             description="The refresh token is single use, but for a short grace window after a refresh the "
                         "token it replaced still gets the current pair (two tabs refreshing at once); any other "
                         "reuse ends the session.",
             responses=responses(success(200, "A new token pair; the old refresh token is spent"),
                                 BAD_REQUEST, UNAUTHORIZED, RATE_LIMITED))
def refresh(body: RefreshRequest, request: Request) -> Tokens:
    user_agent, ip = client_of(request)
    # TokenError -> 401 (errors.py)
    return tokens_for(deps.refresh_sessions().rotate(body.refresh_token, user_agent=user_agent, ip=ip))


@router.post("/api/auth/logout", status_code=204, tags=TAGS, summary="End the refresh token's session",
             description="Also closes the WebSockets opened with the session's access tokens.",
             responses=responses(no_content("Logged out (also when the session had already ended)"),
                                 BAD_REQUEST, RATE_LIMITED))
def logout(body: LogoutRequest) -> Response[None]:
    # Idempotent: an already-ended session is not an error. Access tokens expire on their own (15 min).
    ended = deps.refresh_sessions().revoke(body.refresh_token)
    close_session_sockets([ended] if ended else [])
    return Response(status_code=204)

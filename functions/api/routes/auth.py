"""Register, login, refresh and logout: the routes without an access token (limited per client IP)."""

from __future__ import annotations

import deps
from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.router import APIGatewayHttpRouter
from models.auth import LoginRequest, LogoutRequest, RefreshRequest, RegisterRequest, Session, Tokens
from models.common import BAD_REQUEST, RATE_LIMITED, UNAUTHORIZED, no_content, responses, success
from models.users import CONFLICT, Me

from kafkagram import accounts
from kafkagram.auth import RefreshGrant
from kafkagram.auth.tokens import ACCESS_TOKEN_TTL_S
from kafkagram.store.models import User

router = APIGatewayHttpRouter()
TAGS = ["auth"]


def _tokens(grant: RefreshGrant) -> Tokens:
    """A new access token for the grant's user, with the grant's refresh token."""
    return Tokens(access_token=deps.access_tokens().issue(grant.user_id), expires_in=ACCESS_TOKEN_TTL_S,
                  refresh_token=grant.token, refresh_expires_in=grant.expires_in_s)


def _session_for(user: User) -> Session:
    return Session(**_tokens(deps.refresh_sessions().create(user.id)).model_dump(), user=Me.from_user(user))


@router.post("/api/auth/register", status_code=201, tags=TAGS, summary="Create an account and log in",
             responses=responses(success(201, "The new user, logged in"), BAD_REQUEST, CONFLICT, RATE_LIMITED))
def register(body: RegisterRequest) -> Session:
    return _session_for(accounts.register(deps.clients().database, body.username, body.email, body.password,
                                          body.display_name))


@router.post("/api/auth/login", tags=TAGS, summary="Log in with username or email and password",
             responses=responses(success(200, "The user and a new token pair"), BAD_REQUEST, UNAUTHORIZED,
                                 RATE_LIMITED))
def login(body: LoginRequest) -> Session:
    return _session_for(accounts.login(deps.clients().database, body.password, username=body.username,
                                       email=body.email))


@router.post("/api/auth/refresh", tags=TAGS, summary="Exchange a refresh token for a new token pair",
             responses=responses(success(200, "A new token pair; the old refresh token is spent"),
                                 BAD_REQUEST, UNAUTHORIZED, RATE_LIMITED))
def refresh(body: RefreshRequest) -> Tokens:
    return _tokens(deps.refresh_sessions().rotate(body.refresh_token))  # TokenError -> 401 (errors.py)


@router.post("/api/auth/logout", status_code=204, tags=TAGS, summary="End the refresh token's session",
             responses=responses(no_content("Logged out (also when the session had already ended)"),
                                 BAD_REQUEST, RATE_LIMITED))
def logout(body: LogoutRequest) -> Response[None]:
    # Idempotent: an already-ended session is not an error. Access tokens expire on their own (15 min).
    deps.refresh_sessions().revoke(body.refresh_token)
    return Response(status_code=204)

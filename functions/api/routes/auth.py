"""Register, login, refresh and logout: the routes without an access token (limited per client IP)."""

from __future__ import annotations

import deps
import pg8000.native
from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.router import APIGatewayHttpRouter
from errors import unauthorized
from models import (
    BAD_REQUEST,
    CONFLICT,
    RATE_LIMITED,
    UNAUTHORIZED,
    LoginRequest,
    LogoutRequest,
    Me,
    RefreshRequest,
    RegisterRequest,
    Session,
    Tokens,
    no_content,
    responses,
    success,
)

from kafkagram.auth import hash_password, verify_dummy, verify_password
from kafkagram.auth.tokens import ACCESS_TOKEN_TTL_S
from kafkagram.store import NotFound
from kafkagram.store import users as users_store
from kafkagram.store.models import User

router = APIGatewayHttpRouter()
TAGS = ["auth"]


def _tokens_for(user_id: int | str) -> Tokens:
    grant = deps.refresh_sessions().create(user_id)
    return Tokens(access_token=deps.access_tokens().issue(user_id), expires_in=ACCESS_TOKEN_TTL_S,
                  refresh_token=grant.token, refresh_expires_in=grant.expires_in_s)


def _session_for(user: User) -> Session:
    return Session(**_tokens_for(user.id).model_dump(), user=Me.from_user(user))


@router.post("/api/auth/register", status_code=201, tags=TAGS, summary="Create an account and log in",
             responses=responses(success(201, "The new user, logged in"), BAD_REQUEST, CONFLICT, RATE_LIMITED))
def register(body: RegisterRequest) -> Session:
    # Hash before the transaction: scrypt takes tens of ms and needs no lock.
    password_hash = hash_password(body.password)
    user = deps.write(lambda conn: users_store.create_user(conn, body.username, body.email, password_hash,
                                                           body.display_name))
    return _session_for(user)


@router.post("/api/auth/login", tags=TAGS, summary="Log in with username or email and password",
             responses=responses(success(200, "The user and a new token pair"), BAD_REQUEST, UNAUTHORIZED,
                                 RATE_LIMITED))
def login(body: LoginRequest) -> Session:
    def lookup(conn: pg8000.native.Connection) -> User:
        if body.username is not None:
            return users_store.get_user_by_username(conn, body.username)
        return users_store.get_user_by_email(conn, body.email or "")

    try:
        user = deps.read(lookup)
    except NotFound:
        verify_dummy(body.password)  # same time as a wrong password: responses don't reveal accounts
        raise unauthorized("invalid-credentials", "wrong username, email or password") from None
    if not verify_password(body.password, user.password_hash):
        raise unauthorized("invalid-credentials", "wrong username, email or password")
    deps.read(lambda conn: users_store.touch_last_seen(conn, user.id))  # one autocommit UPDATE
    return _session_for(user)


@router.post("/api/auth/refresh", tags=TAGS, summary="Exchange a refresh token for a new token pair",
             responses=responses(success(200, "A new token pair; the old refresh token is spent"),
                                 BAD_REQUEST, UNAUTHORIZED, RATE_LIMITED))
def refresh(body: RefreshRequest) -> Tokens:
    grant = deps.refresh_sessions().rotate(body.refresh_token)  # TokenError -> 401 (errors.py)
    return Tokens(access_token=deps.access_tokens().issue(grant.user_id), expires_in=ACCESS_TOKEN_TTL_S,
                  refresh_token=grant.token, refresh_expires_in=grant.expires_in_s)


@router.post("/api/auth/logout", status_code=204, tags=TAGS, summary="End the refresh token's session",
             responses=responses(no_content("Logged out (also when the session had already ended)"),
                                 BAD_REQUEST, RATE_LIMITED))
def logout(body: LogoutRequest) -> Response[None]:
    # Idempotent: an already-ended session is not an error. Access tokens expire on their own (15 min).
    deps.refresh_sessions().revoke(body.refresh_token)
    return Response(status_code=204)

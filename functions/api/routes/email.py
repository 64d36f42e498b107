"""Email verification: the web app's /verify-email page posts the token from the link mailed at
registration (kafkagram.flows.notify_email). Under /api/auth/, so it needs no access token (the token
is the proof, and the link may be opened on another device) and takes the per-client auth bucket."""

from __future__ import annotations

import deps
from aws_lambda_powertools.event_handler.router import APIGatewayHttpRouter
from models.common import RATE_LIMITED, responses, success
from models.email import INVALID_VERIFICATION, EmailVerified, VerifyEmailRequest

from kafkagram.store.email_verification import verify_email as verify_email_token

router = APIGatewayHttpRouter()
TAGS = ["auth"]


@router.post("/api/auth/verify-email", tags=TAGS, summary="Confirm an email address with the mailed token",
             description="Until its address is verified, an account gets no notification emails. Opening "
                         "the same link again answers the same.",
             responses=responses(success(200, "The address is verified"), INVALID_VERIFICATION,
                                 RATE_LIMITED))
def verify_email(body: VerifyEmailRequest) -> EmailVerified:
    verified = deps.write(lambda conn: verify_email_token(conn, body.token))
    return EmailVerified(email=verified.email)

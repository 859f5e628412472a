"""Accepting an invitation (public; the emailed token is the credential): open it to see the
account and the two-factor secret, then accept with a password and a first code. The console's
invitation page runs these same handlers."""

from __future__ import annotations

from typing import Any

from litestar import Request, Router, post
from litestar.di import NamedDependency
from litestar.exceptions import ClientException, HTTPException, NotAuthorizedException
from litestar.params import JSONBody
from litestar.status_codes import HTTP_200_OK

from api.routes.auth import INVALID_CODE, issue_session
from api.routes.schemas import (
    InvitationAccept,
    InvitationAccepted,
    InvitationOpened,
    InvitationToken,
)
from api.security import auth_state, invitations, sessions
from api.security.invitations import InvitationRefused, Refusal
from api.security.passwords import hash_password, hash_recovery_codes, new_recovery_codes
from api.security.ratelimit import public_limiter, two_factor_limiter
from api.security.tokens import TokenIssuer
from api.security.totp import provisioning_uri, qr_svg
from api.stores import AUTH_STATE
from config import Settings

REFUSALS: dict[Refusal, tuple[int, str]] = {
    Refusal.unknown: (404, "the invitation link is not known"),
    Refusal.expired: (410, "the invitation has expired: ask an admin to send a new one"),
    Refusal.used: (409, "the invitation was already used or replaced by a newer one"),
    Refusal.inactive: (409, "the account is not waiting for an invitation"),
    Refusal.wrong_code: (401, INVALID_CODE),
}
ERRORS = {"errors": (401, 404, 409, 410)}


def refusal(exc: InvitationRefused) -> HTTPException:
    status, detail = REFUSALS[exc.reason]
    if status == 401:
        return NotAuthorizedException(detail)
    return ClientException(status_code=status, detail=detail)


@post(
    "/",
    exclude_from_auth=True,
    status_code=HTTP_200_OK,
    summary="Open an invitation: the account and the two-factor secret to enrol",
    opt=ERRORS,
)
async def open_invitation(
    data: JSONBody[InvitationToken], settings: NamedDependency[Settings]
) -> InvitationOpened:
    """404 unknown link, 410 expired, 409 used or replaced by a newer invitation. Opening
    changes nothing visible; the same secret is shown until the invitation is accepted."""
    try:
        opened = await invitations.open_invitation(settings, data.token)
    except InvitationRefused as exc:
        raise refusal(exc) from exc
    uri = provisioning_uri(opened.totp_secret, opened.email)
    return InvitationOpened(
        email=opened.email,
        full_name=opened.full_name,
        expires_at=opened.expires_at,
        secret=opened.totp_secret,
        otpauth_uri=uri,
        qr_svg=qr_svg(uri),
    )


@post(
    "/accept",
    exclude_from_auth=True,
    status_code=HTTP_200_OK,
    summary="Accept an invitation: set the password, turn two-factor on, sign in",
    opt=ERRORS,
)
async def accept_invitation(
    request: Request[Any, Any, Any],
    data: JSONBody[InvitationAccept],
    settings: NamedDependency[Settings],
    issuer: NamedDependency[TokenIssuer],
) -> InvitationAccepted:
    """The password follows the password policy (400 otherwise); `code` is a first code from
    the authenticator app for the secret the invitation showed (401 when wrong). On success the
    link is used up and the answer carries a signed-in session and the recovery codes, once.
    Any refusal changes nothing."""
    try:
        # A dead link is refused before any Argon2 work (the hashing below costs ~0.1 s).
        await invitations.ensure_valid(settings, data.token)
        new_hash = await hash_password(data.new_password)
        codes = new_recovery_codes()
        hashes = await hash_recovery_codes(codes)
        user_id = await invitations.accept(settings, data.token, new_hash, data.code, hashes)
    except InvitationRefused as exc:
        raise refusal(exc) from exc
    await auth_state.publish(request.app.stores.get(AUTH_STATE), settings, user_id)
    user = await sessions.get_user(settings, user_id)
    if user is None:  # pragma: no cover - the row was just written
        raise NotAuthorizedException("account not found")
    pair = await issue_session(request, settings, issuer, user)
    return InvitationAccepted(**pair.model_dump(), recovery_codes=codes)


def routers(settings: Settings) -> list[Router]:
    public = public_limiter(settings)
    code_limit = two_factor_limiter(settings)
    common: dict[str, Any] = {"path": "/api/auth/invitation", "tags": ["auth"]}
    return [
        Router(route_handlers=[open_invitation], middleware=[public.middleware], **common),
        Router(
            route_handlers=[accept_invitation],
            middleware=[public.middleware, code_limit.middleware],
            **common,
        ),
    ]

"""Login (password, then TOTP or a recovery code), refresh, logout, two-factor enrolment, password
reset and change. Public routes share the 100/15 min limiter; login and two-factor codes each have
their own stricter counter."""

from __future__ import annotations

import contextlib
import uuid
from datetime import UTC, datetime
from typing import Any

from litestar import Request, Router, get, post
from litestar.di import NamedDependency
from litestar.exceptions import (
    ClientException,
    NotAuthorizedException,
)
from litestar.params import JSONBody
from litestar.security.jwt import Token
from litestar.status_codes import HTTP_200_OK, HTTP_202_ACCEPTED, HTTP_204_NO_CONTENT
from litestar.stores.base import Store
from sqlmodel import Session

from api.db import in_session
from api.routes.schemas import (
    Accepted,
    ChangePassword,
    Code,
    DisableTwoFactor,
    Enrolment,
    Login,
    LoginResult,
    Me,
    RecoveryCodes,
    RecoveryLogin,
    RecoveryLoginResult,
    Refresh,
    ResetConfirm,
    ResetRequest,
    TokenPair,
    TwoFactorVerify,
)
from api.security import auth_state, links, notices, sessions
from api.security.guards import ANY_ROLE, SETUP_ANY, SETUP_TWO_FACTOR
from api.security.password_reset import (
    apply_reset,
    create_reset_token,
    forget_reset_token,
    set_password,
)
from api.security.passwords import (
    hash_password,
    hash_recovery_codes,
    match_recovery_code,
    new_recovery_codes,
    verify_password,
)
from api.security.ratelimit import client_identifier, limiter, public_limiter, two_factor_limiter
from api.security.tokens import (
    AuthUser,
    TokenIssuer,
    consume_step_token,
    decode_step_token,
    issue_step_token,
    revoke_access_token,
    token_pair,
)
from api.security.totp import matched_timecode, new_secret, provisioning_uri, qr_png_base64
from api.stores import (
    AUTH_STATE,
    KNOWN_DEVICES,
    RL_LOGIN,
    USED_STEP_TOKENS,
)
from api.temporal import TemporalGateway
from api.workflows import start
from config import Settings
from models import Role, User
from models.types import seal
from workflows.contracts.email import EMAIL_WORKFLOW, SendEmail, email_workflow_id

AuthRequest = Request[AuthUser, Token, Any]

INVALID_LOGIN = "email or password is incorrect"


REFUSES_CREDENTIALS = {"errors": (401,)}
"""Public routes that answer 401 to wrong credentials (documented in the OpenAPI document)."""

INVALID_CODE = "the two-factor code is incorrect or already used"
"""One answer for a wrong code and a replayed one: a replay must not confirm the code was right."""


def _auth_store(request: Request[Any, Any, Any]) -> Store:
    return request.app.stores.get(AUTH_STATE)


async def _publish(request: Request[Any, Any, Any], settings: Settings, user_id: uuid.UUID) -> None:
    await auth_state.publish(_auth_store(request), settings, user_id)


def _lock_notice(request: Request[Any, Any, Any], user: User, until: datetime) -> None:
    notices.notice(
        request,
        to_email=user.email,
        to_name=user.full_name,
        event="account_locked",
        key=f"{user.id}-{int(until.timestamp())}",
        details={"locked_until": until.isoformat(timespec="seconds")},
    )


async def issue_session(
    request: Request[Any, Any, Any], settings: Settings, issuer: TokenIssuer, user: User
) -> TokenPair:
    """A new session; a sign-in from a device this account has not used gets a notice."""
    device = notices.device_fingerprint(
        request.headers.get("user-agent", ""), client_identifier(settings.trusted_proxies)(request)
    )
    if await notices.remember_device(
        request.app.stores.get(KNOWN_DEVICES), settings, str(user.id), device
    ):
        notices.notice(
            request,
            to_email=user.email,
            to_name=user.full_name,
            event="new_device_sign_in",
            key=f"{user.id}-{device}",
            details={"user_agent": request.headers.get("user-agent", "")[:200]},
        )
    rotation = await sessions.start_family(settings, user.id)
    access = issuer.access_token(user, rotation.family)
    return TokenPair(**token_pair(access, rotation.refresh_token, settings))


# Password step ---------------------------------------------------------------------------------


@post(
    "/login",
    exclude_from_auth=True,
    status_code=HTTP_200_OK,
    summary="Log in (password step)",
    opt=REFUSES_CREDENTIALS,
)
async def login(
    request: Request[Any, Any, Any],
    data: JSONBody[Login],
    settings: NamedDependency[Settings],
    issuer: NamedDependency[TokenIssuer],
) -> LoginResult:
    """Unknown email, wrong password, locked or deactivated account: the same 401 with the same
    body, each after one Argon2 verification (unknown users against a dummy hash). The owner of
    a locked account learns about the lock by email, never the person trying passwords."""
    user = await sessions.find_user_by_email(settings, data.email)
    valid, new_hash = await verify_password(data.password, user.password_hash if user else None)
    usable = user is not None and user.is_active and sessions.locked_until(user) is None
    if user is None or not usable or not valid:
        if (
            user is not None
            and usable
            and (until := await sessions.record_login_failure(settings, user.id))
        ):
            _lock_notice(request, user, until)
        raise NotAuthorizedException(INVALID_LOGIN)
    await sessions.record_login_success(settings, user.id, new_hash)
    if user.totp_enabled:
        return LoginResult(
            two_factor_required=True, two_factor_token=issue_step_token(settings, user.id)
        )
    pair = await issue_session(request, settings, issuer, user)
    return LoginResult(**pair.model_dump())


# Two-factor step -------------------------------------------------------------------------------


async def _step_user(
    request: Request[Any, Any, Any], settings: Settings, encoded: str
) -> tuple[Token, User]:
    token = decode_step_token(settings, encoded)
    if await request.app.stores.get(USED_STEP_TOKENS).exists(str(token.jti)):
        raise NotAuthorizedException("the two-factor token was already used; log in again")
    user = await sessions.get_user(settings, uuid.UUID(token.sub))
    if user is None or not user.is_active or not user.totp_enabled or not user.totp_secret:
        raise NotAuthorizedException("the two-factor token is invalid or expired")
    if sessions.locked_until(user):
        raise NotAuthorizedException(INVALID_CODE)  # the owner was told by email
    return token, user


async def _check_totp(
    request: Request[Any, Any, Any], settings: Settings, user: User, code: str
) -> None:
    """Accept a code once: right code, and a timecode newer than the last one accepted. A wrong
    code and a replayed one get the same answer."""
    timecode = matched_timecode(user.totp_secret or "", code)
    accepted = timecode is not None and await sessions.accept_totp_timecode(
        settings, user.id, timecode
    )
    if not accepted:
        if until := await sessions.record_totp_failure(settings, user.id):
            _lock_notice(request, user, until)
        raise NotAuthorizedException(INVALID_CODE)


@post(
    "/two-factor/verify",
    exclude_from_auth=True,
    status_code=HTTP_200_OK,
    summary="Complete login with a TOTP code",
    opt=REFUSES_CREDENTIALS,
)
async def verify_two_factor(
    request: Request[Any, Any, Any],
    data: JSONBody[TwoFactorVerify],
    settings: NamedDependency[Settings],
    issuer: NamedDependency[TokenIssuer],
) -> TokenPair:
    token, user = await _step_user(request, settings, data.two_factor_token)
    await _check_totp(request, settings, user, data.code)
    await consume_step_token(request, token)
    return await issue_session(request, settings, issuer, user)


@post(
    "/two-factor/recovery",
    exclude_from_auth=True,
    status_code=HTTP_200_OK,
    summary="Complete login with a single-use recovery code",
    opt=REFUSES_CREDENTIALS,
)
async def recovery_login(
    request: Request[Any, Any, Any],
    data: JSONBody[RecoveryLogin],
    settings: NamedDependency[Settings],
    issuer: NamedDependency[TokenIssuer],
) -> RecoveryLoginResult:
    token, user = await _step_user(request, settings, data.two_factor_token)
    index = await match_recovery_code(data.recovery_code, list(user.recovery_code_hashes))
    if index is None or not await sessions.consume_recovery_slot(settings, user.id, index):
        if until := await sessions.record_totp_failure(settings, user.id):
            _lock_notice(request, user, until)
        raise NotAuthorizedException("the recovery code is incorrect or already used")
    await _publish(request, settings, user.id)  # one code fewer (GET /me reads the snapshot)
    await consume_step_token(request, token)
    pair = await issue_session(request, settings, issuer, user)
    left = sum(1 for h in user.recovery_code_hashes if h) - 1
    return RecoveryLoginResult(**pair.model_dump(), recovery_codes_left=max(left, 0))


# Sessions --------------------------------------------------------------------------------------


@post(
    "/refresh",
    exclude_from_auth=True,
    status_code=HTTP_200_OK,
    summary="Rotate tokens",
    opt=REFUSES_CREDENTIALS,
)
async def refresh(
    request: Request[Any, Any, Any],
    data: JSONBody[Refresh],
    settings: NamedDependency[Settings],
    issuer: NamedDependency[TokenIssuer],
) -> TokenPair:
    try:
        rotation = await sessions.rotate(settings, data.refresh_token)
    except sessions.RefreshRefused as exc:
        if str(exc) == "reused" and exc.user_id is not None:
            await _publish(request, settings, exc.user_id)  # its access tokens end now
            raise NotAuthorizedException(
                "refresh token reuse detected: every session of this login was revoked"
            ) from exc
        raise NotAuthorizedException("the refresh token is invalid or expired") from exc
    user = await sessions.get_user(settings, rotation.user_id)
    if user is None:
        raise NotAuthorizedException("the refresh token is invalid or expired")
    access = issuer.access_token(user, rotation.family)
    return TokenPair(**token_pair(access, rotation.refresh_token, settings))


@post(
    "/logout", guards=[ANY_ROLE], status_code=HTTP_204_NO_CONTENT, summary="Log out", opt=SETUP_ANY
)
async def logout(request: AuthRequest, settings: NamedDependency[Settings]) -> None:
    """Revokes this access token (by jti, until it expires) and its refresh-token family (the
    access token names its family, so no refresh token needs to be sent)."""
    await revoke_access_token(request, request.user)
    if request.user.family:
        with contextlib.suppress(ValueError):
            await sessions.revoke_family(settings, uuid.UUID(request.user.family))


@get("/me", guards=[ANY_ROLE], summary="The current user", opt=SETUP_ANY)
async def me(request: AuthRequest) -> Me:
    """From the account snapshot authentication has just read (api/security/auth_state.py):
    no database query."""
    user = request.user
    return Me(
        id=str(user.id),
        email=user.email,
        full_name=user.full_name,
        role=str(user.role),
        two_factor_enabled=user.totp_enabled,
        recovery_codes_left=user.recovery_codes_left,
        setup_required=user.setup_required,
    )


@post(
    "/password",
    guards=[ANY_ROLE],
    status_code=HTTP_204_NO_CONTENT,
    summary="Change password (every session ends: log in again)",
    opt=SETUP_ANY,
)
async def change_password(
    request: AuthRequest, data: JSONBody[ChangePassword], settings: NamedDependency[Settings]
) -> None:
    user = await sessions.get_user(settings, request.user.id)
    valid, _ = await verify_password(data.current_password, user.password_hash if user else None)
    if user is None or not valid:
        raise NotAuthorizedException("the current password is incorrect")
    new_hash = await hash_password(data.new_password)
    await in_session(settings, lambda s: set_password(s, user.id, new_hash))
    await _publish(request, settings, user.id)
    await revoke_access_token(request, request.user)


# Two-factor enrolment --------------------------------------------------------------------------


@post(
    "/two-factor/enrol",
    guards=[ANY_ROLE],
    status_code=HTTP_200_OK,
    summary="Start 2FA enrolment",
    opt=SETUP_TWO_FACTOR,
)
async def enrol_two_factor(request: AuthRequest, settings: NamedDependency[Settings]) -> Enrolment:
    """A new secret, pending until confirmed with a first valid code."""
    secret = new_secret()

    def run(session: Session) -> str | None:
        user = session.get(User, request.user.id)
        if user is None or user.totp_enabled:
            return None
        user.totp_secret = secret
        user.totp_last_timecode = None
        user.totp_failed_count = 0
        session.add(user)
        return user.email

    email = await in_session(settings, run)
    if email is None:
        raise ClientException(status_code=409, detail="two-factor is already enabled")
    uri = provisioning_uri(secret, email)
    return Enrolment(secret=secret, otpauth_uri=uri, qr_png_base64=await qr_png_base64(uri))


async def _new_recovery_codes(
    settings: Settings, user_id: uuid.UUID, *, enable_two_factor: bool = False
) -> tuple[list[str], list[str | None]]:
    """Fresh recovery codes stored (hashed) in place of the earlier ones; the plain codes are
    shown once. With `enable_two_factor` the confirmed enrolment is switched on in the same
    write."""
    codes = new_recovery_codes()
    hashes = await hash_recovery_codes(codes)

    def run(session: Session) -> None:
        row = session.get(User, user_id)
        if row is not None:
            if enable_two_factor:
                row.totp_enabled = True
            row.recovery_code_hashes = hashes
            row.updated_at = datetime.now(UTC)
            session.add(row)

    await in_session(settings, run)
    return codes, hashes


@post(
    "/two-factor/confirm",
    guards=[ANY_ROLE],
    status_code=HTTP_200_OK,
    summary="Confirm 2FA with a first code; returns the recovery codes once",
    opt=SETUP_TWO_FACTOR,
)
async def confirm_two_factor(
    request: AuthRequest,
    data: JSONBody[Code],
    settings: NamedDependency[Settings],
) -> RecoveryCodes:
    user = await sessions.get_user(settings, request.user.id)
    if user is None or user.totp_enabled or not user.totp_secret:
        raise ClientException(status_code=409, detail="no pending two-factor enrolment")
    await _check_totp(request, settings, user, data.code)
    codes, _ = await _new_recovery_codes(settings, user.id, enable_two_factor=True)
    await _publish(request, settings, user.id)
    _two_factor_notice(request, user, "two_factor_enabled")
    return RecoveryCodes(recovery_codes=codes)


@post(
    "/two-factor/recovery-codes",
    guards=[ANY_ROLE],
    status_code=HTTP_200_OK,
    summary="Replace the recovery codes (a current code); the new ones are shown once",
)
async def regenerate_recovery_codes(
    request: AuthRequest,
    data: JSONBody[Code],
    settings: NamedDependency[Settings],
) -> RecoveryCodes:
    """Every earlier recovery code stops working; the owner gets a security notice."""
    user = await sessions.get_user(settings, request.user.id)
    if user is None or not user.totp_enabled:
        raise ClientException(status_code=409, detail="two-factor is not enabled")
    await _check_totp(request, settings, user, data.code)
    codes, hashes = await _new_recovery_codes(settings, user.id)
    await _publish(request, settings, user.id)  # GET /me counts the codes from the snapshot
    notices.notice(
        request,
        to_email=user.email,
        to_name=user.full_name,
        event="recovery_codes_replaced",
        key=f"{user.id}-{notices.secret_tag(hashes[0])}",
    )
    return RecoveryCodes(recovery_codes=codes)


@post(
    "/two-factor/disable",
    guards=[ANY_ROLE],
    status_code=HTTP_204_NO_CONTENT,
    summary="Turn 2FA off (password and a current code)",
)
async def disable_two_factor(
    request: AuthRequest,
    data: JSONBody[DisableTwoFactor],
    settings: NamedDependency[Settings],
) -> None:
    user = await sessions.get_user(settings, request.user.id)
    if user is None or not user.totp_enabled:
        raise ClientException(status_code=409, detail="two-factor is not enabled")
    if request.user.role == Role.admin and settings.requires_admin_two_factor:
        raise ClientException(status_code=409, detail="admins must keep two-factor enabled")
    valid, _ = await verify_password(data.password, user.password_hash)
    if not valid:
        raise NotAuthorizedException("the password is incorrect")
    await _check_totp(request, settings, user, data.code)

    def run(session: Session) -> None:
        row = session.get(User, user.id)
        if row is not None:
            row.totp_enabled = False
            row.totp_secret = None
            row.recovery_code_hashes = []
            session.add(row)

    await in_session(settings, run)
    await _publish(request, settings, user.id)
    _two_factor_notice(request, user, "two_factor_disabled")


def _two_factor_notice(request: Request[Any, Any, Any], user: User, event: str) -> None:
    notices.notice(
        request,
        to_email=user.email,
        to_name=user.full_name,
        event=event,
        key=f"{user.id}-{notices.secret_tag(user.totp_secret)}",
    )


# Password reset --------------------------------------------------------------------------------

RESET_ACCEPTED = "if the address belongs to an account, a reset link has been sent"


@post(
    "/password-reset",
    exclude_from_auth=True,
    status_code=HTTP_202_ACCEPTED,
    summary="Email a password reset link",
)
async def request_password_reset(
    data: JSONBody[ResetRequest],
    settings: NamedDependency[Settings],
    temporal: NamedDependency[TemporalGateway],
) -> Accepted:
    client = await temporal.client()  # 503 up front, whether or not the account exists
    user = await sessions.find_user_by_email(settings, data.email)
    if user is None or not user.is_active:
        return Accepted(detail=RESET_ACCEPTED)
    token_id, raw = await create_reset_token(settings, user.id)
    email = SendEmail(
        template="password_reset",
        to_email=user.email,
        to_name=user.full_name,
        key=str(token_id),
        data={"expires_minutes": settings.password_reset_minutes},
        # The link is a credential: sealed, so Temporal history and our email rows never hold it.
        sealed_data={"reset_url": seal(links.reset_password_url(settings, raw))},
    )
    try:
        await start(
            client, settings, EMAIL_WORKFLOW, email, email_workflow_id(email.template, email.key)
        )
    except Exception:
        await forget_reset_token(settings, token_id)
        raise
    return Accepted(detail=RESET_ACCEPTED)


@post(
    "/password-reset/confirm",
    exclude_from_auth=True,
    status_code=HTTP_204_NO_CONTENT,
    summary="Set a new password with the emailed token",
)
async def confirm_password_reset(
    request: Request[Any, Any, Any],
    data: JSONBody[ResetConfirm],
    settings: NamedDependency[Settings],
) -> None:
    new_hash = await hash_password(data.new_password)
    user_id = await apply_reset(settings, data.token, new_hash)
    if user_id is None:
        raise ClientException(status_code=422, detail="the reset link is invalid, used or expired")
    await _publish(request, settings, user_id)


def routers(settings: Settings) -> list[Router]:
    proxies = settings.trusted_proxies
    public = public_limiter(settings)
    login_limit = limiter(
        settings.rate_limit_login, settings.rate_limit_login_window, RL_LOGIN, proxies
    )
    code_limit = two_factor_limiter(settings)
    common: dict[str, Any] = {"path": "/api/auth", "tags": ["auth"]}
    return [
        Router(
            route_handlers=[login], middleware=[public.middleware, login_limit.middleware], **common
        ),
        Router(
            route_handlers=[
                verify_two_factor,
                recovery_login,
                confirm_two_factor,
                disable_two_factor,
                regenerate_recovery_codes,
            ],
            middleware=[public.middleware, code_limit.middleware],
            **common,
        ),
        Router(
            route_handlers=[
                refresh,
                change_password,
                enrol_two_factor,
                request_password_reset,
                confirm_password_reset,
            ],
            middleware=[public.middleware],
            **common,
        ),
        # Signed-in reads and sign-out count under the API limit only (as every other signed-in
        # route): the public limit (100 per 15 minutes per client address) is for routes that
        # take a secret or send mail, and a console polling who is signed in, or a whole office
        # behind one address, would exhaust it. It was also a third Redis round trip per call.
        Router(route_handlers=[me, logout], **common),
    ]

"""JWT access tokens (HS512, audience-checked, revocable by jti), the two-factor step token that
can never pass as an access token, and opaque refresh tokens."""

from __future__ import annotations

import functools
import hashlib
import secrets
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from litestar.connection import ASGIConnection
from litestar.exceptions import NotAuthorizedException
from litestar.security.jwt import JWTAuth, Token

from api.security import auth_state
from api.stores import AUTH_STATE, REVOKED_TOKENS, USED_STEP_TOKENS
from config import Settings
from models import Role, User

ALGORITHM = "HS512"
ACCESS = "access"
TWO_FACTOR_STEP = "two-factor-step"

PUBLIC_PATHS = ["^/schema", "^/api/health$", "^/api/ready$", "^/metrics$", "^/_docs/"]
"""Routes outside JWT auth (and the API rate limit) by path; the auth and webhook handlers opt
out with exclude_from_auth. /metrics has its own bearer token (METRICS_TOKEN)."""
JWT_EXCLUDE = [*PUBLIC_PATHS, "^/console(/|$)", "^/$"]
"""...plus the console (and the root redirect to it), which authenticates with its session."""


@dataclass(frozen=True)
class AuthUser:
    """What a handler learns about the caller (no secrets, no hashes)."""

    id: uuid.UUID
    email: str
    role: Role
    totp_enabled: bool
    jti: str
    family: str
    expires_at: datetime
    setup_required: str | None = None
    """A step the account must finish before anything else (see `setup_required`)."""
    full_name: str = ""
    recovery_codes_left: int = 0


PASSWORD_CHANGE_REQUIRED = "password_change_required"
TWO_FACTOR_ENROLMENT_REQUIRED = "two_factor_enrolment_required"


def setup_required(settings: Settings, state: auth_state.AuthState) -> str | None:
    """A printed password must be changed first; then, where admins must have two-factor
    (production), an admin without it may only enrol."""
    if state.must_change_password:
        return PASSWORD_CHANGE_REQUIRED
    if state.role == Role.admin and settings.requires_admin_two_factor and not state.totp_enabled:
        return TWO_FACTOR_ENROLMENT_REQUIRED
    return None


def step_audience(settings: Settings) -> str:
    return f"{settings.jwt_audience}:two-factor"


def _secret(settings: Settings) -> str:
    return settings.jwt_secret.get_secret_value()


class VerifiedToken(Token):
    """Litestar's Token, with the tokens already verified remembered: the same encoded token
    (its signature included) presented again skips the signature check and the claim parsing,
    never the expiry check. Revocation is not cached: `retrieve_user` reads it on every
    request."""

    @classmethod
    def decode(  # type: ignore[override]  # same parameters, positional names kept
        cls,
        encoded_token: str,
        secret: str,
        algorithm: str,
        audience: str | Sequence[str] | None = None,
        issuer: str | Sequence[str] | None = None,
        require_claims: Sequence[str] | None = None,
        verify_exp: bool = True,
        verify_nbf: bool = True,
        strict_audience: bool = False,
    ) -> Token:
        token = _verified(
            encoded_token,
            secret,
            algorithm,
            _frozen(audience),
            _frozen(issuer),
            tuple(require_claims or ()),
            verify_exp,
            verify_nbf,
            strict_audience,
        )
        if verify_exp and token.exp <= datetime.now(UTC):
            raise NotAuthorizedException("Invalid token")
        return token


def _frozen(value: str | Sequence[str] | None) -> str | tuple[str, ...] | None:
    return value if value is None or isinstance(value, str) else tuple(value)


@functools.lru_cache(maxsize=4096)
def _verified(
    encoded_token: str,
    secret: str,
    algorithm: str,
    audience: str | tuple[str, ...] | None,
    issuer: str | tuple[str, ...] | None,
    require_claims: tuple[str, ...],
    verify_exp: bool,
    verify_nbf: bool,
    strict_audience: bool,
) -> Token:
    """Verified claims of a token (an invalid token raises, and exceptions are not cached)."""
    return Token.decode(
        encoded_token,
        secret,
        algorithm,
        audience=list(audience) if isinstance(audience, tuple) else audience,
        issuer=list(issuer) if isinstance(issuer, tuple) else issuer,
        require_claims=list(require_claims),
        verify_exp=verify_exp,
        verify_nbf=verify_nbf,
        strict_audience=strict_audience,
    )


def build_jwt_auth(settings: Settings) -> JWTAuth[AuthUser, Token]:
    async def retrieve_user(token: Token, connection: ASGIConnection) -> AuthUser | None:
        # The audience is already checked (accepted_audiences); the type claim is a second lock
        # so a step token signed with the same key is refused even if audiences were misconfigured.
        if token.extras.get("typ") != ACCESS:
            return None
        generation = token.extras.get("gen")
        if not isinstance(generation, int) or isinstance(generation, bool):
            return None
        try:
            user_id = uuid.UUID(token.sub)
        except ValueError:
            return None
        if not token.jti:
            return None  # every token we issue carries a jti; one without it is not ours
        stores = connection.app.stores
        state = await auth_state.current_unless_revoked(
            stores.get(AUTH_STATE),
            stores.get(REVOKED_TOKENS),
            settings,
            user_id,
            generation,
            str(token.jti),
        )
        # Revoked by jti (logout), or a lower generation (reuse detected, role or two-factor
        # reset, deactivated, password changed): refused immediately, not when it expires.
        if state is None or not state.is_active or generation != state.generation:
            return None
        return AuthUser(
            id=user_id,
            email=state.email,
            role=state.role_enum,
            totp_enabled=state.totp_enabled,
            jti=str(token.jti or ""),
            family=str(token.extras.get("fam", "")),
            expires_at=token.exp,
            setup_required=setup_required(settings, state),
            full_name=state.full_name,
            recovery_codes_left=state.recovery_codes_left,
        )

    return JWTAuth[AuthUser, Token](
        token_secret=_secret(settings),
        algorithm=ALGORITHM,
        retrieve_user_handler=retrieve_user,  # also refuses revoked tokens (one store read)
        token_cls=VerifiedToken,
        accepted_audiences=[settings.jwt_audience],
        require_claims=["exp", "sub", "aud", "jti", "iat"],
        default_token_expiration=timedelta(minutes=settings.access_token_minutes),
        exclude=JWT_EXCLUDE,
        description="Access token from POST /api/auth/login (15 minutes).",
    )


class TokenIssuer:
    """Issues access tokens with the app's JWTAuth (a plain class, so it can be injected)."""

    def __init__(self, jwt_auth: JWTAuth[AuthUser, Token], settings: Settings) -> None:
        self.jwt_auth = jwt_auth
        self.settings = settings

    def access_token(self, user: User, family: uuid.UUID) -> str:
        return issue_access_token(self.jwt_auth, self.settings, user, family)


def issue_access_token(
    jwt_auth: JWTAuth[AuthUser, Token], settings: Settings, user: User, family: uuid.UUID
) -> str:
    return jwt_auth.create_token(
        identifier=str(user.id),
        token_expiration=timedelta(minutes=settings.access_token_minutes),
        token_audience=settings.jwt_audience,
        token_unique_jwt_id=uuid.uuid4().hex,
        token_extras={
            "typ": ACCESS,
            "role": str(user.role),
            "fam": str(family),
            "gen": user.token_generation,
        },
    )


async def revoke_access_token(connection: ASGIConnection, user: AuthUser) -> None:
    ttl = int((user.expires_at - datetime.now(UTC)).total_seconds()) + 1
    if user.jti and ttl > 0:
        await connection.app.stores.get(REVOKED_TOKENS).set(user.jti, b"1", expires_in=ttl)


# Two-factor step ------------------------------------------------------------------------------


def issue_step_token(settings: Settings, user_id: uuid.UUID) -> str:
    token = Token(
        sub=str(user_id),
        exp=datetime.now(UTC) + timedelta(minutes=settings.two_factor_step_minutes),
        aud=step_audience(settings),
        jti=uuid.uuid4().hex,
        extras={"typ": TWO_FACTOR_STEP},
    )
    return token.encode(secret=_secret(settings), algorithm=ALGORITHM)


def decode_step_token(settings: Settings, encoded: str) -> Token:
    """The step token's claims; 401 for anything else (an access token included)."""
    try:
        token = Token.decode(
            encoded_token=encoded,
            secret=_secret(settings),
            algorithm=ALGORITHM,
            audience=step_audience(settings),
            require_claims=["exp", "sub", "aud", "jti"],
        )
    except NotAuthorizedException as exc:
        raise NotAuthorizedException("the two-factor token is invalid or expired") from exc
    if token.extras.get("typ") != TWO_FACTOR_STEP:
        raise NotAuthorizedException("the two-factor token is invalid or expired")
    return token


async def consume_step_token(connection: ASGIConnection, token: Token) -> None:
    """A step token completes one login only."""
    store = connection.app.stores.get(USED_STEP_TOKENS)
    key = str(token.jti)
    if await store.exists(key):
        raise NotAuthorizedException("the two-factor token was already used")
    ttl = int((token.exp - datetime.now(UTC)).total_seconds()) + 1
    await store.set(key, b"1", expires_in=max(ttl, 1))


# Refresh tokens -------------------------------------------------------------------------------


def new_refresh_secret() -> tuple[str, str]:
    """(the opaque token handed to the client, its SHA-256 hex stored in the database)."""
    raw = secrets.token_urlsafe(48)
    return raw, hash_opaque(raw)


def hash_opaque(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def token_pair(access: str, refresh: str, settings: Settings) -> dict[str, Any]:
    return {
        "access_token": access,
        "refresh_token": refresh,
        "token_type": "Bearer",
        "expires_in": settings.access_token_minutes * 60,
    }

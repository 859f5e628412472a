"""Browser sessions for the console, beside the API's JWT auth: a server-side session (Redis or
the file store) named by an HttpOnly, SameSite=Lax cookie, Secure in production.

The session ID is replaced at sign-in (Litestar keeps the ID it was given, which would allow
session fixation), and anonymous visitors get no stored session at all."""

from __future__ import annotations

import hashlib
import hmac
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from litestar.connection import ASGIConnection
from litestar.middleware.session.server_side import (
    ServerSideSessionBackend,
    ServerSideSessionConfig,
)
from litestar.security.session_auth import SessionAuth
from litestar.types import Empty, Message, ScopeSession

from api.security import auth_state
from api.security.tokens import AuthUser, setup_required
from api.stores import AUTH_STATE
from config import Settings

COOKIE = "wd_console"
STORE = "consolesessions"
MAX_AGE = 8 * 3600
ROTATE = "rotate_session"

# The console's session middleware touches /console only (the JSON API, /schema and /metrics
# stay cookie-free), and not its static assets.
# (Listed, not one negative lookahead: Litestar warns about a pattern that also matches "/".)
NO_SESSION = ["^/api/", "^/schema", "^/_docs/", "^/metrics$", "^/$", "^/console/static/"]
# Console paths open without a session (the sign-in steps, the emailed links' pages and the
# language switch).
PUBLIC = [
    "^/console/login",
    "^/console/lang$",
    "^/console/invitation$",
    "^/console/reset-password(/confirm)?$",
]


def derived_secret(settings: Settings, purpose: str) -> str:
    """A per-purpose key derived from the JWT secret (one secret to manage, no key reuse)."""
    key = settings.jwt_secret.get_secret_value().encode()
    return hmac.new(key, f"worlddoor-console:{purpose}".encode(), hashlib.sha256).hexdigest()


class RotatingSessionBackend(ServerSideSessionBackend):
    def get_session_id(self, connection: ASGIConnection[Any, Any, Any, Any]) -> str:
        state = connection.scope.get("state", {})
        if state.get(ROTATE):
            if "rotated_session_id" not in state:
                state["rotated_session_id"] = self.generate_session_id()
            return str(state["rotated_session_id"])
        return super().get_session_id(connection)

    async def store_in_message(
        self,
        scope_session: ScopeSession,
        message: Message,
        connection: ASGIConnection[Any, Any, Any, Any],
    ) -> None:
        if not scope_session and not connection.cookies.get(self.config.key):
            return  # anonymous and nothing to remember: store nothing, set no cookie
        await super().store_in_message(scope_session or Empty, message, connection)


@dataclass
class ConsoleSessionConfig(ServerSideSessionConfig):
    _backend_class: type[ServerSideSessionBackend] = field(
        default=RotatingSessionBackend, init=False, repr=False
    )


async def rotate(connection: ASGIConnection[Any, Any, Any, Any]) -> None:
    """Forget the pre-sign-in session and issue the next response under a fresh ID."""
    if old := connection.cookies.get(COOKIE):
        await connection.app.stores.get(STORE).delete(old)
    connection.scope.setdefault("state", {})[ROTATE] = True


def build_session_auth(settings: Settings) -> SessionAuth[AuthUser, Any]:
    async def retrieve_user(
        session: dict[str, Any], connection: ASGIConnection[Any, Any, Any, Any]
    ) -> AuthUser | None:
        """The same check as an access token's: the session remembers the token generation it
        was signed in under, so whatever revokes the user's tokens (password change, role or
        two-factor reset, deactivation, reuse detected) ends console sessions too."""
        try:
            user_id = uuid.UUID(str(session.get("uid", "")))
            signed_in = datetime.fromisoformat(str(session["at"]))
            generation = session["gen"]
        except (KeyError, ValueError):
            return None
        if not isinstance(generation, int) or isinstance(generation, bool):
            return None
        store = connection.app.stores.get(AUTH_STATE)
        state = await auth_state.current(store, settings, user_id, generation)
        if state is None or not state.is_active or generation != state.generation:
            return None
        return AuthUser(
            id=user_id,
            email=state.email,
            role=state.role_enum,
            totp_enabled=state.totp_enabled,
            jti="",
            family=str(session.get("fam", "")),
            expires_at=signed_in + timedelta(seconds=MAX_AGE),
            setup_required=setup_required(settings, state),
            full_name=state.full_name,
            recovery_codes_left=state.recovery_codes_left,
        )

    return SessionAuth[AuthUser, Any](
        retrieve_user_handler=retrieve_user,
        session_backend_config=ConsoleSessionConfig(
            key=COOKIE,
            store=STORE,
            max_age=MAX_AGE,
            httponly=True,
            samesite="lax",
            secure=settings.is_production,
            path="/console",
            exclude=NO_SESSION,
        ),
        exclude=[*NO_SESSION, *PUBLIC],
    )

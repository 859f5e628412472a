"""Role guards. Every protected route names the roles it admits; admin is always admitted.

An account with a setup step pending (a printed password to change, or an admin without
two-factor where it is required) gets 403 with that step as `code` everywhere except on the
routes that complete it, which declare the steps they serve in `opt["setup_steps"]`.

Guards are coroutines: Litestar runs a sync guard on a worker thread, a hop per request."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from litestar.connection import ASGIConnection
from litestar.exceptions import NotAuthorizedException, PermissionDeniedException
from litestar.handlers.base import BaseRouteHandler

from api.security.tokens import (
    PASSWORD_CHANGE_REQUIRED,
    TWO_FACTOR_ENROLMENT_REQUIRED,
    AuthUser,
)
from models import Role

SETUP_MESSAGES = {
    PASSWORD_CHANGE_REQUIRED: "change the printed password first (POST /api/auth/password)",
    TWO_FACTOR_ENROLMENT_REQUIRED: "admins must enable two-factor first "
    "(POST /api/auth/two-factor/enrol, then /api/auth/two-factor/confirm)",
}
SETUP_ANY = {"setup_steps": (PASSWORD_CHANGE_REQUIRED, TWO_FACTOR_ENROLMENT_REQUIRED)}
SETUP_TWO_FACTOR = {"setup_steps": (TWO_FACTOR_ENROLMENT_REQUIRED,)}

Guard = Callable[[ASGIConnection, BaseRouteHandler], None | Awaitable[None]]
RoleGuard = Callable[[ASGIConnection, BaseRouteHandler], Awaitable[None]]


def require_roles(*roles: Role) -> RoleGuard:
    allowed = {Role.admin, *roles}
    names = ", ".join(sorted(r.value for r in allowed))

    async def guard(
        connection: ASGIConnection[Any, Any, Any, Any], handler: BaseRouteHandler
    ) -> None:
        user = connection.scope.get("user")
        if not isinstance(user, AuthUser):
            raise NotAuthorizedException("authentication required")
        if user.role not in allowed:
            raise PermissionDeniedException(f"this action needs one of the roles: {names}")
        step = user.setup_required
        if step and step not in handler.opt.get("setup_steps", ()):
            raise PermissionDeniedException(SETUP_MESSAGES[step], extra={"code": step})

    guard.__name__ = f"require_roles_{'_'.join(sorted(r.value for r in allowed))}"
    return guard


ADMIN = require_roles()
STAFF = require_roles(Role.staff)
INSPECTOR = require_roles(Role.inspector)
ANY_ROLE = require_roles(Role.staff, Role.inspector)
STAFF_OR_INSPECTOR = ANY_ROLE

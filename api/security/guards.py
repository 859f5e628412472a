"""Role guards. Every protected route names the roles it admits; admin is always admitted."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from litestar.connection import ASGIConnection
from litestar.exceptions import NotAuthorizedException, PermissionDeniedException
from litestar.handlers.base import BaseRouteHandler

from api.security.tokens import AuthUser
from models import Role

Guard = Callable[[ASGIConnection, BaseRouteHandler], None | Awaitable[None]]


def require_roles(*roles: Role) -> Guard:
    allowed = {Role.admin, *roles}
    names = ", ".join(sorted(r.value for r in allowed))

    def guard(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
        user = connection.scope.get("user")
        if not isinstance(user, AuthUser):
            raise NotAuthorizedException("authentication required")
        if user.role not in allowed:
            raise PermissionDeniedException(f"this action needs one of the roles: {names}")

    guard.__name__ = f"require_roles_{'_'.join(sorted(r.value for r in allowed))}"
    return guard


ADMIN = require_roles()
STAFF = require_roles(Role.staff)
INSPECTOR = require_roles(Role.inspector)
ANY_ROLE = require_roles(Role.staff, Role.inspector)
STAFF_OR_INSPECTOR = ANY_ROLE

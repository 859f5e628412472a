"""Rendering a console page: the template with the language, the signed-in user and the
navigation their role may use (the same role sets as the API's guards)."""

from __future__ import annotations

from typing import Any

from litestar import Request
from litestar.response import Template

from api.console.i18n import language_of
from api.security.tokens import AuthUser
from models import Role

# (path, message id, roles besides admin). Mirrors the guards on the routes each page calls.
NAV: list[tuple[str, str, set[Role]]] = [
    ("/console", "Today", {Role.staff, Role.inspector}),
    ("/console/products", "Products", {Role.staff}),
    ("/console/listings", "Listing review", {Role.staff}),
    ("/console/orders", "Orders", {Role.staff, Role.inspector}),
    ("/console/inspections", "Inspection", {Role.staff, Role.inspector}),
    ("/console/shipments", "Shipments", {Role.staff}),
    ("/console/operations", "Operations", set()),
]


def current_user(request: Request[Any, Any, Any]) -> AuthUser | None:
    user = request.scope.get("user")
    return user if isinstance(user, AuthUser) else None


def nav_for(user: AuthUser | None) -> list[tuple[str, str]]:
    if user is None:
        return []
    return [
        (path, label) for path, label, roles in NAV if user.role == Role.admin or user.role in roles
    ]


def can(user: AuthUser | None, *roles: Role) -> bool:
    return user is not None and (user.role == Role.admin or user.role in roles)


def page(
    request: Request[Any, Any, Any], name: str, *, status_code: int = 200, **context: Any
) -> Template:
    user = current_user(request)
    flash = []
    if user is not None and "flash" in request.session:
        session = dict(request.session)
        flash = session.pop("flash", [])
        request.set_session(session)
    return Template(
        template_name=f"console/{name}.html",
        context={
            "lang": language_of(request),
            "user": user,
            "nav": nav_for(user),
            "can": lambda *roles: can(user, *(Role(r) for r in roles)),
            "path": request.url.path,
            "full_path": request.url.path + (f"?{request.url.query}" if request.url.query else ""),
            "flash": flash,
            **context,
        },
        status_code=status_code,
    )


def remember(request: Request[Any, Any, Any], message: str, kind: str = "ok") -> None:
    """A message shown once on the next page (after a redirect)."""
    session = dict(request.session)
    session["flash"] = [*session.get("flash", []), {"kind": kind, "text": message}]
    request.set_session(session)

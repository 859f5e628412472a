"""The staff console: server-rendered pages (Jinja2 through Litestar's templates) in the API's
own app under /console, on the same services, accounts and guards as the JSON API."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from litestar import Request, Response, Router
from litestar.config.csrf import CSRFConfig
from litestar.exceptions import HTTPException, NotAuthorizedException
from litestar.plugins.jinja import JinjaTemplateEngine
from litestar.response import Redirect
from litestar.static_files import create_static_files_router
from litestar.template.config import TemplateConfig

from api.console import account, admin, i18n, invitation, pages, reset, signin
from api.console.account import ACCOUNT
from api.console.render import page
from api.console.session import NO_SESSION, build_session_auth, derived_secret
from api.console.signin import PASSWORD_PAGE
from api.security.tokens import PASSWORD_CHANGE_REQUIRED, TWO_FACTOR_ENROLMENT_REQUIRED
from config import Settings
from models.shipping import service_words

HERE = Path(__file__).parent
# The console's forms only; the API uses bearer tokens.
CSRF_EXCLUDE = ["^/api/", "^/schema", "^/_docs/", "^/metrics$"]


def template_config() -> TemplateConfig[JinjaTemplateEngine]:
    def configure(engine: JinjaTemplateEngine) -> None:
        env = engine.engine
        env.autoescape = True
        i18n.install(env)
        env.globals["service_words"] = service_words  # a quote's service beside its carrier

    return TemplateConfig(
        directory=HERE / "templates", engine=JinjaTemplateEngine, engine_callback=configure
    )


def csrf_config(settings: Settings) -> CSRFConfig:
    return CSRFConfig(
        secret=derived_secret(settings, "csrf"),
        cookie_secure=settings.is_production,
        cookie_samesite="lax",
        exclude=CSRF_EXCLUDE,
    )


def _error_page(request: Request[Any, Any, Any], exc: HTTPException) -> Response[Any]:
    """Console errors as pages: no session -> sign-in; anything else -> a page in the user's
    language (the CSRF middleware's 403 included)."""
    if isinstance(exc, NotAuthorizedException):
        return Redirect(f"/console/login?next={request.url.path}", status_code=303)
    step = exc.extra.get("code") if isinstance(exc.extra, dict) else None
    if step == PASSWORD_CHANGE_REQUIRED:
        return Redirect(PASSWORD_PAGE, status_code=303)
    if step == TWO_FACTOR_ENROLMENT_REQUIRED:
        return Redirect(ACCOUNT, status_code=303)
    return page(
        request, "error", status_code=exc.status_code, code=exc.status_code, detail=exc.detail
    )


def routers(settings: Settings) -> list[Router]:
    static = create_static_files_router(
        path="/console/static",
        directories=[HERE / "static"],
        name="static",
        include_in_schema=False,
        opt={"exclude_from_auth": True},
    )
    return [
        Router(
            path="/",
            route_handlers=[
                *signin.routers(settings),
                *invitation.routers(settings),
                *reset.routers(settings),
                *account.routers(settings),
                *pages.routers(settings),
                *admin.routers(settings),
            ],
            exception_handlers={HTTPException: _error_page},
            include_in_schema=False,
        ),
        static,
    ]


__all__ = ["NO_SESSION", "build_session_auth", "csrf_config", "routers", "template_config"]

"""Sign-in for the console: the API's own login and two-factor handlers (same accounts, lockout,
replay protection and rate-limit counters), ending in a fresh server-side session instead of
tokens. Sign-out revokes the login's refresh-token family like the API's logout."""

from __future__ import annotations

import contextlib
import uuid
from datetime import UTC, datetime
from typing import Any

from litestar import Request, Response, Router, get, post
from litestar.di import NamedDependency
from litestar.exceptions import HTTPException
from litestar.params import Parameter
from litestar.response import Redirect, Template
from litestar.security.jwt import Token

from api.console.account import ACCOUNT
from api.console.forms import FormInvalid, parse, problem
from api.console.i18n import LANG_COOKIE, LANGUAGES, gettext, language_of
from api.console.render import page
from api.console.session import rotate
from api.routes import auth as api_auth
from api.routes.schemas import ChangePassword, Login, RecoveryLogin, TwoFactorVerify
from api.security import auth_state, sessions
from api.security.guards import ANY_ROLE, SETUP_ANY
from api.security.ratelimit import limiter
from api.security.tokens import (
    ALGORITHM,
    PASSWORD_CHANGE_REQUIRED,
    TWO_FACTOR_ENROLMENT_REQUIRED,
    TokenIssuer,
    setup_required,
)
from api.stores import AUTH_STATE, RL_LOGIN, RL_PUBLIC, RL_TWO_FACTOR
from config import Settings

STEP = "two_factor_step"
PASSWORD_PAGE = "/console/password"


def _safe_next(target: str | None) -> str:
    """Only our own console paths (no open redirect)."""
    if target and target.startswith("/console") and "//" not in target and "\\" not in target:
        return target
    return "/console"


async def start_session(request: Request[Any, Any, Any], settings: Settings, access: str) -> str:
    """Sign in; returns where to go next (the password page while a printed password is kept,
    the account page while an admin must still enrol two-factor)."""
    token = Token.decode(
        encoded_token=access,
        secret=settings.jwt_secret.get_secret_value(),
        algorithm=ALGORITHM,
        audience=settings.jwt_audience,
    )
    await rotate(request)
    request.set_session(
        {
            "uid": token.sub,
            "fam": str(token.extras.get("fam", "")),
            "gen": token.extras.get("gen"),
            "at": datetime.now(UTC).isoformat(),
        }
    )
    state = await auth_state.current(
        request.app.stores.get(AUTH_STATE),
        settings,
        uuid.UUID(token.sub),
        int(token.extras.get("gen", 0)),
    )
    step = setup_required(settings, state) if state is not None else None
    if step == PASSWORD_CHANGE_REQUIRED:
        return PASSWORD_PAGE
    if step == TWO_FACTOR_ENROLMENT_REQUIRED:
        return ACCOUNT  # an admin without two-factor where it is required enrols first
    return "/console"


@get("/login", exclude_from_auth=True, name="console_login")
async def login_page(
    request: Request[Any, Any, Any],
    changed: str | None = Parameter(default=None, max_length=1),
) -> Template:
    lang = language_of(request)
    notice = gettext(lang, "Password changed. Sign in with the new password.") if changed else None
    return page(request, "login", values={}, errors={}, notice=notice)


@post("/login", exclude_from_auth=True)
async def login_submit(
    request: Request[Any, Any, Any],
    settings: NamedDependency[Settings],
    issuer: NamedDependency[TokenIssuer],
) -> Template | Redirect:
    lang = language_of(request)
    form = await request.form()
    values = {"email": str(form.get("email", "")), "password": str(form.get("password", ""))}
    kept = {"email": values["email"]}
    try:
        data = parse(Login, values, lang)
        result = await api_auth.login.fn(
            request=request, data=data, settings=settings, issuer=issuer
        )
    except FormInvalid as exc:
        return page(request, "login", values=kept, errors=exc.errors, status_code=400)
    except HTTPException as exc:
        message = (
            gettext(lang, "Email or password is incorrect.")
            if exc.status_code == 401
            else problem(exc, lang)
        )
        return page(request, "login", values=kept, errors={}, error=message, status_code=400)
    if result.two_factor_required:
        request.set_session({STEP: result.two_factor_token})
        return Redirect("/console/login/two-factor", status_code=303)
    assert result.access_token is not None
    target = await start_session(request, settings, result.access_token)
    return Redirect(target, status_code=303)


@get("/login/two-factor", exclude_from_auth=True)
async def two_factor_page(request: Request[Any, Any, Any]) -> Template | Redirect:
    if not request.session.get(STEP):
        return Redirect("/console/login", status_code=303)
    return page(request, "two_factor", values={}, errors={})


@post("/login/two-factor", exclude_from_auth=True)
async def two_factor_submit(
    request: Request[Any, Any, Any],
    settings: NamedDependency[Settings],
    issuer: NamedDependency[TokenIssuer],
) -> Template | Redirect:
    lang = language_of(request)
    step = request.session.get(STEP)
    if not step:
        return Redirect("/console/login", status_code=303)
    form = await request.form()
    code = str(form.get("code", "")).strip().replace(" ", "")
    recovery = str(form.get("recovery_code", "")).strip()
    try:
        if recovery:
            data_r = parse(
                RecoveryLogin, {"two_factor_token": step, "recovery_code": recovery}, lang
            )
            pair: Any = await api_auth.recovery_login.fn(
                request=request, data=data_r, settings=settings, issuer=issuer
            )
        else:
            data_c = parse(TwoFactorVerify, {"two_factor_token": step, "code": code}, lang)
            pair = await api_auth.verify_two_factor.fn(
                request=request, data=data_c, settings=settings, issuer=issuer
            )
    except FormInvalid as exc:
        return page(request, "two_factor", values={}, errors=exc.errors, status_code=400)
    except HTTPException as exc:
        if exc.status_code == 401 and "expired" in str(exc.detail):
            request.clear_session()
            return Redirect("/console/login", status_code=303)
        field = "recovery_code" if recovery else "code"
        message = (
            gettext(lang, "The code is incorrect or was already used.")
            if exc.status_code == 401
            else problem(exc, lang)
        )
        return page(request, "two_factor", values={}, errors={field: message}, status_code=400)
    target = await start_session(request, settings, pair.access_token)
    return Redirect(target, status_code=303)


@get("/password", guards=[ANY_ROLE], opt=SETUP_ANY)
async def password_page(request: Request[Any, Any, Any]) -> Template:
    return page(request, "password", values={}, errors={})


@post("/password", guards=[ANY_ROLE], opt=SETUP_ANY)
async def password_submit(
    request: Request[Any, Any, Any], settings: NamedDependency[Settings]
) -> Template | Redirect:
    """The API's password change; it ends every session, this one included: sign in again."""
    lang = language_of(request)
    form = await request.form()
    values = {
        "current_password": str(form.get("current_password", "")),
        "new_password": str(form.get("new_password", "")),
    }
    try:
        data = parse(ChangePassword, values, lang)
        await api_auth.change_password.fn(request=request, data=data, settings=settings)
    except FormInvalid as exc:
        return page(request, "password", values={}, errors=exc.errors, status_code=400)
    except HTTPException as exc:
        errors = (
            {"current_password": gettext(lang, "The current password is incorrect.")}
            if exc.status_code == 401
            else {"new_password": problem(exc, lang)}
        )
        return page(request, "password", values={}, errors=errors, status_code=400)
    request.clear_session()
    return Redirect("/console/login?changed=1", status_code=303)


@post("/logout", guards=[ANY_ROLE])
async def logout(request: Request[Any, Any, Any], settings: NamedDependency[Settings]) -> Redirect:
    family = request.session.get("fam", "")
    if family:
        with contextlib.suppress(ValueError):
            await sessions.revoke_family(settings, uuid.UUID(family))
    request.clear_session()
    return Redirect("/console/login", status_code=303)


@get("/lang", exclude_from_auth=True)
async def switch_language(
    to: str = Parameter(default="ja", max_length=5),
    next: str | None = Parameter(default=None, max_length=500),  # noqa: A002 - the query name
) -> Response[None]:
    response = Redirect(_safe_next(next), status_code=303)
    if to in LANGUAGES:
        response.set_cookie(LANG_COOKIE, to, max_age=365 * 86400, samesite="lax", path="/")
    return response


@get("/", exclude_from_auth=True, include_in_schema=False)
async def root() -> Redirect:
    return Redirect("/console", status_code=303)


def routers(settings: Settings) -> list[Router]:
    proxies = settings.trusted_proxies
    public = limiter(
        settings.rate_limit_public, settings.rate_limit_public_window, RL_PUBLIC, proxies
    )
    login_limit = limiter(
        settings.rate_limit_login, settings.rate_limit_login_window, RL_LOGIN, proxies
    )
    code_limit = limiter(
        settings.rate_limit_two_factor,
        settings.rate_limit_two_factor_window,
        RL_TWO_FACTOR,
        proxies,
    )
    common: dict[str, Any] = {"path": "/console", "include_in_schema": False}
    return [
        Router(route_handlers=[root], path="/", include_in_schema=False),
        Router(
            route_handlers=[login_page, two_factor_page, logout, switch_language, password_page],
            **common,
        ),
        Router(
            route_handlers=[password_submit],
            middleware=[public.middleware, login_limit.middleware],
            **common,
        ),
        Router(
            route_handlers=[login_submit],
            middleware=[public.middleware, login_limit.middleware],
            **common,
        ),
        Router(
            route_handlers=[two_factor_submit],
            middleware=[public.middleware, code_limit.middleware],
            **common,
        ),
    ]

"""The signed-in user's own account: two-factor on (QR code, first code, recovery codes once),
new recovery codes, two-factor off where the policy allows it (admins must keep it where
ADMIN_TWO_FACTOR_REQUIRED applies, in production by default). Each form runs the API's own
handler; the password change is the sign-in module's page."""

from __future__ import annotations

from typing import Any

from litestar import Request, Router, get, post
from litestar.di import NamedDependency
from litestar.exceptions import HTTPException
from litestar.response import Redirect, Template

from api.console.forms import FormInvalid, parse, problem
from api.console.i18n import gettext, language_of
from api.console.render import page, remember
from api.routes import auth as api_auth
from api.routes.schemas import Code, DisableTwoFactor
from api.security import sessions
from api.security.guards import ANY_ROLE, SETUP_TWO_FACTOR
from api.security.ratelimit import limiter
from api.security.totp import provisioning_uri, qr_svg
from api.stores import RL_TWO_FACTOR
from config import Settings
from models import Role

ACCOUNT = "/console/account"
AnyRequest = Request[Any, Any, Any]


def _may_disable(request: AnyRequest, settings: Settings) -> bool:
    return not (request.user.role == Role.admin and settings.requires_admin_two_factor)


async def _account_page(
    request: AnyRequest,
    settings: Settings,
    errors: dict[str, str] | None = None,
    status_code: int = 200,
) -> Template:
    me = await api_auth.me.fn(request=request)
    return page(
        request,
        "account",
        me=me,
        may_disable=_may_disable(request, settings),
        values={},
        errors=errors or {},
        status_code=status_code,
    )


def _code(form: Any, name: str = "code") -> str:
    return str(form.get(name, "")).strip().replace(" ", "")


@get("/account", guards=[ANY_ROLE], opt=SETUP_TWO_FACTOR)
async def account(request: AnyRequest, settings: NamedDependency[Settings]) -> Template:
    return await _account_page(request, settings)


async def _enrol_page(
    request: AnyRequest, secret: str, errors: dict[str, str], status_code: int = 200
) -> Template:
    uri = provisioning_uri(secret, request.user.email)
    return page(
        request,
        "account_enrol",
        secret=secret,
        qr=qr_svg(uri),
        values={},
        errors=errors,
        status_code=status_code,
    )


@post("/account/two-factor/enrol", guards=[ANY_ROLE], opt=SETUP_TWO_FACTOR)
async def enrol(request: AnyRequest, settings: NamedDependency[Settings]) -> Template | Redirect:
    lang = language_of(request)
    try:
        enrolment = await api_auth.enrol_two_factor.fn(request=request, settings=settings)
    except HTTPException as exc:
        remember(request, problem(exc, lang), "error")
        return Redirect(ACCOUNT, status_code=303)
    return await _enrol_page(request, enrolment.secret, {})


@post("/account/two-factor/confirm", guards=[ANY_ROLE], opt=SETUP_TWO_FACTOR)
async def confirm(request: AnyRequest, settings: NamedDependency[Settings]) -> Template | Redirect:
    lang = language_of(request)
    code = _code(await request.form())
    try:
        data = parse(Code, {"code": code}, lang)
        codes = await api_auth.confirm_two_factor.fn(request=request, data=data, settings=settings)
    except (FormInvalid, HTTPException) as exc:
        user = await sessions.get_user(settings, request.user.id)
        if user is None or user.totp_enabled or not user.totp_secret:
            remember(request, gettext(lang, "Start the two-factor set-up again."), "error")
            return Redirect(ACCOUNT, status_code=303)
        errors = (
            exc.errors
            if isinstance(exc, FormInvalid)
            else {"code": gettext(lang, "The code is incorrect or was already used.")}
        )
        return await _enrol_page(request, user.totp_secret, errors, status_code=400)
    return page(
        request,
        "recovery_codes",
        codes=codes.recovery_codes,
        next_url=ACCOUNT,
        heading=gettext(lang, "Two-factor is on."),
    )


@post("/account/recovery-codes", guards=[ANY_ROLE])
async def new_codes(request: AnyRequest, settings: NamedDependency[Settings]) -> Template:
    lang = language_of(request)
    try:
        data = parse(Code, {"code": _code(await request.form(), "recovery-code")}, lang)
        codes = await api_auth.regenerate_recovery_codes.fn(
            request=request, data=data, settings=settings
        )
    except FormInvalid as exc:
        errors = {"recovery-code": exc.errors.get("code", "")}
        return await _account_page(request, settings, errors, status_code=400)
    except HTTPException as exc:
        message = (
            gettext(lang, "The code is incorrect or was already used.")
            if exc.status_code == 401
            else problem(exc, lang)
        )
        return await _account_page(request, settings, {"recovery-code": message}, 400)
    return page(
        request,
        "recovery_codes",
        codes=codes.recovery_codes,
        next_url=ACCOUNT,
        heading=gettext(lang, "New recovery codes"),
    )


@post("/account/two-factor/disable", guards=[ANY_ROLE])
async def disable(request: AnyRequest, settings: NamedDependency[Settings]) -> Template | Redirect:
    lang = language_of(request)
    form = await request.form()
    values = {"password": str(form.get("off-password", "")), "code": _code(form, "off-code")}
    try:
        data = parse(DisableTwoFactor, values, lang)
        await api_auth.disable_two_factor.fn(request=request, data=data, settings=settings)
    except FormInvalid as exc:
        errors = {f"off-{k}": v for k, v in exc.errors.items()}
        return await _account_page(request, settings, errors, status_code=400)
    except HTTPException as exc:
        if exc.status_code == 401 and "password" in str(exc.detail):
            errors = {"off-password": gettext(lang, "The password is incorrect.")}
        elif exc.status_code == 401:
            errors = {"off-code": gettext(lang, "The code is incorrect or was already used.")}
        else:
            errors = {"off-code": problem(exc, lang)}
        return await _account_page(request, settings, errors, status_code=400)
    remember(request, gettext(lang, "Two-factor is off."))
    return Redirect(ACCOUNT, status_code=303)


def routers(settings: Settings) -> list[Router]:
    code_limit = limiter(
        settings.rate_limit_two_factor,
        settings.rate_limit_two_factor_window,
        RL_TWO_FACTOR,
        settings.trusted_proxies,
    )
    common: dict[str, Any] = {"path": "/console", "include_in_schema": False}
    return [
        Router(route_handlers=[account, enrol], **common),
        Router(
            route_handlers=[confirm, new_codes, disable],
            middleware=[code_limit.middleware],
            **common,
        ),
    ]

"""Password reset in the browser: ask for a link (the API's request handler: the same answer
whether or not the address has an account), and the page the emailed link opens (the API's
confirm handler). Like the invitation, the token moves from the URL into the session."""

from __future__ import annotations

from typing import Any

from litestar import Request, Router, get, post
from litestar.di import NamedDependency
from litestar.exceptions import HTTPException
from litestar.params import Parameter
from litestar.response import Redirect, Template

from api.console.forms import FormInvalid, parse, problem
from api.console.i18n import gettext, language_of
from api.console.render import page
from api.routes import auth as api_auth
from api.routes.schemas import ResetConfirm, ResetRequest
from api.security.links import RESET_PASSWORD_PATH
from api.security.ratelimit import public_limiter
from api.temporal import TemporalGateway
from config import Settings

TOKEN = "reset_token"
AnyRequest = Request[Any, Any, Any]


@get("/reset-password", exclude_from_auth=True)
async def reset_request_page(request: AnyRequest) -> Template:
    return page(request, "reset_request", values={}, errors={}, sent=False)


@post("/reset-password", exclude_from_auth=True)
async def reset_request_submit(
    request: AnyRequest,
    settings: NamedDependency[Settings],
    temporal: NamedDependency[TemporalGateway],
) -> Template:
    lang = language_of(request)
    form = await request.form()
    values = {"email": str(form.get("email", ""))}
    try:
        data = parse(ResetRequest, values, lang)
        await api_auth.request_password_reset.fn(data=data, settings=settings, temporal=temporal)
    except FormInvalid as exc:
        return page(
            request, "reset_request", values=values, errors=exc.errors, sent=False, status_code=400
        )
    except HTTPException as exc:
        return page(
            request,
            "reset_request",
            values=values,
            errors={},
            sent=False,
            error=problem(exc, lang),
            status_code=exc.status_code,
        )
    return page(request, "reset_request", values={}, errors={}, sent=True)


@get("/reset-password/confirm", exclude_from_auth=True)
async def reset_confirm_page(
    request: AnyRequest, token: str | None = Parameter(default=None, max_length=256)
) -> Template | Redirect:
    if token:
        request.set_session({TOKEN: token})
        return Redirect(RESET_PASSWORD_PATH, status_code=303)
    return page(
        request, "reset_confirm", values={}, errors={}, has_token=bool(request.session.get(TOKEN))
    )


@post("/reset-password/confirm", exclude_from_auth=True)
async def reset_confirm_submit(
    request: AnyRequest, settings: NamedDependency[Settings]
) -> Template | Redirect:
    lang = language_of(request)
    form = await request.form()
    password, repeat = str(form.get("new_password", "")), str(form.get("repeat_password", ""))
    token = str(request.session.get(TOKEN, ""))
    try:
        data = parse(ResetConfirm, {"token": token, "new_password": password}, lang)
        if password != repeat:
            raise FormInvalid({"repeat_password": gettext(lang, "The passwords differ.")})
        await api_auth.confirm_password_reset.fn(request=request, data=data, settings=settings)
    except FormInvalid as exc:
        if "token" in exc.errors:
            return _dead_link(request, lang)
        return page(
            request, "reset_confirm", values={}, errors=exc.errors, has_token=True, status_code=400
        )
    except HTTPException:
        return _dead_link(request, lang)
    request.clear_session()
    return Redirect("/console/login?changed=1", status_code=303)


def _dead_link(request: AnyRequest, lang: str) -> Template:
    return page(
        request,
        "reset_confirm",
        values={},
        errors={},
        has_token=False,
        error=gettext(lang, "This reset link is not valid, was already used or has expired."),
        status_code=400,
    )


def routers(settings: Settings) -> list[Router]:
    public = public_limiter(settings)
    return [
        Router(
            path="/console",
            include_in_schema=False,
            route_handlers=[
                reset_request_page,
                reset_request_submit,
                reset_confirm_page,
                reset_confirm_submit,
            ],
            middleware=[public.middleware],
        )
    ]

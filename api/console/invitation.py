"""Accepting an invitation in the browser: the emailed link opens this page, which runs the
API's own invitation handlers (set a password, scan the QR code, confirm a first code), shows
the recovery codes once and ends signed in.

The token moves from the URL into the (server-side) session at once, so it is not left in the
browser's history or sent on as a Referer."""

from __future__ import annotations

from typing import Any

from litestar import Request, Router, get, post
from litestar.di import NamedDependency
from litestar.exceptions import HTTPException
from litestar.params import Parameter
from litestar.response import Redirect, Template

from api.console.forms import FormInvalid, parse, problem
from api.console.i18n import gettext, language_of
from api.console.labels import N_
from api.console.render import page
from api.console.signin import start_session
from api.routes import invitations as api_invitations
from api.routes.schemas import InvitationAccept, InvitationOpened, InvitationToken
from api.security.links import INVITATION_PATH
from api.security.ratelimit import limiter
from api.security.tokens import TokenIssuer
from api.stores import RL_PUBLIC, RL_TWO_FACTOR
from config import Settings

TOKEN = "invitation_token"
UNUSABLE = {
    404: N_("This invitation link is not valid. Check that you opened the whole link."),
    409: N_(
        "This invitation was already used or replaced by a newer one. Sign in, or ask an admin "
        "to send a new invitation."
    ),
    410: N_("This invitation has expired. Ask an admin to send a new one."),
}
AnyRequest = Request[Any, Any, Any]


async def _open(request: AnyRequest, settings: Settings) -> InvitationOpened | str:
    """The invitation in the session, or the sentence saying why it cannot be used."""
    lang = language_of(request)
    token = request.session.get(TOKEN)
    if not token:
        return gettext(lang, UNUSABLE[404])
    try:
        data = parse(InvitationToken, {"token": token}, lang)
        return await api_invitations.open_invitation.fn(data=data, settings=settings)
    except FormInvalid:
        return gettext(lang, UNUSABLE[404])
    except HTTPException as exc:
        return _why(exc, lang)


def _why(exc: HTTPException, lang: str) -> str:
    lead = UNUSABLE.get(exc.status_code)
    return gettext(lang, lead) if lead else problem(exc, lang)


def _form_page(
    request: AnyRequest,
    opened: InvitationOpened | str,
    errors: dict[str, str],
    status_code: int = 200,
) -> Template:
    if isinstance(opened, str):
        return page(
            request,
            "invitation",
            invitation=None,
            unusable=opened,
            values={},
            errors={},
            status_code=400,
        )
    return page(
        request,
        "invitation",
        invitation=opened,
        unusable=None,
        values={},
        errors=errors,
        status_code=status_code,
    )


@get("/invitation", exclude_from_auth=True)
async def invitation_page(
    request: AnyRequest,
    settings: NamedDependency[Settings],
    token: str | None = Parameter(default=None, max_length=256),
) -> Template | Redirect:
    if token:
        request.set_session({TOKEN: token})
        return Redirect(INVITATION_PATH, status_code=303)
    return _form_page(request, await _open(request, settings), {})


@post("/invitation", exclude_from_auth=True)
async def invitation_submit(
    request: AnyRequest,
    settings: NamedDependency[Settings],
    issuer: NamedDependency[TokenIssuer],
) -> Template:
    lang = language_of(request)
    form = await request.form()
    values = {k: str(form.get(k, "")) for k in ("new_password", "repeat_password", "code")}
    opened = await _open(request, settings)
    if isinstance(opened, str):
        return _form_page(request, opened, {})
    try:
        data = parse(
            InvitationAccept,
            {
                "token": request.session.get(TOKEN, ""),
                "new_password": values["new_password"],
                "code": values["code"].strip().replace(" ", ""),
            },
            lang,
        )
        if values["new_password"] != values["repeat_password"]:
            raise FormInvalid({"repeat_password": gettext(lang, "The passwords differ.")})
        accepted = await api_invitations.accept_invitation.fn(
            request=request, data=data, settings=settings, issuer=issuer
        )
    except FormInvalid as exc:
        return _form_page(request, opened, exc.errors, status_code=400)
    except HTTPException as exc:
        if exc.status_code == 401:
            message = gettext(lang, "The code is incorrect or was already used.")
            return _form_page(request, opened, {"code": message}, status_code=400)
        return _form_page(request, _why(exc, lang), {}, status_code=400)
    target = await start_session(request, settings, accepted.access_token)
    return page(
        request,
        "recovery_codes",
        codes=accepted.recovery_codes,
        next_url=target,
        heading=gettext(lang, "Welcome. Your account is ready."),
    )


def routers(settings: Settings) -> list[Router]:
    proxies = settings.trusted_proxies
    public = limiter(
        settings.rate_limit_public, settings.rate_limit_public_window, RL_PUBLIC, proxies
    )
    code_limit = limiter(
        settings.rate_limit_two_factor,
        settings.rate_limit_two_factor_window,
        RL_TWO_FACTOR,
        proxies,
    )
    common: dict[str, Any] = {"path": "/console", "include_in_schema": False}
    return [
        Router(route_handlers=[invitation_page], middleware=[public.middleware], **common),
        Router(
            route_handlers=[invitation_submit],
            middleware=[public.middleware, code_limit.middleware],
            **common,
        ),
    ]

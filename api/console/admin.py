"""Operations (admin): provider health (the doctor's checks), the schedules, and the users
(invite, edit name, change role, deactivate, unlock, reset two-factor, resend the invitation).
Every action runs the JSON API's own handler or service; refusals come back as field errors."""

from __future__ import annotations

import uuid

from litestar import Router, get, post
from litestar.di import NamedDependency
from litestar.exceptions import HTTPException, NotFoundException
from litestar.params import FromPath
from litestar.response import Redirect, Template

from api.console.forms import FormInvalid, parse, problem
from api.console.i18n import gettext, language_of
from api.console.labels import N_
from api.console.pages.common import AnyRequest
from api.console.pages.common import back as _back
from api.console.pages.common import form_values as _form
from api.console.render import page
from api.provider_health import provider_health
from api.routes import operations as api_operations
from api.routes import users as api_users
from api.schedule_control import ACTIONS, change_schedule
from api.security.guards import ADMIN
from api.temporal import TemporalGateway
from config import Settings
from models import Role

OPERATIONS = "/console/operations"
USER_ACTIONS = {
    "deactivate": (api_users.deactivate_user, N_("The account is deactivated.")),
    "unlock": (api_users.unlock_user, N_("The account is unlocked.")),
    "two-factor-reset": (
        api_users.reset_two_factor,
        N_("Two-factor is reset; the owner sets it up again at the next sign-in."),
    ),
}


async def _operations_page(
    request: AnyRequest,
    settings: Settings,
    temporal: TemporalGateway,
    values: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    status_code: int = 200,
) -> Template:
    lang = language_of(request)
    schedules, schedule_error = [], None
    try:
        schedules = await api_operations.list_schedules.fn(temporal=temporal)
    except HTTPException as exc:
        schedule_error = problem(exc, lang)
    users = await api_users.list_users.fn(settings=settings, role=None, q=None, limit=200, offset=0)
    health = await provider_health(request.app.state, settings).report()
    return page(
        request,
        "operations",
        health=health,
        schedules=schedules,
        schedule_error=schedule_error,
        users=users,
        roles=list(Role),
        values=values or {},
        errors=errors or {},
        status_code=status_code,
    )


@get("/operations", guards=[ADMIN])
async def operations(
    request: AnyRequest,
    settings: NamedDependency[Settings],
    temporal: NamedDependency[TemporalGateway],
) -> Template:
    return await _operations_page(request, settings, temporal)


@post("/operations/health", guards=[ADMIN])
async def health_refresh(request: AnyRequest, settings: NamedDependency[Settings]) -> Redirect:
    await provider_health(request.app.state, settings).report(refresh=True)
    return Redirect(OPERATIONS, status_code=303)


@post("/operations/schedules/{schedule_id:str}/{action:str}", guards=[ADMIN])
async def schedule_action(
    request: AnyRequest,
    schedule_id: FromPath[str],
    action: FromPath[str],
    temporal: NamedDependency[TemporalGateway],
) -> Redirect:
    lang = language_of(request)
    chosen = next((a for a in ACTIONS if a == action), None)
    if chosen is None:
        raise NotFoundException(f"unknown action {action}")
    try:
        await change_schedule(temporal, schedule_id, chosen)
    except HTTPException as exc:
        return _back(request, OPERATIONS, problem(exc, lang), "error")
    return _back(request, OPERATIONS, gettext(lang, "Schedule updated."))


@post("/operations/users", guards=[ADMIN])
async def user_create(
    request: AnyRequest,
    settings: NamedDependency[Settings],
    temporal: NamedDependency[TemporalGateway],
) -> Template | Redirect:
    lang = language_of(request)
    values = await _form(request)
    try:
        data = parse(
            api_users.UserCreate,
            {k: values.get(k, "") for k in ("email", "full_name", "role")},
            lang,
        )
        created = await api_users.create.fn(
            data=data, request=request, settings=settings, temporal=temporal
        )
    except (FormInvalid, HTTPException) as exc:
        errors = exc.errors if isinstance(exc, FormInvalid) else {"email": problem(exc, lang)}
        return await _operations_page(request, settings, temporal, values, errors, 400)
    message = gettext(lang, "Invitation sent to %(email)s.", email=created.user.email)
    return _back(request, f"{OPERATIONS}/users/{created.user.id}", message)


# One user -------------------------------------------------------------------------------------


async def _user_page(
    request: AnyRequest,
    settings: Settings,
    user_id: uuid.UUID,
    values: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    status_code: int = 200,
) -> Template:
    member = await api_users.get_user.fn(user_id=user_id, settings=settings)
    return page(
        request,
        "user",
        member=member,
        roles=list(Role),
        is_self=member.id == request.user.id,
        values=values or {"full_name": member.full_name, "role": member.role.value},
        errors=errors or {},
        status_code=status_code,
    )


@get("/operations/users/{user_id:uuid}", guards=[ADMIN])
async def user_detail(
    request: AnyRequest, user_id: FromPath[uuid.UUID], settings: NamedDependency[Settings]
) -> Template:
    return await _user_page(request, settings, user_id)


def _user_path(user_id: uuid.UUID) -> str:
    return f"{OPERATIONS}/users/{user_id}"


@post("/operations/users/{user_id:uuid}/name", guards=[ADMIN])
async def user_rename(
    request: AnyRequest, user_id: FromPath[uuid.UUID], settings: NamedDependency[Settings]
) -> Template | Redirect:
    lang = language_of(request)
    values = await _form(request)
    try:
        data = parse(api_users.UserUpdate, {"full_name": values.get("full_name", "")}, lang)
        if data.full_name is None:
            data = api_users.UserUpdate(full_name="")
        await api_users.update_user.fn(
            request=request, user_id=user_id, data=data, settings=settings
        )
    except (FormInvalid, HTTPException) as exc:
        errors = exc.errors if isinstance(exc, FormInvalid) else {"full_name": problem(exc, lang)}
        return await _user_page(request, settings, user_id, values, errors, 400)
    return _back(request, _user_path(user_id), gettext(lang, "The name is saved."))


@post("/operations/users/{user_id:uuid}/role", guards=[ADMIN])
async def user_role(
    request: AnyRequest, user_id: FromPath[uuid.UUID], settings: NamedDependency[Settings]
) -> Template | Redirect:
    lang = language_of(request)
    values = await _form(request)
    try:
        data = parse(api_users.RoleChange, {"role": values.get("role", "")}, lang)
        await api_users.change_role.fn(
            request=request, user_id=user_id, data=data, settings=settings
        )
    except (FormInvalid, HTTPException) as exc:
        errors = exc.errors if isinstance(exc, FormInvalid) else {"role": problem(exc, lang)}
        return await _user_page(request, settings, user_id, values, errors, 400)
    return _back(request, _user_path(user_id), gettext(lang, "The role is changed."))


@post("/operations/users/{user_id:uuid}/invitation", guards=[ADMIN])
async def user_invite_again(
    request: AnyRequest,
    user_id: FromPath[uuid.UUID],
    settings: NamedDependency[Settings],
    temporal: NamedDependency[TemporalGateway],
) -> Template | Redirect:
    lang = language_of(request)
    try:
        await api_users.resend_invitation.fn(
            request=request, user_id=user_id, settings=settings, temporal=temporal
        )
    except HTTPException as exc:
        errors = {"invitation": problem(exc, lang)}
        return await _user_page(request, settings, user_id, None, errors, 400)
    message = gettext(lang, "A new invitation is sent; the earlier link no longer works.")
    return _back(request, _user_path(user_id), message)


@post("/operations/users/{user_id:uuid}/{action:str}", guards=[ADMIN])
async def user_action(
    request: AnyRequest,
    user_id: FromPath[uuid.UUID],
    action: FromPath[str],
    settings: NamedDependency[Settings],
) -> Template | Redirect:
    lang = language_of(request)
    found = USER_ACTIONS.get(action)
    if found is None:
        raise NotFoundException(f"unknown action {action}")
    handler, done = found
    try:
        if handler is api_users.unlock_user:
            await handler.fn(user_id=user_id, settings=settings)
        else:
            await handler.fn(request=request, user_id=user_id, settings=settings)
    except HTTPException as exc:
        errors = {action: problem(exc, lang)}
        return await _user_page(request, settings, user_id, None, errors, 400)
    return _back(request, _user_path(user_id), gettext(lang, done))


def routers(settings: Settings) -> list[Router]:
    del settings
    return [
        Router(
            path="/console",
            include_in_schema=False,
            route_handlers=[
                operations,
                health_refresh,
                schedule_action,
                user_create,
                user_detail,
                user_rename,
                user_role,
                user_invite_again,
                user_action,
            ],
        )
    ]

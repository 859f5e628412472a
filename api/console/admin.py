"""Operations (admin): schedules (pause, resume, run now) and users and roles."""

from __future__ import annotations

from litestar import Router, get, post
from litestar.di import NamedDependency
from litestar.exceptions import HTTPException, NotFoundException
from litestar.params import FromPath
from litestar.response import Redirect, Template

from api.console.forms import FormInvalid, parse, problem
from api.console.i18n import gettext, language_of
from api.console.pages.common import AnyRequest
from api.console.pages.common import back as _back
from api.console.pages.common import form_values as _form
from api.console.render import page
from api.routes import operations as api_operations
from api.routes import users as api_users
from api.security.guards import ADMIN
from api.temporal import TemporalGateway
from config import Settings
from models import Role


@get("/operations", guards=[ADMIN])
async def operations(
    request: AnyRequest,
    settings: NamedDependency[Settings],
    temporal: NamedDependency[TemporalGateway],
) -> Template:
    lang = language_of(request)
    schedules, schedule_error = [], None
    try:
        schedules = await api_operations.list_schedules.fn(temporal=temporal)
    except HTTPException as exc:
        schedule_error = problem(exc, lang)
    users = await api_users.list_users.fn(settings=settings, role=None, q=None, limit=200, offset=0)
    return page(
        request,
        "operations",
        schedules=schedules,
        schedule_error=schedule_error,
        users=users,
        roles=list(Role),
        values={},
        errors={},
    )


@post("/operations/schedules/{schedule_id:str}/{action:str}", guards=[ADMIN])
async def schedule_action(
    request: AnyRequest,
    schedule_id: FromPath[str],
    action: FromPath[str],
    temporal: NamedDependency[TemporalGateway],
) -> Redirect:
    lang = language_of(request)
    if action not in {"pause", "unpause", "trigger"}:
        raise NotFoundException(f"unknown action {action}")
    try:
        await api_operations._act(temporal, schedule_id, action, "")
    except HTTPException as exc:
        return _back(request, "/console/operations", problem(exc, lang), "error")
    return _back(request, "/console/operations", gettext(lang, "Schedule updated."))


@post("/operations/users", guards=[ADMIN])
async def user_create(
    request: AnyRequest, settings: NamedDependency[Settings]
) -> Template | Redirect:
    lang = language_of(request)
    values = await _form(request)
    try:
        data = parse(
            api_users.UserCreate,
            {k: values.get(k, "") for k in ("email", "full_name", "role")},
            lang,
        )
        created = await api_users.create.fn(data=data, request=request, settings=settings)
    except (FormInvalid, HTTPException) as exc:
        errors = exc.errors if isinstance(exc, FormInvalid) else {"email": problem(exc, lang)}
        users = await api_users.list_users.fn(
            settings=settings, role=None, q=None, limit=200, offset=0
        )
        return page(
            request,
            "operations",
            schedules=[],
            schedule_error=None,
            users=users,
            roles=list(Role),
            values=values,
            errors=errors,
            status_code=400,
        )
    return page(request, "user_created", created=created)


def routers(settings: Settings) -> list[Router]:
    del settings
    return [
        Router(
            path="/console",
            include_in_schema=False,
            route_handlers=[operations, schedule_action, user_create],
        )
    ]

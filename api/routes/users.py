"""Staff accounts, admin only: list, invite (the new user sets their own password and enrols
two-factor through an emailed link; no password is ever shown), resend the invitation, edit,
role, deactivate, unlock, reset two-factor."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

import anyio.to_thread
import sqlalchemy as sa
from litestar import Request, Router, delete, get, patch, post, put
from litestar.di import NamedDependency
from litestar.exceptions import ClientException, NotFoundException
from litestar.params import FromPath, FromQuery, JSONBody
from litestar.security.jwt import Token
from litestar.status_codes import HTTP_200_OK, HTTP_201_CREATED
from pydantic import BaseModel, Field
from sqlmodel import Session, select

from api.accounts import UserPublic, create_user
from api.db import in_session
from api.fields import JsonBool, RequestBody
from api.pagination import Page, limit_param, offset_param, page_of, search_param
from api.routes.schemas import EMAIL
from api.security import auth_state, invitations, notices, sessions
from api.security.auth_state import bump_generation
from api.security.guards import ADMIN
from api.security.tokens import AuthUser
from api.stores import AUTH_STATE
from api.temporal import TemporalGateway
from config import Settings
from models import Role, User
from models.db import table_of
from models.types import UTCDateTime

AuthRequest = Request[AuthUser, Token, Any]


class UserCreate(RequestBody):
    email: str = EMAIL
    full_name: str = Field(default="", max_length=200)
    role: Role = Role.staff


class InvitationSent(BaseModel):
    expires_at: UTCDateTime


class UserCreated(BaseModel):
    user: UserPublic
    invitation: InvitationSent


class UserUpdate(RequestBody):
    full_name: str | None = Field(default=None, max_length=200)
    is_active: JsonBool | None = None


class RoleChange(RequestBody):
    role: Role


def _load(session: Session, user_id: uuid.UUID) -> User:
    user = session.get(User, user_id)
    if user is None:
        raise NotFoundException(f"user {user_id} not found")
    return user


async def _publish(request: AuthRequest, settings: Settings, user_id: uuid.UUID) -> None:
    await auth_state.publish(request.app.stores.get(AUTH_STATE), settings, user_id)


def _not_self(request: AuthRequest, user_id: uuid.UUID, what: str) -> None:
    if request.user.id == user_id:
        raise ClientException(status_code=409, detail=f"you cannot {what} your own account")


@get("/", summary="List users")
async def list_users(
    settings: NamedDependency[Settings],
    role: FromQuery[Role | None] = None,
    q: str | None = search_param(320, "email contains"),
    limit: int = limit_param(),
    offset: int = offset_param(),
) -> Page[UserPublic]:
    def run(session: Session) -> Page[UserPublic]:
        query = select(User)
        if role is not None:
            query = query.where(User.role == role)
        if q:
            query = query.where(User.email.contains(q.lower()))  # type: ignore[attr-defined]
        rows, total = page_of(session, query, User.email, limit=limit, offset=offset)
        return Page(items=[UserPublic.of(u) for u in rows], total=total, limit=limit, offset=offset)

    return await in_session(settings, run)


@post("/", status_code=HTTP_201_CREATED, summary="Invite a user")
async def create(
    data: JSONBody[UserCreate],
    request: AuthRequest,
    settings: NamedDependency[Settings],
    temporal: NamedDependency[TemporalGateway],
) -> UserCreated:
    """Creates the account and emails its owner a single-use invitation link (valid
    INVITATION_HOURS): they set their own password and enrol two-factor there. No password is
    shown to anyone. 503 before anything is written when the email cannot be started."""
    client = await temporal.client()
    try:
        user, _ = await anyio.to_thread.run_sync(
            lambda: create_user(settings, data.email, None, data.role, data.full_name, invited=True)
        )
    except ValueError as exc:
        raise ClientException(status_code=409, detail=str(exc)) from exc
    expires_at = await invitations.send(settings, client, user, request.user.id)
    return UserCreated(user=UserPublic.of(user), invitation=InvitationSent(expires_at=expires_at))


@post(
    "/{user_id:uuid}/invitation",
    status_code=HTTP_201_CREATED,
    summary="Send a new invitation (the earlier link stops working)",
)
async def resend_invitation(
    request: AuthRequest,
    user_id: FromPath[uuid.UUID],
    settings: NamedDependency[Settings],
    temporal: NamedDependency[TemporalGateway],
) -> InvitationSent:
    """409 when the account has already accepted its invitation (or is deactivated)."""
    client = await temporal.client()
    user = await in_session(settings, lambda s: UserPublic.of(_load(s, user_id)))
    try:
        expires_at = await invitations.send(settings, client, user, request.user.id)
    except invitations.InvitationRefused as exc:
        raise ClientException(
            status_code=409, detail="this account is not waiting for an invitation"
        ) from exc
    return InvitationSent(expires_at=expires_at)


@get("/{user_id:uuid}", summary="One user")
async def get_user(user_id: FromPath[uuid.UUID], settings: NamedDependency[Settings]) -> UserPublic:
    return await in_session(settings, lambda s: UserPublic.of(_load(s, user_id)))


@patch("/{user_id:uuid}", summary="Edit name or active flag")
async def update_user(
    request: AuthRequest,
    user_id: FromPath[uuid.UUID],
    data: JSONBody[UserUpdate],
    settings: NamedDependency[Settings],
) -> UserPublic:
    if data.is_active is False:
        _not_self(request, user_id, "deactivate")

    def run(session: Session) -> UserPublic:
        user = _load(session, user_id)
        if data.full_name is not None:
            user.full_name = data.full_name
        if data.is_active is not None and data.is_active != user.is_active:
            user.is_active = data.is_active
            bump_generation(session, user_id)
        user.updated_at = datetime.now(UTC)
        session.add(user)
        session.flush()
        session.refresh(user)
        return UserPublic.of(user)

    result = await in_session(settings, run)
    if data.is_active is False:
        await sessions.revoke_all_for_user(settings, user_id)
    await _publish(request, settings, user_id)
    return result


@put("/{user_id:uuid}/role", summary="Change the role")
async def change_role(
    request: AuthRequest,
    user_id: FromPath[uuid.UUID],
    data: JSONBody[RoleChange],
    settings: NamedDependency[Settings],
) -> UserPublic:
    _not_self(request, user_id, "change the role of")

    def run(session: Session) -> UserPublic:
        user = _load(session, user_id)
        user.role = data.role
        # A changed role starts a fresh session: every token issued under the old one ends now.
        user.updated_at = datetime.now(UTC)
        session.add(user)
        bump_generation(session, user_id)
        return UserPublic.of(user)

    result = await in_session(settings, run)
    await sessions.revoke_all_for_user(settings, user_id)
    await _publish(request, settings, user_id)
    return result


@delete("/{user_id:uuid}", summary="Deactivate (accounts are kept for the audit trail)")
async def deactivate_user(
    request: AuthRequest, user_id: FromPath[uuid.UUID], settings: NamedDependency[Settings]
) -> None:
    _not_self(request, user_id, "deactivate")

    def run(session: Session) -> None:
        user = _load(session, user_id)
        user.is_active = False
        user.updated_at = datetime.now(UTC)
        session.add(user)
        bump_generation(session, user_id)

    await in_session(settings, run)
    await sessions.revoke_all_for_user(settings, user_id)
    await _publish(request, settings, user_id)


@post("/{user_id:uuid}/unlock", status_code=HTTP_200_OK, summary="Lift a login lockout")
async def unlock_user(
    user_id: FromPath[uuid.UUID], settings: NamedDependency[Settings]
) -> UserPublic:
    def run(session: Session) -> UserPublic:
        _load(session, user_id)
        table = table_of(User)
        session.execute(
            sa.update(table)
            .where(table.c.id == user_id)
            .values(locked_until=None, failed_login_count=0, totp_failed_count=0)
        )
        session.expire_all()
        return UserPublic.of(_load(session, user_id))

    return await in_session(settings, run)


@delete("/{user_id:uuid}/two-factor", summary="Reset two-factor (lost device)", status_code=200)
async def reset_two_factor(
    request: AuthRequest,
    user_id: FromPath[uuid.UUID],
    settings: NamedDependency[Settings],
) -> UserPublic:
    """The account's sessions end at once (token generation); its owner gets a notice."""
    _not_self(request, user_id, "reset two-factor on")

    def run(session: Session) -> UserPublic:
        user = _load(session, user_id)
        user.totp_enabled = False
        user.totp_secret = None
        user.recovery_code_hashes = []
        user.updated_at = datetime.now(UTC)
        session.add(user)
        bump_generation(session, user_id)
        return UserPublic.of(user)

    result = await in_session(settings, run)
    await sessions.revoke_all_for_user(settings, user_id)
    state = await auth_state.publish(request.app.stores.get(AUTH_STATE), settings, user_id)
    notices.notice(
        request,
        to_email=result.email,
        to_name=result.full_name,
        event="two_factor_reset",
        key=f"{user_id}-g{state.generation if state else 0}",
        details={"by": request.user.email},
    )
    return result


def routers() -> list[Router]:
    return [
        Router(
            path="/api/users",
            guards=[ADMIN],
            tags=["users"],
            route_handlers=[
                list_users,
                create,
                resend_invitation,
                get_user,
                update_user,
                change_role,
                deactivate_user,
                unlock_user,
                reset_two_factor,
            ],
        )
    ]

"""Staff accounts: `create_admin` (the `worlddoor create-admin` CLI), invited accounts, and a
user's public view."""

from __future__ import annotations

import uuid

from pydantic import BaseModel
from sqlalchemy.exc import IntegrityError
from sqlmodel import select

from api.security.passwords import MIN_PASSWORD_LENGTH, generate_password, hash_password_sync
from config import Settings
from models import Role, User
from models.db import session_scope
from models.types import UTCDateTime


class UserPublic(BaseModel):
    id: uuid.UUID
    email: str
    full_name: str
    role: Role
    is_active: bool
    two_factor_enabled: bool
    invitation_pending: bool = False
    locked_until: UTCDateTime | None
    created_at: UTCDateTime
    updated_at: UTCDateTime

    @classmethod
    def of(cls, user: User) -> UserPublic:
        return cls(
            id=user.id,
            email=user.email,
            full_name=user.full_name,
            role=Role(user.role),
            is_active=user.is_active,
            two_factor_enabled=user.totp_enabled,
            invitation_pending=user.invitation_pending,
            locked_until=user.locked_until,
            created_at=user.created_at,
            updated_at=user.updated_at,
        )


def normalise_email(email: str) -> str:
    email = email.strip().lower()
    if "@" not in email or email.startswith("@") or email.endswith("@") or " " in email:
        raise ValueError(f"{email!r} is not an email address")
    return email


def check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise ValueError(f"the password must have at least {MIN_PASSWORD_LENGTH} characters")


def create_user(
    settings: Settings,
    email: str,
    password: str | None,
    role: Role,
    full_name: str = "",
    *,
    invited: bool = False,
) -> tuple[User, str]:
    """Create an account (sync; call from a thread). Returns the user and the password, which is
    generated when None (and must then be changed at first sign-in: it was printed).
    `invited`: the generated password is thrown away (nobody ever sees it) and the owner sets
    their own through the emailed invitation (api.security.invitations).
    ValueError when the email is taken or the password too short."""
    email = normalise_email(email)
    printed = password is None and not invited
    password = password if password is not None else generate_password()
    check_password(password)
    password_hash = hash_password_sync(password)
    taken = ValueError(f"an account with the email {email} already exists")
    try:
        with session_scope(settings) as session:
            if session.exec(select(User).where(User.email == email)).first() is not None:
                raise taken
            user = User(
                email=email,
                full_name=full_name,
                role=role,
                password_hash=password_hash,
                must_change_password=printed,
                invitation_pending=invited,
            )
            session.add(user)
            session.flush()
            session.refresh(user)
    except IntegrityError as exc:  # a concurrent create won the unique index
        raise taken from exc
    return user, password


def create_admin(settings: Settings, email: str, password: str | None) -> tuple[User, str]:
    """The first (or another) admin account; the generated password is returned when None."""
    return create_user(settings, email, password, Role.admin, full_name="Administrator")

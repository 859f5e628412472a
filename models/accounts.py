"""Staff accounts, their two-factor state and refresh-token families."""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum

from sqlmodel import Field, SQLModel

from models.types import EncryptedString, json_field, timestamp, uuid_pk


class Role(StrEnum):
    admin = "admin"
    staff = "staff"
    inspector = "inspector"


class User(SQLModel, table=True):
    __tablename__ = "users"

    id: uuid.UUID = uuid_pk()
    email: str = Field(max_length=320, unique=True, index=True)
    full_name: str = Field(default="", max_length=200)
    role: Role = Field(default=Role.staff, max_length=20)
    password_hash: str = Field(max_length=255)
    is_active: bool = True
    failed_login_count: int = 0
    locked_until: datetime | None = timestamp(nullable=True)
    # Encrypted at rest: a database dump alone cannot mint two-factor codes.
    totp_secret: str | None = Field(default=None, sa_type=EncryptedString(512))
    totp_enabled: bool = False
    totp_last_timecode: int | None = None
    totp_failed_count: int = 0
    recovery_code_hashes: list[str | None] = json_field(list)
    password_changed_at: datetime = timestamp()
    # Every access token carries the generation it was issued under; bumping it (refresh-token
    # reuse, two-factor reset, role change, deactivation, password change) ends them at once.
    token_generation: int = 0
    # Set for an account whose password was printed (the first admin): change it before anything.
    must_change_password: bool = False
    # Created by an admin and not yet accepted: the password hash is random and nobody knows it;
    # the owner sets a password and enrols two-factor through the emailed invitation link.
    invitation_pending: bool = False
    created_at: datetime = timestamp()
    updated_at: datetime = timestamp()


class RefreshToken(SQLModel, table=True):
    """Opaque refresh tokens stored as SHA-256 hashes; a reused one revokes its family."""

    __tablename__ = "refresh_tokens"

    id: uuid.UUID = uuid_pk()
    user_id: uuid.UUID = Field(foreign_key="users.id", index=True)
    family_id: uuid.UUID = Field(index=True)
    token_hash: str = Field(max_length=64, unique=True)
    expires_at: datetime = timestamp()
    used_at: datetime | None = timestamp(nullable=True)
    revoked_at: datetime | None = timestamp(nullable=True)
    created_at: datetime = timestamp()


class PasswordResetToken(SQLModel, table=True):
    __tablename__ = "password_reset_tokens"

    id: uuid.UUID = uuid_pk()
    user_id: uuid.UUID = Field(foreign_key="users.id", index=True)
    token_hash: str = Field(max_length=64, unique=True)
    expires_at: datetime = timestamp()
    used_at: datetime | None = timestamp(nullable=True)
    created_at: datetime = timestamp()


class Invitation(SQLModel, table=True):
    """A single-use, expiring link to set a password and enrol two-factor (stored as a SHA-256
    hash). Sending a new one for the same account ends the earlier ones (`revoked_at`)."""

    __tablename__ = "invitations"

    id: uuid.UUID = uuid_pk()
    user_id: uuid.UUID = Field(foreign_key="users.id", index=True)
    token_hash: str = Field(max_length=64, unique=True)
    invited_by: uuid.UUID | None = Field(default=None, foreign_key="users.id")
    expires_at: datetime = timestamp()
    used_at: datetime | None = timestamp(nullable=True)
    revoked_at: datetime | None = timestamp(nullable=True)
    created_at: datetime = timestamp()

"""Password reset by an emailed, single-use, expiring token (stored as a SHA-256 hash). The email
goes out through the EmailWorkflow, started by name; its ID is keyed on the token row."""

from __future__ import annotations

import secrets
import uuid
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from sqlmodel import Session, select

from api.db import in_session
from api.security.auth_state import bump_generation
from api.security.tokens import hash_opaque
from config import Settings
from models import PasswordResetToken, RefreshToken, User
from models.db import table_of


async def create_reset_token(settings: Settings, user_id: uuid.UUID) -> tuple[uuid.UUID, str]:
    raw = secrets.token_urlsafe(32)

    def run(session: Session) -> uuid.UUID:
        row = PasswordResetToken(
            user_id=user_id,
            token_hash=hash_opaque(raw),
            expires_at=datetime.now(UTC) + timedelta(minutes=settings.password_reset_minutes),
        )
        session.add(row)
        session.flush()
        return row.id

    return await in_session(settings, run), raw


async def forget_reset_token(settings: Settings, token_id: uuid.UUID) -> None:
    def run(session: Session) -> None:
        row = session.get(PasswordResetToken, token_id)
        if row is not None:
            session.delete(row)

    await in_session(settings, run)


async def apply_reset(settings: Settings, raw: str, new_hash: str) -> uuid.UUID | None:
    """Consume the token (atomically, once) and set the password; every session is revoked.
    Returns the account's id, None when the token is unknown, used or expired."""
    digest = hash_opaque(raw)

    def run(session: Session) -> uuid.UUID | None:
        now = datetime.now(UTC)
        table = table_of(PasswordResetToken)
        row = session.execute(
            sa.update(table)
            .where(table.c.token_hash == digest)
            .where(table.c.used_at.is_(None))
            .where(table.c.expires_at > now)
            .values(used_at=now)
            .returning(table.c.user_id)
        ).first()
        if row is None:
            return None
        set_password(session, row.user_id, new_hash)
        # Any other outstanding reset link for this account dies with this one.
        session.execute(
            sa.update(table)
            .where(table.c.user_id == row.user_id)
            .where(table.c.used_at.is_(None))
            .values(used_at=now)
        )
        return row.user_id

    return await in_session(settings, run)


def set_password(session: Session, user_id: uuid.UUID, new_hash: str) -> None:
    """New hash, unlock, and end every session: refresh tokens are revoked and the token
    generation moves on, so access tokens issued earlier stop working once published."""
    now = datetime.now(UTC)
    user = session.exec(select(User).where(User.id == user_id)).one()
    user.password_hash = new_hash
    user.password_changed_at = now
    user.updated_at = now
    user.failed_login_count = 0
    user.locked_until = None
    user.must_change_password = False
    session.add(user)
    bump_generation(session, user_id)
    tokens = table_of(RefreshToken)
    session.execute(
        sa.update(tokens)
        .where(tokens.c.user_id == user_id)
        .where(tokens.c.revoked_at.is_(None))
        .values(revoked_at=now)
    )

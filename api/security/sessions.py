"""Account-state transitions behind login: lockout, refresh-token rotation with reuse detection,
TOTP replay protection. Each is one short transaction with an atomic UPDATE where races matter."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, cast

import sqlalchemy as sa
from sqlmodel import Session, select

from api.db import in_session, read
from api.security.auth_state import bump_generation
from api.security.tokens import hash_opaque, new_refresh_secret
from config import Settings
from models import RefreshToken, User
from models.db import table_of


def _now() -> datetime:
    return datetime.now(UTC)


def _aware(value: datetime | None) -> datetime | None:
    if value is not None and value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value


def locked_until(user: User) -> datetime | None:
    until = _aware(user.locked_until)
    return until if until and until > _now() else None


async def find_user_by_email(settings: Settings, email: str) -> User | None:
    normalised = email.strip().lower()
    return await in_session(
        settings, lambda s: s.exec(select(User).where(User.email == normalised)).first()
    )


async def get_user(settings: Settings, user_id: uuid.UUID) -> User | None:
    return await read(settings, lambda s: s.get(User, user_id))


async def _count_failure(
    settings: Settings, user_id: uuid.UUID, counter: str, limit: int
) -> datetime | None:
    """Add one to `counter` atomically; at `limit` in a row, reset it and lock the account.
    Returns the end of the lock, if one started."""

    def run(session: Session) -> datetime | None:
        table = table_of(User)
        column = table.c[counter]
        count = session.execute(
            sa.update(table)
            .where(table.c.id == user_id)
            .values({counter: column + 1})
            .returning(column)
        ).scalar_one()
        if count < limit:
            return None
        until = _now() + timedelta(minutes=settings.login_lockout_minutes)
        session.execute(
            sa.update(table)
            .where(table.c.id == user_id)
            .values({counter: 0, "locked_until": until})
        )
        return until

    return await in_session(settings, run)


async def record_login_failure(settings: Settings, user_id: uuid.UUID) -> datetime | None:
    """Count a failed password or code; lock the account after N in a row. Returns the lock end."""
    return await _count_failure(
        settings, user_id, "failed_login_count", settings.login_max_failures
    )


async def record_totp_failure(settings: Settings, user_id: uuid.UUID) -> datetime | None:
    """Wrong two-factor codes lock the account too (a separate counter from passwords)."""
    return await _count_failure(settings, user_id, "totp_failed_count", settings.totp_max_failures)


async def record_login_success(
    settings: Settings, user_id: uuid.UUID, new_hash: str | None = None
) -> None:
    values: dict[str, object] = {"failed_login_count": 0, "locked_until": None}
    if new_hash:
        values["password_hash"] = new_hash  # parameters were upgraded: keep the rehash

    def run(session: Session) -> None:
        table = table_of(User)
        session.execute(sa.update(table).where(table.c.id == user_id).values(**values))

    await in_session(settings, run)


async def accept_totp_timecode(settings: Settings, user_id: uuid.UUID, timecode: int) -> bool:
    """Consume a TOTP timecode: true only if it is newer than the last one used (no replay)."""

    def run(session: Session) -> bool:
        table = table_of(User)
        result = session.execute(
            sa.update(table)
            .where(table.c.id == user_id)
            .where(
                sa.or_(
                    table.c.totp_last_timecode.is_(None),
                    table.c.totp_last_timecode < timecode,
                )
            )
            .values(totp_last_timecode=timecode, totp_failed_count=0)
        )
        return cast("sa.CursorResult[Any]", result).rowcount == 1

    return await in_session(settings, run)


async def consume_recovery_slot(settings: Settings, user_id: uuid.UUID, index: int) -> bool:
    """Null the used slot; false if another request consumed it first."""

    def run(session: Session) -> bool:
        user = session.exec(select(User).where(User.id == user_id).with_for_update()).one()
        hashes = list(user.recovery_code_hashes)
        if index >= len(hashes) or hashes[index] is None:
            return False
        hashes[index] = None
        user.recovery_code_hashes = hashes
        user.totp_failed_count = 0
        session.add(user)
        return True

    return await in_session(settings, run)


# Refresh tokens -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Rotation:
    user_id: uuid.UUID
    family: uuid.UUID
    refresh_token: str


async def start_family(settings: Settings, user_id: uuid.UUID) -> Rotation:
    family = uuid.uuid4()
    raw, digest = new_refresh_secret()

    def run(session: Session) -> None:
        session.add(
            RefreshToken(
                user_id=user_id,
                family_id=family,
                token_hash=digest,
                expires_at=_now() + timedelta(days=settings.refresh_token_days),
            )
        )

    await in_session(settings, run)
    return Rotation(user_id, family, raw)


class RefreshRefused(Exception):
    """The refresh token is unknown, expired, revoked, or was reused (family revoked)."""

    def __init__(self, reason: str, user_id: uuid.UUID | None = None) -> None:
        super().__init__(reason)
        self.user_id = user_id


async def rotate(settings: Settings, raw: str) -> Rotation:
    """Mark the presented token used and issue its successor in the same family.

    The atomic UPDATE decides which of two concurrent presentations wins; a token presented after
    it was used means it leaked, so the whole family is revoked."""
    digest = hash_opaque(raw)
    new_raw, new_digest = new_refresh_secret()

    def run(session: Session) -> Rotation | tuple[str, uuid.UUID | None]:
        table = table_of(RefreshToken)
        now = _now()
        row = session.execute(
            sa.update(table)
            .where(table.c.token_hash == digest)
            .where(table.c.used_at.is_(None))
            .where(table.c.revoked_at.is_(None))
            .where(table.c.expires_at > now)
            .values(used_at=now)
            .returning(table.c.user_id, table.c.family_id)
        ).first()
        if row is None:
            existing = session.exec(
                select(RefreshToken).where(RefreshToken.token_hash == digest)
            ).first()
            if existing is None:
                return "unknown", None
            if existing.used_at is not None or existing.revoked_at is not None:
                # A leaked token: end the family, and (with the generation) every access token
                # of the user right now, not when they expire.
                _revoke_family(session, existing.family_id)
                bump_generation(session, existing.user_id)
                return "reused", existing.user_id
            return "expired", None
        user = session.get(User, row.user_id)
        if user is None or not user.is_active:
            return "inactive", None
        session.add(
            RefreshToken(
                user_id=row.user_id,
                family_id=row.family_id,
                token_hash=new_digest,
                expires_at=now + timedelta(days=settings.refresh_token_days),
            )
        )
        return Rotation(row.user_id, row.family_id, new_raw)

    outcome = await in_session(settings, run)
    if isinstance(outcome, tuple):
        raise RefreshRefused(*outcome)
    return outcome


def _revoke_family(session: Session, family: uuid.UUID) -> None:
    table = table_of(RefreshToken)
    session.execute(
        sa.update(table)
        .where(table.c.family_id == family)
        .where(table.c.revoked_at.is_(None))
        .values(revoked_at=_now())
    )


async def revoke_family(settings: Settings, family: uuid.UUID) -> None:
    await in_session(settings, lambda s: _revoke_family(s, family))


async def revoke_all_for_user(settings: Settings, user_id: uuid.UUID) -> None:
    def run(session: Session) -> None:
        table = table_of(RefreshToken)
        session.execute(
            sa.update(table)
            .where(table.c.user_id == user_id)
            .where(table.c.revoked_at.is_(None))
            .values(revoked_at=_now())
        )

    await in_session(settings, run)

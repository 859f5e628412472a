"""Invitations: an admin creates an account and its owner gets an emailed, single-use,
expiring link (the token is stored as a SHA-256 hash, INVITATION_HOURS long). Opening it shows
the account and a two-factor secret to enrol; accepting it sets the password, turns two-factor
on with a first code and consumes the link, all in one transaction. Sending a new invitation
ends the earlier ones."""

from __future__ import annotations

import secrets
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum

import sqlalchemy as sa
from sqlmodel import Session, select
from temporalio.client import Client

from api.accounts import UserPublic
from api.db import in_session
from api.security import links
from api.security.notices import WELCOME_TEMPLATE
from api.security.password_reset import set_password
from api.security.tokens import hash_opaque
from api.security.totp import matched_timecode, new_secret
from api.workflows import start
from config import Settings
from models import Invitation, User
from models.db import table_of
from models.types import seal
from workflows.contracts.email import EMAIL_WORKFLOW, SendEmail, email_workflow_id


class Refusal(StrEnum):
    unknown = "unknown"
    expired = "expired"
    used = "used"
    inactive = "inactive"
    wrong_code = "wrong_code"


class InvitationRefused(Exception):
    def __init__(self, reason: Refusal) -> None:
        super().__init__(reason.value)
        self.reason = reason


@dataclass(frozen=True)
class Opened:
    """A valid invitation: whose it is, until when, and the two-factor secret to enrol."""

    user_id: uuid.UUID
    email: str
    full_name: str
    expires_at: datetime
    totp_secret: str


def _valid(session: Session, raw: str, *, lock: bool = False) -> tuple[Invitation, User]:
    query = select(Invitation).where(Invitation.token_hash == hash_opaque(raw))
    row = session.exec(query.with_for_update() if lock else query).first()
    if row is None:
        raise InvitationRefused(Refusal.unknown)
    if row.used_at is not None or row.revoked_at is not None:
        raise InvitationRefused(Refusal.used)
    if row.expires_at <= datetime.now(UTC):
        raise InvitationRefused(Refusal.expired)
    user = session.get(User, row.user_id)
    if user is None or not user.is_active or not user.invitation_pending:
        raise InvitationRefused(Refusal.inactive)
    return row, user


async def issue(
    settings: Settings, user_id: uuid.UUID, invited_by: uuid.UUID | None
) -> tuple[uuid.UUID, str, datetime]:
    """A new invitation for a pending account (earlier ones end now): (id, raw token, expiry).
    InvitationRefused(inactive) when the account is not waiting for one."""
    raw = secrets.token_urlsafe(32)
    expires_at = datetime.now(UTC) + timedelta(hours=settings.invitation_hours)

    def run(session: Session) -> uuid.UUID:
        user = session.get(User, user_id)
        if user is None or not user.is_active or not user.invitation_pending:
            raise InvitationRefused(Refusal.inactive)
        table = table_of(Invitation)
        session.execute(
            sa.update(table)
            .where(table.c.user_id == user_id)
            .where(table.c.used_at.is_(None))
            .where(table.c.revoked_at.is_(None))
            .values(revoked_at=datetime.now(UTC))
        )
        row = Invitation(
            user_id=user_id,
            token_hash=hash_opaque(raw),
            invited_by=invited_by,
            expires_at=expires_at,
        )
        session.add(row)
        session.flush()
        return row.id

    return await in_session(settings, run), raw, expires_at


async def ensure_valid(settings: Settings, raw: str) -> None:
    """InvitationRefused unless the token is usable now (a cheap check before hashing)."""
    await in_session(settings, lambda session: _valid(session, raw))


async def open_invitation(settings: Settings, raw: str) -> Opened:
    """The account behind a valid token, with its pending two-factor secret (created on the
    first opening and kept, so reopening the link shows the same QR code)."""

    def run(session: Session) -> Opened:
        row, user = _valid(session, raw)
        if not user.totp_secret or user.totp_enabled:
            user.totp_secret = new_secret()
            user.totp_enabled = False
            user.totp_last_timecode = None
            session.add(user)
        return Opened(user.id, user.email, user.full_name, row.expires_at, user.totp_secret)

    return await in_session(settings, run)


async def accept(
    settings: Settings, raw: str, new_hash: str, code: str, recovery_hashes: list[str | None]
) -> uuid.UUID:
    """Consume the token, set the password and turn two-factor on, if the code matches the
    secret shown when the invitation was opened; nothing changes otherwise."""

    def run(session: Session) -> uuid.UUID:
        row, user = _valid(session, raw, lock=True)
        timecode = matched_timecode(user.totp_secret or "", code) if user.totp_secret else None
        if timecode is None:
            raise InvitationRefused(Refusal.wrong_code)
        now = datetime.now(UTC)
        row.used_at = now
        session.add(row)
        user.totp_enabled = True
        user.totp_last_timecode = timecode
        user.totp_failed_count = 0
        user.recovery_code_hashes = recovery_hashes
        user.invitation_pending = False
        session.add(user)
        session.flush()
        set_password(session, user.id, new_hash)
        return user.id

    return await in_session(settings, run)


async def send(
    settings: Settings,
    client: Client,
    user: User | UserPublic,
    invited_by: uuid.UUID | None,
) -> datetime:
    """Issue a fresh invitation and email it (the welcome template); returns its expiry. The
    link is sealed: Temporal history and our email rows never hold it readable. If the email
    cannot be started the new invitation is withdrawn and the error raised (the earlier ones
    are already ended: an admin resends)."""
    invitation_id, raw, expires_at = await issue(settings, user.id, invited_by)
    email = SendEmail(
        template=WELCOME_TEMPLATE,
        to_email=user.email,
        to_name=user.full_name,
        key=str(invitation_id),
        data={
            "name": user.full_name,
            "login_url": links.sign_in_url(settings),
            "expires_hours": settings.invitation_hours,
        },
        sealed_data={"invitation_url": seal(links.invitation_url(settings, raw))},
        categories=["welcome", "invitation"],
    )
    try:
        await start(
            client, settings, EMAIL_WORKFLOW, email, email_workflow_id(WELCOME_TEMPLATE, email.key)
        )
    except Exception:
        await in_session(settings, lambda s: _withdraw(s, invitation_id))
        raise
    return expires_at


def _withdraw(session: Session, invitation_id: uuid.UUID) -> None:
    row = session.get(Invitation, invitation_id)
    if row is not None:
        row.revoked_at = datetime.now(UTC)
        session.add(row)

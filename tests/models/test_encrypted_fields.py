"""TOTP secrets are encrypted at rest and readable through the model; keys can rotate."""

from __future__ import annotations

import uuid

import pyotp
import sqlalchemy as sa
from cryptography.fernet import Fernet
from sqlmodel import Session

from config import Settings, get_settings
from models import User
from models.db import get_engine


def test_totp_secret_is_stored_encrypted(settings: Settings, migrated_db: str) -> None:
    secret = pyotp.random_base32()
    user = User(
        email=f"enc-{uuid.uuid4().hex[:6]}@example.com", password_hash="x", totp_secret=secret
    )
    with Session(get_engine(settings)) as session:
        session.add(user)
        session.commit()
        raw = session.execute(
            sa.text("select totp_secret from users where id = :id"),
            {"id": user.id if not settings.uses_sqlite else user.id.hex},
        ).scalar_one()
        assert secret not in raw
        session.expire_all()
        assert session.get(User, user.id).totp_secret == secret


def test_rotated_keys_still_decrypt(settings: Settings, migrated_db: str) -> None:
    from models.types import EncryptedString

    column = EncryptedString(512)
    old = column.process_bind_param("JBSWY3DPEHPK3PXP", None)
    current = get_settings().field_encryption_key
    rotated = f"{Fernet.generate_key().decode()},{current.get_secret_value()}"
    get_settings().field_encryption_key = type(current)(rotated)
    try:
        assert column.process_result_value(old, None) == "JBSWY3DPEHPK3PXP"
        fresh = column.process_bind_param("JBSWY3DPEHPK3PXP", None)
        get_settings().field_encryption_key = type(current)(rotated.split(",")[0])
        assert column.process_result_value(fresh, None) == "JBSWY3DPEHPK3PXP"
    finally:
        get_settings().field_encryption_key = current

"""Column types that are native on PostgreSQL and fall back cleanly on SQLite."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Annotated, Any

import sqlalchemy as sa
from pydantic import AfterValidator
from sqlalchemy.dialects import postgresql
from sqlmodel import Field

JSONType = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
"""JSONB on PostgreSQL (indexable), JSON text on SQLite."""


def utcnow() -> datetime:
    return datetime.now(UTC)


def uuid_pk() -> Any:
    return Field(default_factory=uuid.uuid4, primary_key=True)


def _empty_dict() -> dict[str, Any]:
    return {}


def _empty_list() -> list[Any]:
    return []


_PLAIN_FACTORIES: dict[Any, Any] = {dict: _empty_dict, list: _empty_list}
"""The builtins as plain functions: SQLModel builds a table row through pydantic's
`FieldInfo.get_default`, which reads the factory's signature on every row, and a builtin's
signature is parsed from its text (about 0.1 ms for `list`, each JSON column of each row)."""


def json_field(default_factory: Any = dict, **kwargs: Any) -> Any:
    factory = _PLAIN_FACTORIES.get(default_factory, default_factory)
    return Field(default_factory=factory, sa_type=JSONType, **kwargs)


def timestamp(nullable: bool = False, **kwargs: Any) -> Any:
    if nullable:
        return Field(default=None, sa_type=sa.DateTime(timezone=True), **kwargs)
    return Field(default_factory=utcnow, sa_type=sa.DateTime(timezone=True), **kwargs)


def seal(value: str) -> str:
    """Encrypt a value with FIELD_ENCRYPTION_KEY (for secrets that travel through Temporal)."""
    return EncryptedString._fernet().encrypt(value.encode()).decode()


def unseal(token: str) -> str:
    return EncryptedString._fernet().decrypt(token.encode()).decode()


class EncryptedString(sa.TypeDecorator[str]):
    """A string stored encrypted (Fernet) under FIELD_ENCRYPTION_KEY, e.g. TOTP secrets.

    Several comma-separated keys may be configured: the first encrypts, all decrypt, so keys
    can be rotated without a migration.
    """

    impl = sa.String
    cache_ok = True

    @staticmethod
    def _fernet() -> Any:
        from cryptography.fernet import Fernet, MultiFernet

        from config import get_settings

        keys = get_settings().field_encryption_key.get_secret_value().split(",")
        return MultiFernet([Fernet(k.strip().encode()) for k in keys if k.strip()])

    def process_bind_param(self, value: str | None, dialect: Any) -> str | None:
        if value is None:
            return None
        return self._fernet().encrypt(value.encode()).decode()

    def process_result_value(self, value: str | None, dialect: Any) -> str | None:
        if value is None:
            return None
        return self._fernet().decrypt(value.encode()).decode()


def as_utc(value: datetime) -> datetime:
    """Naive datetimes (SQLite, protobuf timestamps) are UTC by construction here: say so."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value


UTCDateTime = Annotated[datetime, AfterValidator(as_utc)]
"""A datetime that always serialises with its offset (RFC 3339 `date-time`)."""

"""Small operational state: sync watermarks and similar cursors."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Field, SQLModel

from models.types import timestamp


class SyncState(SQLModel, table=True):
    __tablename__ = "sync_state"

    name: str = Field(primary_key=True, max_length=60)  # e.g. ebay-orders
    watermark: datetime | None = timestamp(nullable=True)
    cursor: str = Field(default="", max_length=500)
    updated_at: datetime = timestamp()

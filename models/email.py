"""Outgoing email (one row per business event), suppressions and webhook event dedupe."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlmodel import Field, SQLModel

from models.types import json_field, timestamp, uuid_pk


class EmailMessage(SQLModel, table=True):
    __tablename__ = "email_messages"

    id: uuid.UUID = uuid_pk()
    dedupe_key: str = Field(max_length=300, unique=True, index=True)
    template: str = Field(max_length=60)
    recipient: str = Field(max_length=320, index=True)
    data: dict[str, Any] = json_field(dict)
    provider_message_id: str = Field(default="", max_length=120, index=True)
    # queued | sent | suppressed | delivered | opened | clicked | bounced | spamreport | dropped
    status: str = Field(default="queued", max_length=20)
    opens: int = 0
    clicks: int = 0
    created_at: datetime = timestamp()
    updated_at: datetime = timestamp()


class Suppression(SQLModel, table=True):
    __tablename__ = "suppressions"

    email: str = Field(primary_key=True, max_length=320)
    reason: str = Field(max_length=40)  # bounce | spamreport | unsubscribe | manual
    detail: str = Field(default="", max_length=1000)
    created_at: datetime = timestamp()


class WebhookEvent(SQLModel, table=True):
    """Each provider event id once, so at-least-once webhooks are processed once."""

    __tablename__ = "webhook_events"

    id: str = Field(primary_key=True, max_length=200)  # e.g. sendgrid:<sg_event_id>
    source: str = Field(max_length=20)
    kind: str = Field(default="", max_length=40)
    received_at: datetime = timestamp()

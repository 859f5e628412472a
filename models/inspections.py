"""Inspections: the checklist, the media kept as evidence and the inspector's verdict."""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlmodel import Field, SQLModel

from models.types import json_field, timestamp, uuid_pk


class InspectionResult(StrEnum):
    pending = "pending"
    passed = "passed"
    failed = "failed"


class Inspection(SQLModel, table=True):
    __tablename__ = "inspections"

    id: uuid.UUID = uuid_pk()
    order_id: uuid.UUID = Field(foreign_key="orders.id", index=True, unique=True)
    checklist: list[dict[str, Any]] = json_field(list)
    answers: dict[str, Any] = json_field(dict)
    media_keys: list[str] = json_field(list)
    # S3 version id of each media key when the result was recorded: the evidence, even if the
    # same key is written again later (the bucket keeps every version)
    media_versions: dict[str, str] = json_field(dict)
    result: InspectionResult = Field(default=InspectionResult.pending, max_length=20, index=True)
    notes: str = Field(default="", max_length=5000)
    inspector_id: uuid.UUID | None = Field(default=None, foreign_key="users.id")
    escalations: int = 0
    workflow_id: str = Field(default="", max_length=200)
    created_at: datetime = timestamp()
    completed_at: datetime | None = timestamp(nullable=True)

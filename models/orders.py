"""Orders imported from eBay, and the tracking of their fulfillment."""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import Index
from sqlmodel import Field, SQLModel

from models.types import json_field, timestamp, uuid_pk


class OrderStatus(StrEnum):
    received = "received"
    inspecting = "inspecting"
    labelling = "labelling"
    shipped = "shipped"
    delivered = "delivered"
    completed = "completed"
    cancelled = "cancelled"
    refunded = "refunded"
    failed = "failed"


class Order(SQLModel, table=True):
    __tablename__ = "orders"
    # The order list's sort (newest first, then the eBay id): pages are read from the index.
    __table_args__ = (Index("ix_orders_created_at_ebay_order_id", "created_at", "ebay_order_id"),)

    id: uuid.UUID = uuid_pk()
    ebay_order_id: str = Field(max_length=40, unique=True, index=True)
    buyer_username: str = Field(default="", max_length=120, index=True)
    buyer_name: str = Field(default="", max_length=200, index=True)  # ship-to name, for search
    buyer_email: str = Field(default="", max_length=320)
    ship_to: dict[str, Any] = json_field(dict)
    line_items: list[dict[str, Any]] = json_field(list)
    total_value: str = Field(default="0", max_length=20)
    total_currency: str = Field(default="USD", max_length=3)
    status: OrderStatus = Field(default=OrderStatus.received, max_length=20, index=True)
    ebay_created_at: datetime | None = timestamp(nullable=True)
    ebay_modified_at: datetime | None = timestamp(nullable=True)
    workflow_id: str = Field(default="", max_length=200)
    cancel_reason: str = Field(default="", max_length=500)
    created_at: datetime = timestamp()
    updated_at: datetime = timestamp()
    completed_at: datetime | None = timestamp(nullable=True)

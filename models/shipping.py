"""Shipments and the label purchases behind them (the intent row comes before the purchase)."""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlmodel import Field, SQLModel

from models.types import json_field, timestamp, uuid_pk


class ShipmentStatus(StrEnum):
    pending = "pending"
    rated = "rated"
    awaiting_tracking = "awaiting_tracking"
    label_created = "label_created"  # bought, not yet scanned by the carrier
    in_transit = "in_transit"
    delivered = "delivered"
    cancelled = "cancelled"
    exception = "exception"


def service_words(carrier: str, named: str, code: str) -> str:
    """A carrier's service as staff read it beside the carrier's name: the carrier's own name
    for it without the carrier in front, else the code's words (`FEDEX_INTERNATIONAL_PRIORITY`
    reads "International Priority"; `HIKYAKU` stays as it is)."""
    name = named.strip() or (code.replace("_", " ").title() if "_" in code else code)
    if carrier and name.lower().startswith(carrier.lower() + " "):
        name = name[len(carrier) + 1 :]
    return name


class Shipment(SQLModel, table=True):
    __tablename__ = "shipments"

    id: uuid.UUID = uuid_pk()
    order_id: uuid.UUID = Field(foreign_key="orders.id", index=True)
    carrier: str = Field(default="", max_length=20)
    service: str = Field(default="", max_length=60)
    tracking_number: str = Field(default="", max_length=40, index=True)
    label_key: str = Field(default="", max_length=500)
    handoff_key: str = Field(default="", max_length=500)
    cost_amount: str = Field(default="", max_length=20)
    cost_currency: str = Field(default="", max_length=3)
    status: ShipmentStatus = Field(default=ShipmentStatus.pending, max_length=20, index=True)
    quotes: list[dict[str, Any]] = json_field(list)
    events: list[dict[str, Any]] = json_field(list)
    ebay_fulfillment_id: str = Field(default="", max_length=60)
    created_at: datetime = timestamp()
    updated_at: datetime = timestamp()

    def bought_quote(self) -> dict[str, Any] | None:
        """The quote of the carrier and service the label was bought for (None before)."""
        return next(
            (
                quote
                for quote in self.quotes
                if quote.get("carrier") == self.carrier and quote.get("service") == self.service
            ),
            None,
        )

    @property
    def service_name(self) -> str:
        """The service as the carrier names it in its quote, without the carrier's own name in
        front ("International Priority" for FedEx's `FEDEX_INTERNATIONAL_PRIORITY`); when no
        quote names it, the code's words ("International Priority" again; `HIKYAKU` as is)."""
        quote = self.bought_quote() or {}
        return service_words(self.carrier, str(quote.get("service_name") or ""), self.service)


class LabelPurchase(SQLModel, table=True):
    """One row per attempt to buy a label, written before the carrier is called."""

    __tablename__ = "label_purchases"

    id: uuid.UUID = uuid_pk()
    shipment_id: uuid.UUID = Field(foreign_key="shipments.id", index=True)
    idempotency_key: str = Field(max_length=200, unique=True)
    carrier: str = Field(max_length=20)
    service: str = Field(default="", max_length=60)
    status: str = Field(default="intent", max_length=20)  # intent | bought | cancelled | failed
    tracking_number: str = Field(default="", max_length=40)
    label_key: str = Field(default="", max_length=500)
    detail: dict[str, Any] = json_field(dict)
    created_at: datetime = timestamp()
    updated_at: datetime = timestamp()

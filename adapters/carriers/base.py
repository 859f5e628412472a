"""One `Carrier` protocol and unified shipping types, after Karrio's model, so the label workflow
can shop rates across FedEx, Yamato and Sagawa without knowing any carrier's wire format."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Protocol, runtime_checkable

from pydantic import BaseModel, Field

from adapters.errors import AdapterError


class TrackingStatus(StrEnum):
    """Normalized tracking status (Karrio's list)."""

    pending = "pending"
    picked_up = "picked_up"
    in_transit = "in_transit"
    out_for_delivery = "out_for_delivery"
    delivered = "delivered"
    on_hold = "on_hold"
    delivery_delayed = "delivery_delayed"
    delivery_failed = "delivery_failed"
    ready_for_pickup = "ready_for_pickup"
    return_to_sender = "return_to_sender"
    cancelled = "cancelled"
    unknown = "unknown"


class Address(BaseModel):
    name: str
    company: str = ""
    phone: str = ""
    email: str = ""
    line1: str
    line2: str = ""
    city: str
    state: str = ""
    postal_code: str
    country_code: str = Field(min_length=2, max_length=2)
    residential: bool = True


class Parcel(BaseModel):
    weight_g: int = Field(gt=0)
    length_cm: float = Field(gt=0)
    width_cm: float = Field(gt=0)
    height_cm: float = Field(gt=0)


class Commodity(BaseModel):
    description: str
    quantity: int = Field(gt=0)
    unit_value: str  # decimal string, e.g. "129.00"
    currency: str = "USD"
    weight_g: int = Field(gt=0)
    hs_code: str = ""
    origin_country: str = "JP"
    sku: str = ""


class Customs(BaseModel):
    commodities: list[Commodity]
    purpose: str = "SOLD"
    terms_of_sale: str = "DAP"
    duties_paid_by: str = "RECIPIENT"


class ShipmentRequest(BaseModel):
    """What to ship. `reference` is our idempotency key; carriers echo it back."""

    reference: str
    shipper: Address
    recipient: Address
    parcel: Parcel
    service: str = ""
    customs: Customs | None = None
    ship_date: date | None = None
    item_description: str = ""


class RateQuote(BaseModel):
    carrier: str
    service: str
    service_name: str = ""
    amount: str
    currency: str
    transit_days: int | None = None
    estimated_delivery: date | None = None


class Label(BaseModel):
    """A bought label. FedEx gives the PDF bytes; Yamato/Sagawa give a CSV hand-off instead."""

    carrier: str
    service: str
    tracking_number: str
    reference: str
    label_format: str = "PDF"
    label_data: bytes | None = None
    invoice_data: bytes | None = None
    amount: str = ""
    currency: str = ""
    warnings: list[str] = []  # e.g. hand-off fields cut to the carrier's limits


class TrackingEvent(BaseModel):
    occurred_at: datetime
    status: TrackingStatus
    code: str = ""
    description: str = ""
    location: str = ""


class TrackingInfo(BaseModel):
    carrier: str
    tracking_number: str
    status: TrackingStatus
    events: list[TrackingEvent] = Field(default_factory=list)
    estimated_delivery: date | None = None

    @property
    def delivered(self) -> bool:
        return self.status == TrackingStatus.delivered


@runtime_checkable
class Carrier(Protocol):
    """Everything the label code calls on a carrier; each adapter implements all of it."""

    name: str

    def serves(self, shipper: Address, recipient: Address) -> bool:
        """Whether this carrier can carry the route at all (e.g. Yamato: domestic only)."""
        ...

    def rate(self, request: ShipmentRequest) -> list[RateQuote]: ...

    def ship(self, request: ShipmentRequest) -> Label: ...

    def find_label(self, reference: str) -> Label | None:
        """A label already bought for `reference`, if the carrier can tell (lost responses)."""
        ...

    def find_labels(self, reference: str) -> list[Label]:
        """Every live label the carrier holds for `reference` (to cancel duplicates)."""
        ...

    def parse_issued_history(self, data: bytes) -> list[tuple[str, str]]:
        """(our reference, tracking number) pairs from the carrier's issued-history file;
        ValueError when `data` is not one (or the carrier issues numbers at once)."""
        ...

    def check_credentials(self) -> None:
        """Raise an AdapterError when the configured account cannot be used."""
        ...

    def cancel(self, tracking_number: str) -> bool: ...

    def track(self, tracking_number: str) -> TrackingInfo: ...

    track_batch: int
    """How many numbers one tracking request can carry (FedEx 30; the JP pages 1)."""

    def track_many(self, tracking_numbers: list[str]) -> dict[str, TrackingInfo | AdapterError]:
        """Each number's tracking, in as few requests as the carrier allows; a number the
        carrier cannot answer maps to its error instead of failing the others."""
        ...

"""What needs a person now: the counts behind the console's Today page and the shipments late
against their promised transit. Each count is one query on the database tables the workflows
keep current."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime

from pydantic import BaseModel
from sqlmodel import Session, col, select

from api.db import in_session
from api.pagination import count_of
from config import Settings
from domain.tracking import days_late, due_date
from models import (
    Inspection,
    InspectionResult,
    LabelPurchase,
    Order,
    OrderStatus,
    Product,
    ProductStatus,
    Shipment,
    ShipmentStatus,
)

# Bought and not yet delivered (or given up): a promise is running.
OPEN_SHIPMENTS = [
    ShipmentStatus.label_created,
    ShipmentStatus.awaiting_tracking,
    ShipmentStatus.in_transit,
    ShipmentStatus.exception,
]


class TodayCounts(BaseModel):
    listings_awaiting_approval: int
    orders_awaiting_inspection: int
    failed_inspections: int
    labels_to_print: int
    awaiting_tracking_numbers: int
    in_transit: int


class LateShipment(BaseModel):
    shipment_id: uuid.UUID
    order_id: uuid.UUID
    carrier: str
    service: str
    service_name: str  # as the carrier names it (models.Shipment.service_name)
    tracking_number: str
    status: str
    handed_over_at: datetime  # the label was bought or the parcel handed to the carrier
    transit_days: int  # of the chosen quote
    due: date  # in Japan
    days_late: int


def _counts(session: Session) -> TodayCounts:
    open_orders = [OrderStatus.inspecting, OrderStatus.received]
    return TodayCounts(
        listings_awaiting_approval=count_of(
            session, select(Product).where(Product.status == ProductStatus.awaiting_approval)
        ),
        orders_awaiting_inspection=count_of(
            session, select(Inspection).where(Inspection.result == InspectionResult.pending)
        ),
        failed_inspections=count_of(
            session,
            select(Inspection)
            .join(Order, col(Order.id) == Inspection.order_id)
            .where(Inspection.result == InspectionResult.failed)
            .where(Order.status.in_(open_orders)),  # type: ignore[attr-defined]
        ),
        labels_to_print=count_of(
            session, select(Shipment).where(Shipment.status == ShipmentStatus.label_created)
        ),
        awaiting_tracking_numbers=count_of(
            session, select(Shipment).where(Shipment.status == ShipmentStatus.awaiting_tracking)
        ),
        in_transit=count_of(
            session, select(Shipment).where(Shipment.status == ShipmentStatus.in_transit)
        ),
    )


async def today_counts(settings: Settings) -> TodayCounts:
    return await in_session(settings, _counts)


def promised_transit_days(shipment: Shipment) -> int | None:
    """The transit days of the quote that was bought (None when the quote gave none)."""
    days = (shipment.bought_quote() or {}).get("transit_days")
    return int(days) if days is not None else None


def _utc(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _late(session: Session, now: datetime) -> list[LateShipment]:
    rows = session.exec(
        select(Shipment, LabelPurchase)
        .join(LabelPurchase, col(LabelPurchase.shipment_id) == Shipment.id)
        .where(LabelPurchase.status == "bought")
        .where(col(Shipment.status).in_(OPEN_SHIPMENTS))
    ).all()
    late = []
    for shipment, purchase in rows:
        transit = promised_transit_days(shipment)
        if transit is None:
            continue
        handed = purchase.detail.get("handed_over_at")
        start = _utc(datetime.fromisoformat(handed) if handed else purchase.created_at)
        overdue = days_late(start, transit, now)
        if overdue:
            late.append(
                LateShipment(
                    shipment_id=shipment.id,
                    order_id=shipment.order_id,
                    carrier=shipment.carrier,
                    service=shipment.service,
                    service_name=shipment.service_name,
                    tracking_number=shipment.tracking_number,
                    status=str(shipment.status),
                    handed_over_at=start,
                    transit_days=transit,
                    due=due_date(start, transit),
                    days_late=overdue,
                )
            )
    return sorted(late, key=lambda s: (-s.days_late, str(s.shipment_id)))


async def late_shipments(settings: Settings, now: datetime | None = None) -> list[LateShipment]:
    """Shipments past the chosen quote's transit days from the label/hand-off day (in JST)."""
    return await in_session(settings, lambda s: _late(s, now or datetime.now(UTC)))

"""What needs a person now: the counts behind the console's Today page and GET /api/today.
Each count is one query on the database tables the workflows keep current."""

from __future__ import annotations

from pydantic import BaseModel
from sqlmodel import Session, col, func, select

from api.db import in_session
from config import Settings
from models import (
    Inspection,
    InspectionResult,
    Order,
    OrderStatus,
    Product,
    ProductStatus,
    Shipment,
    ShipmentStatus,
)


class TodayCounts(BaseModel):
    listings_awaiting_approval: int
    orders_awaiting_inspection: int
    failed_inspections: int
    labels_to_print: int
    awaiting_tracking_numbers: int
    in_transit: int


def _count(session: Session, query: object) -> int:
    return int(session.exec(select(func.count()).select_from(query.subquery())).one())  # type: ignore[attr-defined]


def _counts(session: Session) -> TodayCounts:
    open_orders = [OrderStatus.inspecting, OrderStatus.received]
    return TodayCounts(
        listings_awaiting_approval=_count(
            session, select(Product).where(Product.status == ProductStatus.awaiting_approval)
        ),
        orders_awaiting_inspection=_count(
            session, select(Inspection).where(Inspection.result == InspectionResult.pending)
        ),
        failed_inspections=_count(
            session,
            select(Inspection)
            .join(Order, col(Order.id) == Inspection.order_id)
            .where(Inspection.result == InspectionResult.failed)
            .where(Order.status.in_(open_orders)),  # type: ignore[attr-defined]
        ),
        labels_to_print=_count(
            session, select(Shipment).where(Shipment.status == ShipmentStatus.label_created)
        ),
        awaiting_tracking_numbers=_count(
            session, select(Shipment).where(Shipment.status == ShipmentStatus.awaiting_tracking)
        ),
        in_transit=_count(
            session, select(Shipment).where(Shipment.status == ShipmentStatus.in_transit)
        ),
    )


async def today_counts(settings: Settings) -> TodayCounts:
    return await in_session(settings, _counts)

"""Today's late shipments (api/today.py) on the real database: a shipment is late once the day in
Japan is past its label or hand-off day plus the chosen quote's transit days."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

NOW = datetime(2026, 12, 2, 3, 0, tzinfo=UTC)  # 12:00 in Japan


def add_shipment(
    settings: Any,
    *,
    bought: datetime,
    transit_days: int | None,
    status: str = "in_transit",
    handed_over: datetime | None = None,
    carrier: str = "fedex",
) -> uuid.UUID:
    from models import LabelPurchase, Order, Shipment
    from models.db import session_scope

    with session_scope(settings) as session:
        order = Order(ebay_order_id=f"LATE-{uuid.uuid4().hex[:12]}")
        session.add(order)
        session.flush()
        quote = {"carrier": carrier, "service": "ECONOMY", "amount": "40", "currency": "USD"}
        shipment = Shipment(
            order_id=order.id,
            carrier=carrier,
            service="ECONOMY",
            tracking_number="794600000001",
            status=status,
            quotes=[{**quote, "transit_days": transit_days}, {**quote, "service": "PRIORITY"}],
        )
        session.add(shipment)
        session.flush()
        detail = {"handed_over_at": handed_over.isoformat()} if handed_over else {}
        session.add(
            LabelPurchase(
                shipment_id=shipment.id,
                idempotency_key=f"late-{shipment.id}",
                carrier=carrier,
                service="ECONOMY",
                status="bought",
                detail=detail,
                created_at=bought,
            )
        )
        return shipment.id


async def test_late_against_the_chosen_quotes_transit_days(settings, migrated_db):
    from api.today import late_shipments

    late = add_shipment(settings, bought=NOW - timedelta(days=6), transit_days=4)
    on_time = add_shipment(settings, bought=NOW - timedelta(days=1), transit_days=4)
    no_promise = add_shipment(settings, bought=NOW - timedelta(days=30), transit_days=None)
    delivered = add_shipment(
        settings, bought=NOW - timedelta(days=30), transit_days=2, status="delivered"
    )
    # Domestic: counted from the hand-off, not the (earlier) label purchase.
    handed = add_shipment(
        settings,
        bought=NOW - timedelta(days=20),
        transit_days=2,
        status="label_created",
        handed_over=NOW - timedelta(days=1),
        carrier="yamato",
    )
    found = {s.shipment_id: s for s in await late_shipments(settings, now=NOW)}
    assert late in found
    assert {on_time, no_promise, delivered, handed}.isdisjoint(found)
    row = found[late]
    # bought 26 Nov 12:00 JST + 4 days = due 30 Nov; 2 Dec in Japan is 2 days late
    assert str(row.due) == "2026-11-30" and row.days_late == 2 and row.transit_days == 4

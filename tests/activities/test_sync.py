"""Sync activities: orders by modified date into the projection, the watermark, price/quantity."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlmodel import select
from temporalio.testing import ActivityEnvironment

from workflows.contracts.ops import (
    AdvanceWatermark,
    FetchOrders,
    MarkOrdersStarted,
    ReadWatermark,
)

pytestmark = pytest.mark.timeout(60)

ORDERS_CONTROL = "/_sandbox/orders"


@pytest.fixture(scope="module")
def acts(settings, migrated_db, sandbox) -> Any:
    from activities.deps import Dependencies
    from activities.sync import SyncActivities

    return SyncActivities(Dependencies(settings))


def run(activity: Callable[..., Any], *args: Any) -> Any:
    return ActivityEnvironment().run(activity, *args)


def create_orders(sandbox, count: int) -> list[str]:
    r = httpx.post(f"{sandbox.base_url}{ORDERS_CONTROL}", json={"count": count})
    r.raise_for_status()
    return [o["orderId"] for o in r.json()["orders"]]


def test_watermark_only_moves_forward(acts) -> None:
    name = f"test-{uuid.uuid4().hex[:8]}"
    assert run(acts.read_watermark, ReadWatermark(name=name)).value is None
    later = datetime(2026, 5, 1, 12, tzinfo=UTC)
    run(acts.advance_watermark, AdvanceWatermark(name=name, value=later))
    kept = run(
        acts.advance_watermark,
        AdvanceWatermark(name=name, value=later - timedelta(hours=1)),
    )
    assert kept.value == later
    assert run(acts.read_watermark, ReadWatermark(name=name)).value == later


def test_fetch_orders_projects_and_lists_new_ones(acts, clean_sandbox, settings) -> None:
    from models import Order
    from models.db import session_scope

    ids = create_orders(clean_sandbox, 3)
    now = datetime.now(UTC)
    window = FetchOrders(start=now - timedelta(minutes=10), end=now + timedelta(seconds=5))
    first = run(acts.fetch_orders, window)
    assert first.fetched >= 3 and set(ids) <= set(first.to_start)
    with session_scope(settings) as session:
        rows = session.exec(select(Order).where(Order.ebay_order_id.in_(ids))).all()
        assert len(rows) == 3
        assert all(r.line_items and r.ship_to.get("country_code") for r in rows)
    # Twice is harmless: same rows; once marked started they are no longer "to start".
    again = run(acts.fetch_orders, window)
    assert set(ids) <= set(again.to_start)
    run(acts.mark_orders_started, MarkOrdersStarted(ebay_order_ids=ids))
    third = run(acts.fetch_orders, window)
    assert not set(ids) & set(third.to_start)
    with session_scope(settings) as session:
        rows = session.exec(select(Order).where(Order.ebay_order_id.in_(ids))).all()
        assert len(rows) == 3 and {r.workflow_id for r in rows} == {f"order-{i}" for i in ids}


def _fedex_parcel(settings, fedex) -> str:
    """A label bought on the FedEx emulator; its tracking number."""
    from adapters.carriers import Address, Commodity, Customs, Parcel, ShipmentRequest

    return fedex.ship(
        ShipmentRequest(
            reference=f"label:{uuid.uuid4()}",
            shipper=Address(
                name="The World Door",
                phone="0312345678",
                line1="千代田1-1",
                city="Chiyoda-ku",
                postal_code="1000001",
                country_code="JP",
                residential=False,
            ),
            recipient=Address(
                name="Jane Buyer",
                phone="4155550100",
                line1="1 Market St",
                city="San Francisco",
                state="CA",
                postal_code="94105",
                country_code="US",
            ),
            parcel=Parcel(weight_g=800, length_cm=20, width_cm=15, height_cm=10),
            customs=Customs(
                commodities=[
                    Commodity(description="Lens", quantity=1, unit_value="90.00", weight_g=800)
                ]
            ),
        )
    ).tracking_number


def _shipped(settings, tracking_number: str) -> tuple[str, uuid.UUID]:
    from models import Order, Shipment
    from models.db import session_scope

    ebay_order_id = f"98-{uuid.uuid4().int % 10**5:05d}-{uuid.uuid4().int % 10**5:05d}"
    with session_scope(settings) as session:
        order = Order(ebay_order_id=ebay_order_id, status="shipped")
        session.add(order)
        session.flush()
        shipment = Shipment(
            order_id=order.id,
            carrier="fedex",
            tracking_number=tracking_number,
            status="label_created",
        )
        session.add(shipment)
        session.flush()
        return ebay_order_id, shipment.id


def test_refresh_tracking_asks_fedex_30_numbers_a_call_and_reports_only_changes(
    acts, clean_sandbox, settings
) -> None:
    """31 parcels in flight: two FedEx requests (30 + the rest), every number tracked once,
    and only the two parcels that moved come back as changes (to be signalled)."""
    from adapters.carriers.fedex import FedexCarrier
    from models import Order, Shipment
    from models.db import session_scope
    from workflows.contracts.ops import RefreshTracking

    fedex = FedexCarrier(settings)
    numbers = [_fedex_parcel(settings, fedex) for _ in range(31)]
    orders = {number: _shipped(settings, number) for number in numbers}
    for number, to in ((numbers[0], "in_transit"), (numbers[1], "delivered")):
        answer = httpx.post(
            f"{clean_sandbox.base_url}/_sandbox/fedex/advance",
            json={"tracking_number": number, "to": to},
        )
        answer.raise_for_status()
    with session_scope(settings) as session:  # earlier tests' parcels are in flight too
        in_flight = session.exec(
            select(Shipment).where(
                Shipment.carrier == "fedex",
                Shipment.tracking_number != "",
                Shipment.status.in_(("label_created", "in_transit")),
            )
        ).all()
    result = run(acts.refresh_tracking, RefreshTracking(limit=1000))

    ledger = clean_sandbox.ctx.ledger.snapshot()["fedex"]
    batch_sizes = [
        int(size) for size, n in ledger["track_call"]["by_key"].items() for _ in range(n)
    ]
    assert max(batch_sizes) == 30
    assert len(batch_sizes) == -(-len(in_flight) // 30)  # Yamato/Sagawa: one page each
    assert all(ledger["tracked"]["by_key"][n] == 1 for n in numbers)
    ours = {c.ebay_order_id: c for c in result.changed if c.tracking_number in orders}
    assert set(ours) == {orders[numbers[0]][0], orders[numbers[1]][0]}
    assert not ours[orders[numbers[0]][0]].delivered and ours[orders[numbers[1]][0]].delivered
    with session_scope(settings) as session:
        delivered = session.get(Shipment, orders[numbers[1]][1])
        assert delivered is not None and delivered.status == "delivered" and delivered.events
        order = session.exec(
            select(Order).where(Order.ebay_order_id == orders[numbers[1]][0])
        ).one()
        assert order.status == "delivered"
        still = session.get(Shipment, orders[numbers[2]][1])
        assert still is not None and still.status == "label_created"


def test_refresh_tracking_writes_only_the_parcels_whose_answer_changed(
    acts, clean_sandbox, settings
) -> None:
    """A second run over the same answers opens no write for them (the row's `updated_at`
    stays); a parcel that moved meanwhile is written and reported."""
    from adapters.carriers.fedex import FedexCarrier
    from models import Shipment
    from models.db import session_scope
    from workflows.contracts.ops import RefreshTracking

    fedex = FedexCarrier(settings)
    still, moved = (_fedex_parcel(settings, fedex) for _ in range(2))
    ids = {number: _shipped(settings, number)[1] for number in (still, moved)}
    run(acts.refresh_tracking, RefreshTracking(limit=1000))
    with session_scope(settings) as session:
        before = {n: session.get_one(Shipment, i).updated_at for n, i in ids.items()}
    httpx.post(
        f"{clean_sandbox.base_url}/_sandbox/fedex/advance",
        json={"tracking_number": moved, "to": "in_transit"},
    ).raise_for_status()

    result = run(acts.refresh_tracking, RefreshTracking(limit=1000))

    assert [c.tracking_number for c in result.changed if c.tracking_number in ids] == [moved]
    with session_scope(settings) as session:
        kept, written = (session.get_one(Shipment, ids[n]) for n in (still, moved))
        assert kept.updated_at == before[still] and kept.status == "label_created"
        assert written.updated_at > before[moved] and written.status == "in_transit"


def test_tracking_changes_is_false_only_for_the_answer_already_stored() -> None:
    from activities.shipping import apply_tracking, delivered_event, tracking_changes
    from adapters.carriers import TrackingEvent, TrackingInfo, TrackingStatus
    from models import Shipment

    scan = TrackingEvent(
        occurred_at=datetime(2026, 5, 1, tzinfo=UTC), status=TrackingStatus.in_transit, code="IT"
    )
    info = TrackingInfo(
        carrier="fedex", tracking_number="1", status=TrackingStatus.in_transit, events=[scan]
    )
    shipment = Shipment(order_id=uuid.uuid4(), status="label_created", events=[])
    assert tracking_changes(shipment, info)  # the status moves

    class Session:
        def add(self, _: Any) -> None:
            pass

    apply_tracking(Session(), shipment, info, None)
    assert shipment.status == "in_transit"
    assert not tracking_changes(shipment, info)  # stored: nothing to write
    later = scan.model_copy(update={"occurred_at": datetime(2026, 5, 2, tzinfo=UTC)})
    assert tracking_changes(shipment, info.model_copy(update={"events": [scan, later]}))
    assert not tracking_changes(shipment, info.model_copy(update={"events": []}))
    unread = info.model_copy(update={"status": TrackingStatus.unknown, "events": []})
    assert tracking_changes(shipment, unread)  # the close-after-days rule decides
    shipment.events = [*shipment.events, delivered_event("by staff", "STAFF")]
    shipment.status = "delivered"  # staff closed it: the carrier's same scans change nothing
    assert not tracking_changes(shipment, info)

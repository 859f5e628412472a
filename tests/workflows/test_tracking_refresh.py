"""The tracking refresh end to end on the real worker, FedEx emulator and database."""

from __future__ import annotations

import uuid

import httpx
import pytest

from tests.workflows.conftest import record_history

pytestmark = pytest.mark.timeout(90)


async def test_tracking_refresh_updates_the_projection(worker, clean_sandbox, settings) -> None:
    """A real FedEx label in the emulator, delivered on the carrier side: the refresh reads the
    tracking and the shipment row becomes delivered (no order workflow runs: nothing to signal)."""
    from adapters.carriers import Address, Commodity, Customs, Parcel, ShipmentRequest
    from adapters.carriers.fedex import FedexCarrier
    from models import Order, Shipment
    from models.db import session_scope
    from workflows.contracts.ops import TrackingRefreshInput
    from workflows.tracking_refresh import TrackingRefreshWorkflow

    reference = f"label:{uuid.uuid4()}"
    label = FedexCarrier(settings).ship(
        ShipmentRequest(
            reference=reference,
            shipper=Address(
                name="The World Door",
                phone="0312345678",
                line1="千代田1-1",
                city="Chiyoda-ku",
                state="",
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
                    Commodity(
                        description="Wristwatch",
                        quantity=1,
                        unit_value="300.00",
                        weight_g=800,
                        hs_code="910211",
                    )
                ]
            ),
        )
    )
    ebay_order_id = f"99-{uuid.uuid4().int % 10**5:05d}-{uuid.uuid4().int % 10**5:05d}"
    with session_scope(settings) as session:
        order = Order(ebay_order_id=ebay_order_id, status="shipped")
        session.add(order)
        session.flush()
        shipment = Shipment(
            order_id=order.id,
            carrier="fedex",
            tracking_number=label.tracking_number,
            status="in_transit",
        )
        session.add(shipment)
    async with httpx.AsyncClient() as http:
        r = await http.post(
            f"{clean_sandbox.base_url}/_sandbox/fedex/advance",
            json={"tracking_number": label.tracking_number, "to": "delivered"},
        )
        r.raise_for_status()
    handle = await worker.client.start_workflow(
        TrackingRefreshWorkflow.run,
        TrackingRefreshInput(page_size=2),  # several pages
        id=f"tracking-refresh-test-{uuid.uuid4().hex[:8]}",
        task_queue=worker.task_queue,
    )
    result = await handle.result()
    assert result.changed >= 1 and result.checked >= 1
    with session_scope(settings) as session:
        row = session.get(Shipment, shipment.id)
        assert row.status == "delivered" and row.events
    await record_history(handle, "tracking_refresh_batched")

    # Started as the schedule starts it, a run asks no patch: no marker, no billed
    # TemporalChangeVersion upsert (the input above takes the patch check of older runs).
    from temporalio.api.enums.v1 import EventType

    def markers(history) -> int:
        return sum(
            1 for e in history.events if e.event_type == EventType.EVENT_TYPE_MARKER_RECORDED
        )

    assert markers(await handle.fetch_history()) == 1
    scheduled = await worker.client.start_workflow(
        TrackingRefreshWorkflow.run,
        TrackingRefreshInput(signals_carry_status=True),
        id=f"tracking-refresh-test-{uuid.uuid4().hex[:8]}",
        task_queue=worker.task_queue,
    )
    await scheduled.result()
    assert markers(await scheduled.fetch_history()) == 0

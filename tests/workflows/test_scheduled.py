"""Scheduled workflows end to end: order sync (with fulfillment starts), inventory sync and
storage cleanup on the real worker, emulators and database."""

from __future__ import annotations

import asyncio
import contextlib
import uuid

import httpx
import pytest
from temporalio.client import WorkflowFailureError
from temporalio.service import RPCError

from tests.workflows.conftest import record_history
from workflows.contracts.ops import (
    InventorySyncInput,
    OrderSyncInput,
    StorageCleanupInput,
)
from workflows.scheduled import InventorySyncWorkflow, OrderSyncWorkflow, StorageCleanupWorkflow

pytestmark = pytest.mark.timeout(90)


async def _sync(worker, state: str):
    handle = await worker.client.start_workflow(
        OrderSyncWorkflow.run,
        OrderSyncInput(state_name=state),
        id=f"order-sync-test-{uuid.uuid4().hex[:8]}",
        task_queue=worker.task_queue,
    )
    return handle, await handle.result()


async def test_order_sync_starts_one_fulfillment_per_order(worker, clean_sandbox, settings) -> None:
    async with httpx.AsyncClient() as http:
        r = await http.post(f"{clean_sandbox.base_url}/_sandbox/orders", json={"count": 3})
        r.raise_for_status()
        ids = [o["orderId"] for o in r.json()["orders"]]
    state = f"ebay-orders-test-{uuid.uuid4().hex[:6]}"
    handle, first = await _sync(worker, state)
    assert sorted(first.started) == sorted(ids) and first.fetched == 3
    handles = [worker.client.get_workflow_handle(f"order-{i}") for i in ids]
    try:
        for h in handles:
            desc = await h.describe()
            assert desc.workflow_type == "OrderFulfillmentWorkflow"
            assert desc.parent_id == handle.id  # started by the sync, abandoned on its close
        # Twice: the overlap window sees the same orders again, and starts nothing.
        _, second = await _sync(worker, state)
        assert second.started == [] and second.window_start < first.window_end
        assert second.fetched == 3
        for h in handles:  # still the one run each
            runs = [w async for w in worker.client.list_workflows(f"WorkflowId = '{h.id}'")]
            assert len(runs) <= 1
        await record_history(handle, "order_sync")
    finally:
        for h in handles:  # stop them: the sandbox is reset for the next test
            with contextlib.suppress(RPCError):
                await h.terminate("order sync test done")


async def test_already_started_order_is_not_started_again(worker, clean_sandbox) -> None:
    """A fulfillment started elsewhere (e.g. by the eBay notification) counts as running."""
    async with httpx.AsyncClient() as http:
        r = await http.post(f"{clean_sandbox.base_url}/_sandbox/orders", json={"count": 1})
        order_id = r.json()["orders"][0]["orderId"]
    from workflows.contracts.fulfillment import FulfillOrder

    # Parked on a queue nobody polls, so it has not recorded the order yet: the sync's own
    # start is what meets the existing workflow.
    existing = await worker.client.start_workflow(
        "OrderFulfillmentWorkflow",
        FulfillOrder(ebay_order_id=order_id),
        id=f"order-{order_id}",
        task_queue=f"parked-{uuid.uuid4().hex[:8]}",
    )
    try:
        _, result = await _sync(worker, f"ebay-orders-test-{uuid.uuid4().hex[:6]}")
        assert result.already_running == [order_id] and result.started == []
        assert (await existing.describe()).run_id == existing.result_run_id
    finally:
        await existing.terminate("test done")


async def test_inventory_sync_pushes_quantity(worker, clean_sandbox, settings) -> None:
    """Products listed through the bulk workflow, then staff change a quantity: one sync call
    per 25 listed products updates eBay."""
    from adapters.ebay import EbayClient
    from models import Product, ProductStatus
    from models.db import session_scope
    from workflows.bulk_listing import BulkListingWorkflow
    from workflows.contracts.listing import BulkListingInput

    storage_key = await _upload_image(settings)
    skus, ids = [], []
    with session_scope(settings) as session:
        for i in range(3):
            p = Product(
                sku=f"INV-{uuid.uuid4().hex[:8]}",
                title_ja=f"茶碗 {i}",
                price_jpy=3000,
                image_keys=[storage_key],
            )
            session.add(p)
            skus.append(p.sku)
            ids.append(str(p.id))
    batch = uuid.uuid4().hex[:8]
    listed = await worker.client.execute_workflow(
        BulkListingWorkflow.run,
        BulkListingInput(batch_id=batch, product_ids=ids),
        id=f"bulk-listing-{batch}",
        task_queue=worker.task_queue,
    )
    assert listed.done == 3
    with session_scope(settings) as session:
        p = session.exec(Product.__table__.select().where(Product.sku == skus[0])).first()
        row = session.get(Product, p.id)
        row.quantity = 0  # we hold none any more: the sync lowers eBay's figure
        session.add(row)
        raised = session.get(
            Product,
            session.exec(Product.__table__.select().where(Product.sku == skus[1])).first().id,
        )
        raised.quantity = 7  # a raise reaches eBay through its own push, never through the sync
        session.add(raised)
        listed_count = len(
            session.exec(
                Product.__table__.select().where(
                    Product.status == ProductStatus.listed, Product.ebay_offer_id != ""
                )
            ).all()
        )
    result = await worker.client.execute_workflow(
        InventorySyncWorkflow.run,
        InventorySyncInput(page_size=500),
        id=f"inventory-sync-test-{uuid.uuid4().hex[:8]}",
        task_queue=worker.task_queue,
    )
    # ceil(n / 25) bulk updates, and one read of eBay's own quantity per offer
    assert result.calls <= -(-listed_count // 25) + listed_count  # offers gone on eBay skipped
    assert result.updated >= 3
    assert EbayClient(settings).get_offers(skus[0])[0]["availableQuantity"] == 0
    assert EbayClient(settings).get_offers(skus[1])[0]["availableQuantity"] == 1


async def _upload_image(settings) -> str:
    from adapters.s3 import Storage

    storage = Storage(settings)
    storage.ensure_bucket()
    key = f"product-images/inv-{uuid.uuid4().hex}.jpg"
    await asyncio.to_thread(storage.put_bytes, key, b"\xff\xd8\xff" + b"\x00" * 16, "image/jpeg")
    return key


async def test_storage_cleanup_only_sweeps_temp(worker, clean_sandbox, settings) -> None:
    from adapters.s3 import Storage

    storage = Storage(settings)
    storage.ensure_bucket()
    temp_key = f"temp/upload-{uuid.uuid4().hex}.bin"
    kept_key = f"product-images/kept-{uuid.uuid4().hex}.jpg"
    storage.put_bytes(temp_key, b"scratch", "application/octet-stream")
    storage.put_bytes(kept_key, b"\xff\xd8\xff", "image/jpeg")
    await asyncio.sleep(2)
    result = await worker.client.execute_workflow(
        StorageCleanupWorkflow.run,
        StorageCleanupInput(max_age_hours=1 / 3600),
        id=f"storage-cleanup-test-{uuid.uuid4().hex[:8]}",
        task_queue=worker.task_queue,
    )
    assert result.deleted >= 1
    assert not storage.exists(temp_key) and storage.exists(kept_key)
    with pytest.raises(WorkflowFailureError) as refused:
        await worker.client.execute_workflow(
            StorageCleanupWorkflow.run,
            StorageCleanupInput(prefix="product-images/", max_age_hours=1 / 3600),
            id=f"storage-cleanup-test-{uuid.uuid4().hex[:8]}",
            task_queue=worker.task_queue,
        )
    assert "refusing to clean" in str(refused.value.cause.cause)
    assert storage.exists(kept_key)


async def test_tracking_refresh_updates_the_projection(worker, clean_sandbox, settings) -> None:
    """A real FedEx label in the emulator, delivered on the carrier side: the refresh reads the
    tracking and the shipment row becomes delivered (no order workflow runs: nothing to signal)."""
    from adapters.carriers import Address, Commodity, Customs, Parcel, ShipmentRequest
    from adapters.carriers.fedex import FedexCarrier
    from models import Order, Shipment
    from models.db import session_scope
    from workflows.contracts.ops import TrackingRefreshInput
    from workflows.scheduled import TrackingRefreshWorkflow

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

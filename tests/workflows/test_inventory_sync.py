"""The inventory sync end to end on the real worker, eBay emulator and database."""

from __future__ import annotations

import asyncio
import uuid

import pytest

from workflows.contracts.ops import InventorySyncInput
from workflows.inventory_sync import InventorySyncWorkflow

pytestmark = pytest.mark.timeout(90)


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

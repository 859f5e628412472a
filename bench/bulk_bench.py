"""Bulk listing cost in eBay calls per item, against the floor the eBay API allows: with its
bulk endpoints (inventory items, offers and publishing, 25 per call) 3 calls per 25 items."""

from __future__ import annotations

import time
import uuid
from typing import Any

import httpx
import sqlalchemy as sa

from workflows.contracts.listing import (
    BULK_LISTING_WORKFLOW,
    BulkListingInput,
    bulk_listing_workflow_id,
)

FLOOR_CALLS_PER_ITEM = 3 / 25


def insert_products(settings: Any, count: int, image_key: str) -> list[str]:
    from models import Product
    from models.db import session_scope

    batch = uuid.uuid4().hex[:6].upper()
    rows = [
        Product(
            sku=f"BB{batch}-{i:05d}",
            title_ja=f"中古 カメラレンズ {i} 番",
            brand="Nikon",
            price_jpy=10000 + i,
            image_keys=[image_key],
        ).model_dump()
        for i in range(count)
    ]
    with session_scope(settings) as session:
        session.execute(sa.insert(Product), rows)
    return [str(r["id"]) for r in rows]


def upload_image(settings: Any) -> str:
    from adapters.s3 import Storage

    storage = Storage(settings)
    key = f"product-images/bench-{uuid.uuid4().hex}.jpg"
    form = storage.presign_upload(key, "image/jpeg")
    httpx.post(
        form.url,
        data=form.fields,
        files={"file": ("image.jpg", b"\xff\xd8\xff\xe0" + b"\x00" * 64, form.content_type)},
    ).raise_for_status()
    return key


async def run(
    env: Any, worker: Any, sandbox: Any, settings: Any, items: int = 1000
) -> dict[str, float]:
    ids = insert_products(settings, items, upload_image(settings))
    before = dict(worker.deps.ebay.api_calls)
    batch_id = uuid.uuid4().hex[:12]
    started = time.perf_counter()
    result = await env.client.execute_workflow(
        BULK_LISTING_WORKFLOW,
        BulkListingInput(batch_id=batch_id, product_ids=ids),
        id=bulk_listing_workflow_id(batch_id),
        task_queue=worker.task_queue,
        result_type=dict,
    )
    elapsed = time.perf_counter() - started
    calls = {op: n - before.get(op, 0) for op, n in worker.deps.ebay.api_calls.items()}
    total = sum(calls.values())
    per_item = total / items
    by_op = ", ".join(f"{op} {n}" for op, n in sorted(calls.items()) if n)
    print(
        f"bulk listing {items} products in {elapsed:.1f} s ({items / elapsed:.0f}/s), "
        f"{result['done']} listed, {result['runs']} runs: {total} eBay calls = "
        f"{per_item:.2f} per item ({by_op})"
    )
    print(
        f"bulk listing floor with eBay's bulk offer/publish endpoints: "
        f"{FLOOR_CALLS_PER_ITEM:.2f} per item; "
        f"ratio floor/ours {FLOOR_CALLS_PER_ITEM / per_item:.2f}"
    )
    return {"bulk_calls_per_item": per_item, "bulk_items_per_second": items / elapsed}

"""Bulk listing cost in eBay calls per item, against the floor the eBay API allows: with its
bulk endpoints (inventory items, offers and publishing, 25 per call) 3 calls per 25 items; wall
time (staging the batch included, as the API does it before starting the workflow); the worker
process's peak memory from N to 10 N products."""

from __future__ import annotations

import json
import time
import uuid
from pathlib import Path
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


GROWTH = 10
"""The second batch is this many times the first: the worker's peak memory must stay flat."""

RESULTS = Path(__file__).parent / "results"


async def run(
    env: Any, worker: Any, sandbox: Any, settings: Any, items: int = 1000
) -> dict[str, float]:
    """`items` products, then GROWTH x `items`, each listed by a fresh worker process whose peak
    memory is read at the end; eBay calls counted by the emulator."""
    image = upload_image(settings)
    small = await _list(env, sandbox, settings, items, image)
    large = await _list(env, sandbox, settings, items * GROWTH, image)
    figures = {
        "bulk_calls_per_item": large["calls"] / large["items"],
        "bulk_items_per_second": large["items"] / large["seconds"],
        "bulk_memory_growth": large["peak_mib"] / small["peak_mib"],
    }
    for run in (small, large):
        per_item = run["calls"] / run["items"]
        print(
            f"bulk listing {run['items']} products in {run['seconds']:.1f} s "
            f"({run['items'] / run['seconds']:.0f}/s), {run['done']} listed, {run['runs']} runs: "
            f"{run['calls']} eBay requests = {per_item:.3f} per item; worker process peak "
            f"{run['peak_mib']:.0f} MiB"
        )
    print(
        f"bulk listing floor with eBay's bulk endpoints: {FLOOR_CALLS_PER_ITEM:.2f} per item; "
        f"ratio floor/ours {FLOOR_CALLS_PER_ITEM / figures['bulk_calls_per_item']:.2f}; worker "
        f"peak memory {items * GROWTH} vs {items} products: {figures['bulk_memory_growth']:.2f}"
    )
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "bulk.json").write_text(
        json.dumps({**figures, "runs": [small, large]}, indent=2, default=str)
    )
    return figures


async def _list(env: Any, sandbox: Any, settings: Any, items: int, image: str) -> dict[str, Any]:
    from bench.worker_process import peak_rss_mib, spawn, stop

    ids = insert_products(settings, items, image)
    queue = f"bulk-{uuid.uuid4().hex[:6]}"
    process = spawn(queue, env.client.service_client.config.target_host)
    try:
        calls_before = _ebay_requests(sandbox)
        batch_id = uuid.uuid4().hex[:12]
        started = time.perf_counter()
        staged = stage(settings, batch_id, ids)  # as the API starts a batch
        result = await env.client.execute_workflow(
            BULK_LISTING_WORKFLOW,
            BulkListingInput(batch_id=batch_id, staged=staged),
            id=bulk_listing_workflow_id(batch_id),
            task_queue=queue,
            result_type=dict,
        )
        seconds = time.perf_counter() - started
        peak = peak_rss_mib(process)
    finally:
        stop(process)
    return {
        "items": items,
        "seconds": seconds,
        "done": result["done"],
        "runs": result["runs"],
        "calls": _ebay_requests(sandbox) - calls_before,
        "peak_mib": peak,
    }


def stage(settings: Any, batch_id: str, ids: list[str]) -> int:
    from models.bulk import stage_batch
    from models.db import session_scope

    with session_scope(settings) as session:
        return stage_batch(session, batch_id, [uuid.UUID(i) for i in ids])


def _ebay_requests(sandbox: Any) -> int:
    """Requests the eBay emulator answered (its per-second meter, summed)."""
    return sum(
        served + refused for served, refused in sandbox.ctx.meter.per_second("ebay").values()
    )

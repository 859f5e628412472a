"""BulkListingWorkflow: N products cost ceil(N/25) eBay calls for each of inventory, offer
creation and publication (about 3 calls per 25 products), and continue-as-new keeps each run's
history bounded. A dedicated worker with its own `Dependencies` lets the test
read the eBay adapter's `api_calls` counter (HTTP calls by operation)."""

from __future__ import annotations

import math
import time
import uuid
from collections import Counter
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from sqlmodel import col, select
from temporalio.api.enums.v1 import EventType
from temporalio.client import Client

from tests.uploads import post_upload
from tests.workflows.conftest import record_history
from workflows.bulk_listing import BulkListingWorkflow
from workflows.contracts.listing import (
    BulkListingInput,
    BulkListingResult,
    bulk_listing_workflow_id,
)

INVENTORY_WRITES = ("bulk_create_or_replace_inventory_item", "put_inventory_item")
OFFER_BULK_CALLS = ("bulk_create_offer", "bulk_publish_offer")
PER_ITEM_OFFER_CALLS = ("create_offer", "publish_offer", "get_offers")
HISTORY_BUDGET = 4_000  # events per run; the server suggests continue-as-new at 4K, warns at 10K


@dataclass
class CountingWorker:
    client: Client
    task_queue: str
    deps: Any


@pytest.fixture(scope="module")
async def counting_worker(
    temporal_env, settings, migrated_db, sandbox
) -> AsyncIterator[CountingWorker]:
    from activities.deps import Dependencies
    from worker import build_worker

    deps = Dependencies(settings)
    task_queue = f"bulk-{uuid.uuid4().hex[:8]}"
    async with build_worker(temporal_env.client, settings, deps=deps, task_queue=task_queue):
        yield CountingWorker(temporal_env.client, task_queue, deps)


@pytest.fixture(scope="module")
def image_key(settings, sandbox) -> str:
    from adapters.s3 import Storage

    storage = Storage(settings)
    storage.ensure_bucket()
    key = f"product-images/bulk-{uuid.uuid4().hex}.jpg"
    form = storage.presign_upload(key, "image/jpeg")
    post_upload(form, b"\xff\xd8\xff\xe0" + b"\x00" * 64).raise_for_status()
    return key


def bulk_insert_products(settings, n: int, image_keys: list[str]) -> list[str]:
    """One multi-row INSERT: the catalogue as staff would have imported it."""
    from models import Product
    from models.db import session_scope

    batch = uuid.uuid4().hex[:6].upper()
    rows = [
        Product(
            sku=f"B{batch}-{i:05d}",
            title_ja=f"中古 カメラレンズ {i} 番",
            description_ja="動作確認済み。",
            brand="Nikon",
            price_jpy=10000 + i,
            image_keys=image_keys,
        ).model_dump()
        for i in range(n)
    ]
    with session_scope(settings) as session:
        session.execute(sa.insert(Product), rows)
    return [str(r["id"]) for r in rows]


def inventory_calls(deps: Any) -> int:
    """HTTP calls that write eBay inventory items, made by this worker's adapter."""
    return sum(deps.ebay.api_calls[op] for op in INVENTORY_WRITES)


def all_calls(deps: Any) -> Counter[str]:
    """A snapshot of every eBay HTTP call this worker's adapter made, by operation."""
    return Counter(deps.ebay.api_calls)


async def run_chain(
    client: Client, workflow_id: str, first_run_id: str, input_bytes: list[int] | None = None
) -> list[int]:
    """History length of each run, following continue-as-new from the first run (and the size
    of each run's input into `input_bytes`)."""
    lengths: list[int] = []
    run_id: str | None = first_run_id
    while run_id:
        history = await client.get_workflow_handle(workflow_id, run_id=run_id).fetch_history()
        lengths.append(len(history.events))
        if input_bytes is not None:
            started = history.events[0].workflow_execution_started_event_attributes
            input_bytes.append(sum(len(p.data) for p in started.input.payloads))
        last = history.events[-1]
        if last.event_type == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_CONTINUED_AS_NEW:
            run_id = last.workflow_execution_continued_as_new_event_attributes.new_execution_run_id
        else:
            run_id = None
    return lengths


@dataclass
class Batch:
    result: BulkListingResult
    lengths: list[int]  # history events per run
    input_bytes: list[int]  # each run's input, as stored
    inventory_calls: int
    calls: Counter[str]  # every eBay call of this batch, by operation
    elapsed: float


async def list_batch(
    worker: CountingWorker,
    ids: list[str],
    chunks_per_run: int,
    record_as: str = "",
    settings: Any = None,
) -> Batch:
    """The batch given inline, or staged in `bulk_batch_items` first when `settings` is given
    (as the API starts it)."""
    batch_id = uuid.uuid4().hex[:12]
    before = inventory_calls(worker.deps)
    calls_before = all_calls(worker.deps)
    started = time.monotonic()
    request = BulkListingInput(batch_id=batch_id, product_ids=ids, chunks_per_run=chunks_per_run)
    if settings is not None:
        from models.bulk import stage_batch
        from models.db import session_scope

        with session_scope(settings) as session:
            staged = stage_batch(session, batch_id, [uuid.UUID(i) for i in ids])
        request = request.model_copy(update={"product_ids": [], "staged": staged})
    handle = await worker.client.start_workflow(
        BulkListingWorkflow.run,
        request,
        id=bulk_listing_workflow_id(batch_id),
        task_queue=worker.task_queue,
    )
    progress = await handle.query(BulkListingWorkflow.progress)
    assert progress.total in (0, len(set(ids)))  # 0 only before the first task ran
    result: BulkListingResult = await handle.result()
    elapsed = time.monotonic() - started
    final = await handle.query(BulkListingWorkflow.progress)
    assert (final.done, final.failed, final.remaining) == (result.done, result.failed, 0)
    input_bytes: list[int] = []
    first_run = handle.first_execution_run_id or ""
    lengths = await run_chain(worker.client, handle.id, first_run, input_bytes)
    if record_as:  # the 1,000-product histories are too big to commit
        await record_history(handle, record_as)
    calls = all_calls(worker.deps)
    calls.subtract(calls_before)
    return Batch(
        result, lengths, input_bytes, inventory_calls(worker.deps) - before, +calls, elapsed
    )


def statuses(settings, ids: list[str]) -> dict[str, int]:
    from models import Product
    from models.db import session_scope

    with session_scope(settings) as session:
        rows = session.exec(
            select(Product.status, sa.func.count())
            .where(col(Product.id).in_([uuid.UUID(i) for i in ids]))
            .group_by(Product.status)
        ).all()
    return {str(s): n for s, n in rows}


@pytest.mark.timeout(120)
async def test_100_products_in_4_calls_per_step(
    counting_worker, clean_sandbox, settings, image_key
) -> None:
    ids = bulk_insert_products(settings, 99, [image_key])
    broken = bulk_insert_products(settings, 1, [f"product-images/missing-{uuid.uuid4().hex}.jpg"])
    ids = ids[:50] + broken + ids[50:]
    # bulk_listing_100.json is the per-product offer path (before the "bulk-offers" patch).
    batch = await list_batch(
        counting_worker, ids, chunks_per_run=2, record_as="bulk_listing_bulk_offers_100"
    )
    result = batch.result
    assert batch.inventory_calls == math.ceil(100 / 25) == 4
    assert {op: batch.calls[op] for op in OFFER_BULK_CALLS} == {op: 4 for op in OFFER_BULK_CALLS}
    assert not any(batch.calls[op] for op in PER_ITEM_OFFER_CALLS)
    assert sum(batch.calls.values()) / len(ids) <= 0.2
    assert (result.total, result.done, result.failed) == (100, 99, 1)
    assert result.failures[0].product_id == broken[0] and "missing" in result.failures[0].error
    assert len(batch.lengths) == result.runs == 2  # continued as new after 2 chunks
    assert max(batch.lengths) < HISTORY_BUDGET
    assert statuses(settings, ids) == {"listed": 99, "failed": 1}
    ledger = clean_sandbox.ctx.ledger
    assert ledger.count("ebay", "offer_created") == ledger.count("ebay", "offer_published") == 99
    assert ledger.duplicates().get("ebay", {}) == {}

    # The same products again: nothing new on eBay, no inventory or offer call for listed ones.
    again = await list_batch(counting_worker, ids, chunks_per_run=10)
    assert (again.result.done, again.result.failed, again.inventory_calls) == (99, 1, 0)
    assert not any(again.calls[op] for op in OFFER_BULK_CALLS + PER_ITEM_OFFER_CALLS)
    assert ledger.count("ebay", "offer_published") == 99


@pytest.mark.timeout(120)
async def test_staged_batch_is_read_a_chunk_at_a_time(
    counting_worker, clean_sandbox, settings, image_key
) -> None:
    """A batch staged in `bulk_batch_items` lists the same as one given inline, each product
    once, while no run's input carries the ids: the activity reads each chunk by position."""
    ids = bulk_insert_products(settings, 59, [image_key])
    broken = bulk_insert_products(settings, 1, [f"product-images/missing-{uuid.uuid4().hex}.jpg"])
    ids = ids[:30] + broken + ids[30:] + ids[:5]  # five given twice: listed once
    batch = await list_batch(counting_worker, ids, chunks_per_run=1, settings=settings)
    result = batch.result
    assert (result.total, result.done, result.failed) == (60, 59, 1)
    assert result.failures[0].product_id == broken[0]
    assert batch.inventory_calls == math.ceil(60 / 25) == 3
    assert len(batch.lengths) == result.runs == 3  # continued as new after each chunk
    assert statuses(settings, list(set(ids))) == {"listed": 59, "failed": 1}
    ledger = clean_sandbox.ctx.ledger
    assert ledger.count("ebay", "offer_published") == 59
    assert ledger.duplicates().get("ebay", {}) == {}
    # the progress only (its recent failures are bounded), not the 60 ids of 36 characters
    assert len(batch.input_bytes) == 3 and max(batch.input_bytes) < 1000
    inline = await list_batch(counting_worker, ids[:30], chunks_per_run=10)
    assert inline.input_bytes[0] > 36 * 30  # an inline batch carries its ids


def lose_next_answer(sandbox: Any, path: str) -> None:
    """eBay does the next matching call but its answer never arrives."""
    rule = {"lost_response_rate": 1.0, "times": 1, "path_contains": path, "method": "POST"}
    httpx.post(f"{sandbox.base_url}/_sandbox/faults", json={"ebay": rule}).raise_for_status()


@pytest.mark.timeout(120)
async def test_lost_bulk_create_answer_is_retried_without_duplicates(
    counting_worker, clean_sandbox, settings, image_key
) -> None:
    """bulkCreateOffer's answer is lost once: the activity retries, eBay refuses each offer as
    existing (25002) and the adapter reuses it, so every SKU has one offer and one listing."""
    ids = bulk_insert_products(settings, 30, [image_key])
    lose_next_answer(clean_sandbox, "/bulk_create_offer")
    batch = await list_batch(counting_worker, ids, chunks_per_run=10)
    assert (batch.result.done, batch.result.failed) == (30, 0)
    assert batch.calls["bulk_create_offer"] == 3  # 2 chunks + the repeat of the lost one
    assert batch.calls["bulk_publish_offer"] == 2
    assert batch.calls["get_offers"] == 25  # the lost chunk's offers looked up, once each
    assert statuses(settings, ids) == {"listed": 30}
    ledger = clean_sandbox.ctx.ledger
    assert ledger.count("ebay", "offer_created") == ledger.count("ebay", "offer_published") == 30
    assert ledger.duplicates().get("ebay", {}) == {}


@pytest.mark.slow
@pytest.mark.timeout(300)
async def test_1000_products_in_about_3_calls_per_25(
    counting_worker, clean_sandbox, settings, image_key
) -> None:
    ids = bulk_insert_products(settings, 1000, [image_key])
    batch = await list_batch(counting_worker, ids, chunks_per_run=10)
    total = sum(batch.calls.values())
    print(
        f"\n1,000 products listed in {batch.elapsed:.1f} s, {total} eBay calls "
        f"({dict(batch.calls)}), {len(batch.lengths)} runs, history per run {batch.lengths}"
    )
    assert batch.inventory_calls == math.ceil(1000 / 25) == 40
    assert all(batch.calls[op] == 40 for op in OFFER_BULK_CALLS)
    assert total / len(ids) <= 0.2
    assert batch.result.done == 1000 and batch.result.failed == 0
    assert len(batch.lengths) >= 4 and max(batch.lengths) < HISTORY_BUDGET
    ledger = clean_sandbox.ctx.ledger
    assert ledger.count("ebay", "offer_published") == 1000
    assert ledger.duplicates().get("ebay", {}) == {}

"""BulkListingWorkflow (id `bulk-listing-{batch_id}`): many products, few eBay calls.

Per chunk of 25 products one activity writes the AI copy (skipping copies already written) and
makes ONE `bulkCreateOrReplaceInventoryItem` call, so N products cost ceil(N/25) inventory calls;
then ONE `bulkCreateOffer` and ONE `bulkPublishOffer` call list the chunk (about 3 eBay calls
per 25 products). Histories from before the `bulk-offers` patch keep the old path: each
product's offer created and published by its own activities, at most `max_concurrency` in
flight. Bulk batches skip staff approval. After `chunks_per_run` chunks (or
when Temporal suggests it) the workflow continues as new with the remaining ids and the progress,
so a batch of 10,000 products keeps every run's history small. A batch staged in
`bulk_batch_items` (as the API and the bench start them) is read a chunk at a time by position:
the input carries a position, not 10,000 ids, through each continue-as-new, and the worker's
memory stays flat with the batch's size.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta

from temporalio import workflow
from temporalio.exceptions import ActivityError, ApplicationError

with workflow.unsafe.imports_passed_through():
    from workflows.common import DATABASE, EXTERNAL
    from workflows.contracts.listing import (
        BULK_CREATE_OFFERS_ACTIVITY,
        BULK_LISTING_WORKFLOW,
        BULK_PUBLISH_OFFERS_ACTIVITY,
        CREATE_OFFER_ACTIVITY,
        ENSURE_LOCATION_ACTIVITY,
        PREPARE_CHUNK_ACTIVITY,
        PUBLISH_OFFER_ACTIVITY,
        SET_PRODUCT_STATUS_ACTIVITY,
        BulkFailure,
        BulkListingInput,
        BulkListingResult,
        BulkOffers,
        BulkOffersResult,
        BulkProgress,
        ChunkItem,
        ChunkResult,
        PrepareChunk,
        ProductRef,
        PublishOffer,
        SetProductStatus,
    )

CHUNK_OPTIONS = {
    **EXTERNAL,
    "start_to_close_timeout": timedelta(minutes=10),
    "heartbeat_timeout": timedelta(minutes=2),
}
"""Up to 25 AI completions (8 at a time) plus one bulk call; the activity beats after each copy,
so a dead worker is noticed within two minutes instead of ten."""

BULK_OFFERS_PATCH = "bulk-offers"  # offers created and published per chunk, not per product
RECENT_FAILURES = 20  # kept in the progress (bounded: it travels through continue-as-new)


def _message(error: BaseException) -> str:
    while isinstance(error, ActivityError) and error.cause is not None:
        error = error.cause
    return str(error.message if isinstance(error, ApplicationError) else error)


@workflow.defn(name=BULK_LISTING_WORKFLOW)
class BulkListingWorkflow:
    def __init__(self) -> None:
        self._progress = BulkProgress(batch_id="", total=0)

    @workflow.run
    async def run(self, request: BulkListingInput) -> BulkListingResult:
        if request.progress is None:
            ids = list(dict.fromkeys(request.product_ids))  # a product listed once per batch
            total = request.staged or len(ids)  # staging listed each product once too
            self._progress = BulkProgress(batch_id=request.batch_id, total=total)
        else:
            ids = list(request.product_ids)
            self._progress = request.progress.model_copy()
        position = request.position

        def remaining() -> int:
            return len(ids) + max(request.staged - position, 0)

        self._progress.remaining = remaining()
        workflow.set_current_details(self._details())
        if remaining():
            await workflow.execute_activity(ENSURE_LOCATION_ACTIVITY, **EXTERNAL)
        limit = asyncio.Semaphore(request.max_concurrency)
        chunks = 0
        while remaining() and not (
            chunks >= request.chunks_per_run or workflow.info().is_continue_as_new_suggested()
        ):
            if ids:
                chunk, ids = ids[: request.chunk_size], ids[request.chunk_size :]
                prepare = PrepareChunk(product_ids=chunk)
            else:  # the next chunk of the staged batch, read by the activity
                count = min(request.chunk_size, request.staged - position)
                prepare = PrepareChunk(batch_id=request.batch_id, position=position, count=count)
                position += count
            await self._run_chunk(prepare, limit)
            chunks += 1
            self._progress.remaining = remaining()
            workflow.set_current_details(self._details())
        await workflow.wait_condition(workflow.all_handlers_finished)
        if remaining():  # this run's history budget is spent: the rest in a fresh run
            self._progress.runs += 1
            workflow.continue_as_new(
                request.model_copy(
                    update={"product_ids": ids, "position": position, "progress": self._progress}
                )
            )
        return BulkListingResult(
            batch_id=request.batch_id,
            total=self._progress.total,
            done=self._progress.done,
            failed=self._progress.failed,
            runs=self._progress.runs,
            failures=self._progress.recent_failures,
        )

    async def _run_chunk(self, prepare: PrepareChunk, limit: asyncio.Semaphore) -> None:
        size = len(prepare.product_ids) or prepare.count
        prepared = await workflow.execute_activity(
            PREPARE_CHUNK_ACTIVITY,
            prepare.model_copy(update={"workflow_id": workflow.info().workflow_id}),
            result_type=ChunkResult,
            summary=f"AI copy + bulk inventory for {size} products",
            **CHUNK_OPTIONS,
        )
        if not workflow.patched(BULK_OFFERS_PATCH):
            await asyncio.gather(*(self._list_one(item, limit) for item in prepared.items))
            return
        todo: list[str] = []
        for item in prepared.items:
            if item.already_listed:
                self._progress.done += 1
            elif not item.ok:
                self._fail(item.product_id, item.error)
            else:
                todo.append(item.product_id)
        if todo:
            await self._offer_chunk(todo)

    async def _offer_chunk(self, product_ids: list[str]) -> None:
        """Create the chunk's offers with one call, then publish those created with one more.
        Both activities are idempotent (stored ids are skipped, eBay's existing offer or
        listing is reused), so a retry or a repeated batch lists nothing twice."""
        step = product_ids
        try:
            created = await workflow.execute_activity(
                BULK_CREATE_OFFERS_ACTIVITY,
                BulkOffers(product_ids=step),
                result_type=BulkOffersResult,
                summary=f"bulk create offers for {len(step)} products",
                **EXTERNAL,
            )
            step = []
            for item in created.items:
                if item.ok and item.listing_id:
                    self._progress.done += 1
                elif item.ok:
                    step.append(item.product_id)
                else:
                    self._fail(item.product_id, item.error)
            if not step:
                return
            published = await workflow.execute_activity(
                BULK_PUBLISH_OFFERS_ACTIVITY,
                BulkOffers(product_ids=step),
                result_type=BulkOffersResult,
                summary=f"bulk publish {len(step)} offers",
                **EXTERNAL,
            )
        except ActivityError as error:  # the whole call failed for good: its products did too
            message = _message(error)
            await asyncio.gather(
                *(
                    workflow.execute_activity(
                        SET_PRODUCT_STATUS_ACTIVITY,
                        SetProductStatus(product_id=pid, status="failed", error=message),
                        **DATABASE,
                    )
                    for pid in step
                )
            )
            for pid in step:
                self._fail(pid, message)
            return
        for item in published.items:
            if item.ok:
                self._progress.done += 1
            else:
                self._fail(item.product_id, item.error)

    async def _list_one(self, item: ChunkItem, limit: asyncio.Semaphore) -> None:
        if item.already_listed:
            self._progress.done += 1
            return
        if not item.ok:
            self._fail(item.product_id, item.error)
            return
        async with limit:
            ref = ProductRef(product_id=item.product_id)
            try:
                offer_id = await workflow.execute_activity(
                    CREATE_OFFER_ACTIVITY, ref, result_type=str, **EXTERNAL
                )
                await workflow.execute_activity(
                    PUBLISH_OFFER_ACTIVITY,
                    PublishOffer(product_id=item.product_id, offer_id=offer_id),
                    result_type=str,
                    **EXTERNAL,
                )
            except ActivityError as error:
                message = _message(error)
                await workflow.execute_activity(
                    SET_PRODUCT_STATUS_ACTIVITY,
                    SetProductStatus(product_id=item.product_id, status="failed", error=message),
                    **DATABASE,
                )
                self._fail(item.product_id, message)
                return
        self._progress.done += 1

    def _fail(self, product_id: str, error: str) -> None:
        self._progress.failed += 1
        failures = self._progress.recent_failures
        failures.append(BulkFailure(product_id=product_id, error=error[:500]))
        del failures[:-RECENT_FAILURES]

    def _details(self) -> str:
        p = self._progress
        return f"{p.done} listed, {p.failed} failed, {p.remaining} of {p.total} to go"

    @workflow.query(name="progress")
    def progress(self) -> BulkProgress:
        return self._progress

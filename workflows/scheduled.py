"""The periodic jobs, started by Temporal Schedules (see `schedules.py`; overlap SKIP).

- OrderSyncWorkflow: eBay orders modified in [watermark - overlap, now] are stored (the order
  projection) and each new one gets its OrderFulfillmentWorkflow (`order-{ebay_order_id}`),
  started as an abandoned child with REJECT_DUPLICATE, so a second sync never starts it twice.
- TrackingRefreshWorkflow: reads carrier tracking for shipments in transit into the shipment
  projection, then signals `tracking_refresh` to the order workflows whose shipment changed
  status (a closed or missing order workflow is fine: the projection is already current).
- InventorySyncWorkflow: pushes price/quantity of listed products to eBay, 25 per call.
- StorageCleanupWorkflow: deletes temp/ objects older than a day.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta

from temporalio import workflow
from temporalio.common import WorkflowIDReusePolicy
from temporalio.exceptions import WorkflowAlreadyStartedError

with workflow.unsafe.imports_passed_through():
    from temporal_client import order_search_attributes
    from workflows.common import DATABASE, EXTERNAL
    from workflows.contracts.fulfillment import (
        FULFILLMENT_WORKFLOW,
        TRACKING_REFRESH_SIGNAL,
        FulfillOrder,
        fulfillment_workflow_id,
    )
    from workflows.contracts.label import TrackingSnapshot
    from workflows.contracts.ops import (
        ADVANCE_WATERMARK_ACTIVITY,
        CLEANUP_STORAGE_ACTIVITY,
        FETCH_ORDERS_ACTIVITY,
        INVENTORY_SYNC_WORKFLOW,
        MARK_ORDERS_STARTED_ACTIVITY,
        ORDER_SYNC_WORKFLOW,
        READ_WATERMARK_ACTIVITY,
        REFRESH_TRACKING_ACTIVITY,
        STORAGE_CLEANUP_WORKFLOW,
        SYNC_INVENTORY_PAGE_ACTIVITY,
        TRACKING_REFRESH_WORKFLOW,
        AdvanceWatermark,
        FetchedOrders,
        FetchOrders,
        InventoryPageResult,
        InventorySyncInput,
        InventorySyncResult,
        MarkOrdersStarted,
        OrderSyncInput,
        OrderSyncResult,
        ReadWatermark,
        RefreshedTracking,
        RefreshTracking,
        StorageCleanupInput,
        StorageCleanupResult,
        SyncInventoryPage,
        TrackingChange,
        TrackingRefreshInput,
        TrackingRefreshResult,
        Watermark,
    )

LONG_EXTERNAL = {
    **EXTERNAL,
    "start_to_close_timeout": timedelta(minutes=10),
    "heartbeat_timeout": timedelta(minutes=2),
}
"""Paging through many orders or shipments: long, but heartbeating."""

SLOW_EXTERNAL = {**EXTERNAL, "start_to_close_timeout": timedelta(minutes=10)}
"""A few bulk calls in one activity (no heartbeat in between)."""

START_BATCH = 50  # child starts in flight at once

TRACKING_STATUS_SIGNAL_PATCH = "tracking-signal-carries-status"
"""From this patch on, the tracker signals the changed orders at once, each signal carrying the
new status, so the order workflow needs no carrier call of its own."""


@workflow.defn(name=ORDER_SYNC_WORKFLOW)
class OrderSyncWorkflow:
    @workflow.run
    async def run(self, request: OrderSyncInput) -> OrderSyncResult:
        mark = await workflow.execute_activity(
            READ_WATERMARK_ACTIVITY,
            ReadWatermark(name=request.state_name),
            result_type=Watermark,
            **DATABASE,
        )
        end = workflow.now()
        since = mark.value or end - timedelta(hours=request.initial_lookback_hours)
        start = since - timedelta(minutes=request.overlap_minutes)
        workflow.set_current_details(f"orders modified {start.isoformat()} .. {end.isoformat()}")
        fetched = await workflow.execute_activity(
            FETCH_ORDERS_ACTIVITY,
            FetchOrders(start=start, end=end),
            result_type=FetchedOrders,
            **LONG_EXTERNAL,
        )
        started: list[str] = []
        already: list[str] = []
        for i in range(0, len(fetched.to_start), START_BATCH):
            batch = fetched.to_start[i : i + START_BATCH]
            outcomes = await asyncio.gather(*(self._start(o, request) for o in batch))
            for order_id, was_started in zip(batch, outcomes, strict=True):
                (started if was_started else already).append(order_id)
        await workflow.execute_activity(
            MARK_ORDERS_STARTED_ACTIVITY,
            MarkOrdersStarted(ebay_order_ids=started + already),
            **DATABASE,
        )
        await workflow.execute_activity(
            ADVANCE_WATERMARK_ACTIVITY,
            AdvanceWatermark(name=request.state_name, value=end),
            result_type=Watermark,
            **DATABASE,
        )
        workflow.set_current_details(f"{fetched.fetched} orders seen, {len(started)} started")
        return OrderSyncResult(
            window_start=start,
            window_end=end,
            fetched=fetched.fetched,
            started=started,
            already_running=already,
        )

    async def _start(self, ebay_order_id: str, request: OrderSyncInput) -> bool:
        """Start the order's fulfillment; False when it already exists (running or closed)."""
        try:
            await workflow.start_child_workflow(
                FULFILLMENT_WORKFLOW,
                FulfillOrder(
                    ebay_order_id=ebay_order_id,
                    staff_email=request.staff_email,
                    inspection_escalation_hours=request.inspection_escalation_hours,
                    max_transit_days=request.max_transit_days,
                    rate_choice_seconds=request.rate_choice_seconds,
                ),
                id=fulfillment_workflow_id(ebay_order_id),
                id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
                parent_close_policy=workflow.ParentClosePolicy.ABANDON,
                static_summary=f"eBay order {ebay_order_id}",
                search_attributes=order_search_attributes(ebay_order_id),  # none to upsert
            )
        except WorkflowAlreadyStartedError:
            return False
        return True


@workflow.defn(name=TRACKING_REFRESH_WORKFLOW)
class TrackingRefreshWorkflow:
    @workflow.run
    async def run(self, request: TrackingRefreshInput) -> TrackingRefreshResult:
        total = TrackingRefreshResult(checked=0, changed=0, signalled=0, errors=0)
        after = ""
        while True:
            page = await workflow.execute_activity(
                REFRESH_TRACKING_ACTIVITY,
                RefreshTracking(after_id=after, limit=request.page_size),
                result_type=RefreshedTracking,
                **LONG_EXTERNAL,
            )
            total.checked += page.checked
            total.changed += len(page.changed)
            total.errors += page.errors
            total.carrier_calls += page.carrier_calls
            if request.signals_carry_status or workflow.patched(TRACKING_STATUS_SIGNAL_PATCH):
                sent = await asyncio.gather(*(self._tell(change) for change in page.changed))
                total.signalled += sum(sent)
            else:
                for change in page.changed:
                    handle = workflow.get_external_workflow_handle(
                        fulfillment_workflow_id(change.ebay_order_id)
                    )
                    try:
                        await handle.signal(TRACKING_REFRESH_SIGNAL)
                        total.signalled += 1
                    except Exception:  # noqa: BLE001 - a closed/missing order workflow is fine
                        workflow.logger.info(
                            "no running workflow for order %s", change.ebay_order_id
                        )
            if not page.next_after_id:
                break
            after = page.next_after_id
        workflow.set_current_details(f"{total.checked} checked, {total.changed} changed")
        return total

    @staticmethod
    async def _tell(change: TrackingChange) -> bool:
        """The order workflow gets the new status with the signal (it calls no carrier)."""
        handle = workflow.get_external_workflow_handle(
            fulfillment_workflow_id(change.ebay_order_id)
        )
        try:
            await handle.signal(
                TRACKING_REFRESH_SIGNAL,
                TrackingSnapshot(
                    status=change.status, delivered=change.delivered, last_event=change.last_event
                ),
            )
        except Exception:  # noqa: BLE001 - a closed/missing order workflow is fine
            workflow.logger.info("no running workflow for order %s", change.ebay_order_id)
            return False
        return True


@workflow.defn(name=INVENTORY_SYNC_WORKFLOW)
class InventorySyncWorkflow:
    @workflow.run
    async def run(self, request: InventorySyncInput) -> InventorySyncResult:
        total = InventorySyncResult(updated=0, failed=0, calls=0)
        after = ""
        while True:
            page = await workflow.execute_activity(
                SYNC_INVENTORY_PAGE_ACTIVITY,
                SyncInventoryPage(after_sku=after, limit=request.page_size),
                result_type=InventoryPageResult,
                **SLOW_EXTERNAL,
            )
            total.updated += page.updated
            total.failed += page.failed
            total.calls += page.calls
            if not page.next_after_sku:
                break
            after = page.next_after_sku
        workflow.set_current_details(f"{total.updated} updated in {total.calls} calls")
        return total


@workflow.defn(name=STORAGE_CLEANUP_WORKFLOW)
class StorageCleanupWorkflow:
    @workflow.run
    async def run(self, request: StorageCleanupInput) -> StorageCleanupResult:
        result = await workflow.execute_activity(
            CLEANUP_STORAGE_ACTIVITY, request, result_type=StorageCleanupResult, **SLOW_EXTERNAL
        )
        workflow.set_current_details(f"{result.deleted} objects deleted under {request.prefix}")
        return result

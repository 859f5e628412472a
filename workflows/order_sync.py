"""OrderSyncWorkflow, started by the `order-sync` schedule (overlap SKIP): eBay orders modified
in [watermark - overlap, now] are stored (the order projection) and each new one gets its
OrderFulfillmentWorkflow (`order-{ebay_order_id}`), started as an abandoned child with
REJECT_DUPLICATE, so a second sync never starts it twice."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from temporalio import workflow
from temporalio.common import WorkflowIDReusePolicy
from temporalio.exceptions import WorkflowAlreadyStartedError

with workflow.unsafe.imports_passed_through():
    from temporal_client import order_search_attributes
    from workflows.common import DATABASE, LONG_EXTERNAL
    from workflows.contracts.fulfillment import (
        FULFILLMENT_WORKFLOW,
        FulfillOrder,
        fulfillment_workflow_id,
    )
    from workflows.contracts.ops import (
        ADVANCE_WATERMARK_ACTIVITY,
        FETCH_ORDERS_ACTIVITY,
        MARK_ORDERS_STARTED_ACTIVITY,
        ORDER_SYNC_WORKFLOW,
        READ_WATERMARK_ACTIVITY,
        AdvanceWatermark,
        FetchedOrders,
        FetchOrders,
        MarkOrdersStarted,
        OrderSyncInput,
        OrderSyncResult,
        ReadWatermark,
        Watermark,
    )

START_BATCH = 50  # child starts in flight at once


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

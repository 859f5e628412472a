"""TrackingRefreshWorkflow, started by the `tracking-refresh` schedule (overlap SKIP): reads
carrier tracking for shipments in transit into the shipment projection, a page at a time, then
signals `tracking_refresh` to the order workflows whose shipment changed status (a closed or
missing order workflow is fine: the projection is already current).

A module of its own: the workflow sandbox defines a workflow's module afresh for every run, and
this one runs every few minutes."""

from __future__ import annotations

import asyncio

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from workflows.common import LONG_EXTERNAL
    from workflows.contracts.fulfillment import TRACKING_REFRESH_SIGNAL, fulfillment_workflow_id
    from workflows.contracts.label import TrackingSnapshot
    from workflows.contracts.ops import (
        REFRESH_TRACKING_ACTIVITY,
        TRACKING_REFRESH_WORKFLOW,
        RefreshedTracking,
        RefreshTracking,
        TrackingChange,
        TrackingRefreshInput,
        TrackingRefreshResult,
    )

TRACKING_STATUS_SIGNAL_PATCH = "tracking-signal-carries-status"
"""From this patch on, the tracker signals the changed orders at once, each signal carrying the
new status, so the order workflow needs no carrier call of its own."""


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

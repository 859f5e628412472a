"""InventorySyncWorkflow, started by the `inventory-sync` schedule (overlap SKIP): pushes the
price and quantity of listed products to eBay, 25 per call, a page of products at a time."""

from __future__ import annotations

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from workflows.common import SLOW_EXTERNAL
    from workflows.contracts.ops import (
        INVENTORY_SYNC_WORKFLOW,
        SYNC_INVENTORY_PAGE_ACTIVITY,
        InventoryPageResult,
        InventorySyncInput,
        InventorySyncResult,
        SyncInventoryPage,
    )


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

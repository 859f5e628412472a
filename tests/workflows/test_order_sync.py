"""The order sync end to end on the real worker, emulators and database: one fulfillment
started per new eBay order, never a second for an order already started."""

from __future__ import annotations

import contextlib
import uuid

import httpx
import pytest
from temporalio.service import RPCError

from tests.workflows.conftest import record_history
from workflows.contracts.ops import OrderSyncInput
from workflows.order_sync import OrderSyncWorkflow

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

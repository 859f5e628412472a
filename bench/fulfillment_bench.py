"""End-to-end fulfillment throughput as a ratio of a bare Temporal workflow running the same
number of activities, on the same dev server, with the same concurrency, in the same run."""

from __future__ import annotations

import asyncio
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from temporalio.client import Client
from temporalio.worker import Worker

from bench import bare
from bench.driver import fulfil, import_orders, make_product, start_order


async def activities_per_order(client: Client, result: Any) -> int:
    """Activities scheduled across the order's workflow runs and its children."""
    from workflows.contracts.email import email_workflow_id
    from workflows.contracts.fulfillment import fulfillment_workflow_id
    from workflows.contracts.inspection import inspection_workflow_id
    from workflows.contracts.label import label_workflow_id

    ids = [
        fulfillment_workflow_id(result.ebay_order_id),
        inspection_workflow_id(result.order_id),
        label_workflow_id(result.shipment_id),
        email_workflow_id("order_confirmation", result.ebay_order_id),
        email_workflow_id("shipping_notification", result.ebay_order_id),
    ]
    total = 0
    query = " OR ".join(f'WorkflowId = "{i}"' for i in ids)
    async for execution in client.list_workflows(query):
        history = await client.get_workflow_handle(
            execution.id, run_id=execution.run_id
        ).fetch_history()
        total += sum(
            1 for e in history.events if e.HasField("activity_task_scheduled_event_attributes")
        )
    return total


async def run_orders(
    client: Client, task_queue: str, sandbox_url: str, settings: Any, orders: int
) -> tuple[float, list[Any]]:
    skus = [make_product(settings) for _ in range(orders)]
    ids = await import_orders(sandbox_url, skus)
    started = time.perf_counter()
    for ebay_order_id in ids:
        await start_order(client, task_queue, ebay_order_id)
    results = await asyncio.gather(*(fulfil(client, sandbox_url, i) for i in ids))
    elapsed = time.perf_counter() - started
    assert all(r.outcome == "completed" for r in results), results
    return elapsed, results


async def run_bare(client: Client, activities: int, count: int) -> float:
    queue = f"bare-{uuid.uuid4().hex[:6]}"
    async with Worker(
        client,
        task_queue=queue,
        workflows=[bare.BareWorkflow],
        activities=[bare.noop],
        activity_executor=ThreadPoolExecutor(32),
    ):
        started = time.perf_counter()
        await asyncio.gather(
            *(
                client.execute_workflow(
                    "BareWorkflow", activities, id=f"bare-{uuid.uuid4()}", task_queue=queue
                )
                for _ in range(count)
            )
        )
        return time.perf_counter() - started


async def run(
    env: Any, worker: Any, sandbox_url: str, settings: Any, orders: int = 20
) -> dict[str, float]:
    elapsed, results = await run_orders(
        env.client, worker.task_queue, sandbox_url, settings, orders
    )
    per_order = await activities_per_order(env.client, results[0])
    bare_elapsed = await run_bare(env.client, per_order, orders)
    ours, ceiling = orders / elapsed, orders / bare_elapsed
    print(
        f"fulfillment  {orders} orders eBay import -> delivered (inspection, label, eBay "
        f"tracking, 2 emails): {ours:6.2f} orders/s ({elapsed:.1f} s)"
    )
    print(
        f"fulfillment  bare workflow with the same {per_order} activities (ceiling):"
        f"       {ceiling:6.2f} wf/s ({bare_elapsed:.1f} s)"
    )
    print(
        f"fulfillment  ratio: {ours / ceiling:.2f} of the ceiling (includes the human steps' "
        f"round trips: inspection updates, courier advance)"
    )
    return {"fulfillment_ratio": ours / ceiling, "activities_per_order": per_order}

"""Batched tracking as the order workflow sees it: the tracker's signals carry the status (the
order calls no carrier), a signal without one makes it check once, and signals received while a
run continues as new are handled by the next run."""

from __future__ import annotations

import asyncio
import uuid
from datetime import timedelta

import pytest
from temporalio.api.enums.v1 import EventType
from temporalio.worker import Worker

from tests.workflows.fast.conftest import FakeWorld
from tests.workflows.fast.fakes import FakeActivities
from tests.workflows.fast.helpers import eventually
from workflows import all_workflows
from workflows.contracts.fulfillment import (
    SET_ORDER_STATUS_ACTIVITY,
    TRACKING_REFRESH_SIGNAL,
    FulfillmentResult,
    FulfillmentResume,
    FulfillOrder,
)
from workflows.contracts.label import TRACK_SHIPMENT_ACTIVITY, TrackingSnapshot
from workflows.fulfillment import OrderFulfillmentWorkflow
from workflows.interceptors import WORKER_INTERCEPTORS

pytestmark = pytest.mark.timeout(60)

IN_TRANSIT = TrackingSnapshot(status="in_transit", last_event="Departed FedEx location")
DELIVERED = TrackingSnapshot(status="delivered", delivered=True, last_event="Delivered")


def in_transit(**options: object) -> FulfillOrder:
    """An order already shipped: the run starts at the tracking stage."""
    ebay_order_id = f"12-{uuid.uuid4().hex[:8]}"
    return FulfillOrder(
        ebay_order_id=ebay_order_id,
        resume=FulfillmentResume(
            order_id=f"id-{ebay_order_id}",
            shipment_id=str(uuid.uuid4()),
            carrier="fedex",
            tracking_number="794600000001",
        ),
        **options,
    )


async def test_signals_pending_at_continue_as_new_are_handled_by_the_next_run(
    time_skipping_env,
) -> None:
    """Both signals reach the first run in one workflow task; it handles one (its budget, one
    check per run) and continues as new: the delivery must travel with it, else the order waits
    for a signal that already came."""
    fakes = FakeActivities()
    queue = f"fast-can-{uuid.uuid4().hex[:8]}"
    request = in_transit(polls_per_run=1)
    client = time_skipping_env.client
    handle = await client.start_workflow(
        OrderFulfillmentWorkflow.run,
        request,
        id=f"order-{request.ebay_order_id}",
        task_queue=queue,  # no worker yet: the signals wait in the history
    )
    await handle.signal(TRACKING_REFRESH_SIGNAL, IN_TRANSIT)
    await handle.signal(TRACKING_REFRESH_SIGNAL, DELIVERED)
    async with Worker(
        client,
        task_queue=queue,
        workflows=all_workflows(),
        activities=fakes.all(),
        interceptors=WORKER_INTERCEPTORS,
    ):
        latest = client.get_workflow_handle(handle.id, result_type=FulfillmentResult)
        result = await asyncio.wait_for(latest.result(), 30)
    assert result.outcome == "completed"
    first = client.get_workflow_handle(handle.id, run_id=handle.result_run_id)
    events = [e.event_type for e in (await first.fetch_history()).events]
    assert events.count(EventType.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED) == 2
    assert events[-1] == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_CONTINUED_AS_NEW
    assert TRACK_SHIPMENT_ACTIVITY not in fakes.names()  # the tracker's status, no carrier call
    assert [a.status for a in fakes.args(SET_ORDER_STATUS_ACTIVITY)] == ["completed"]


async def test_a_signal_without_status_makes_the_order_check_once(world: FakeWorld) -> None:
    request = in_transit()
    handle = await world.client.start_workflow(
        OrderFulfillmentWorkflow.run,
        request,
        id=f"order-{request.ebay_order_id}",
        task_queue=world.task_queue,
    )
    await handle.signal(TRACKING_REFRESH_SIGNAL, IN_TRANSIT)
    await eventually(
        handle, OrderFulfillmentWorkflow.status, lambda s: s.tracking_status == "in_transit"
    )
    assert TRACK_SHIPMENT_ACTIVITY not in world.activities.names()
    await handle.signal(OrderFulfillmentWorkflow.tracking_refresh)  # staff: "check now"
    assert (await asyncio.wait_for(handle.result(), 30)).outcome == "completed"
    assert world.activities.names().count(TRACK_SHIPMENT_ACTIVITY) == 1


async def test_without_news_the_order_is_left_in_transit_at_the_deadline(
    world: FakeWorld,
) -> None:
    request = in_transit(tracking_poll_seconds=3600, max_tracking_polls=24)
    handle = await world.client.start_workflow(
        OrderFulfillmentWorkflow.run,
        request,
        id=f"order-{request.ebay_order_id}",
        task_queue=world.task_queue,
    )
    await eventually(handle, OrderFulfillmentWorkflow.status, lambda s: s.step == "in_transit")
    await world.env.fast_forward(handle, timedelta(hours=24, minutes=1))
    assert (await asyncio.wait_for(handle.result(), 30)).outcome == "in_transit"
    assert TRACK_SHIPMENT_ACTIVITY not in world.activities.names()  # no polling of its own
    timers = [
        e
        for e in (await handle.fetch_history()).events
        if e.event_type == EventType.EVENT_TYPE_TIMER_STARTED
    ]
    assert len(timers) == 1  # one deadline, no poll timer

"""The order's bounded wait for its inspection child: a child stuck on failing workflow tasks is
shown to staff (`attention` in the status, one email) and the order can still be cancelled; a
child that is only slow (nobody inspected yet) is left alone."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable
from typing import Any

import pytest
from temporalio import workflow
from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.service import RPCError
from temporalio.worker import Worker

from activities.health import HealthActivities
from tests.workflows.conftest import record_history
from tests.workflows.fast.conftest import FakeWorld
from tests.workflows.fast.fakes import FakeActivities
from tests.workflows.fast.helpers import eventually, until
from workflows.contracts.email import SEND_EMAIL_ACTIVITY
from workflows.contracts.fulfillment import CancelOrder, FulfillOrder
from workflows.contracts.inspection import (
    INSPECTION_WORKFLOW,
    InspectionInput,
    InspectionOutcome,
    inspection_workflow_id,
)
from workflows.contracts.ops import CHECK_WORKFLOW_HEALTH_ACTIVITY
from workflows.email import EmailWorkflow
from workflows.fulfillment import OrderFulfillmentWorkflow
from workflows.inspection import InspectionWorkflow

pytestmark = pytest.mark.timeout(90)


@workflow.defn(name=INSPECTION_WORKFLOW, sandboxed=False)
class BrokenInspection:
    """Stands for an inspection whose code no longer runs (a bug, nondeterminism): every
    workflow task fails, Temporal retries it forever and the workflow stays Running."""

    @workflow.run
    async def run(self, request: InspectionInput) -> InspectionOutcome:
        raise RuntimeError("the inspection's code is broken")


WATCH = 0.02  # minutes between looks at the child (1.2 s)


async def health_checks(handle: Any) -> int:
    names = [
        e.activity_task_completed_event_attributes.scheduled_event_id
        async for e in handle.fetch_history_events()
        if e.HasField("activity_task_completed_event_attributes")
    ]
    scheduled = {
        e.event_id: e.activity_task_scheduled_event_attributes.activity_type.name
        async for e in handle.fetch_history_events()
        if e.HasField("activity_task_scheduled_event_attributes")
    }
    return sum(scheduled[i] == CHECK_WORKFLOW_HEALTH_ACTIVITY for i in names)


async def watched(handle: Any, ready: Callable[[Any], bool], after: int = 0) -> Any:
    """The status once `ready` holds after more than `after` health checks (a bounded poll)."""
    status = None
    for _ in range(600):
        status = await handle.query(OrderFulfillmentWorkflow.status)
        if ready(status) and await health_checks(handle) > after:
            return status
        await asyncio.sleep(0.1)
    raise AssertionError(f"never reached the expected state: {status}")


def stuck_emails(fakes: FakeActivities) -> list[str]:
    return [e.key for e in fakes.args(SEND_EMAIL_ACTIVITY) if e.template == "workflow_stuck"]


async def test_a_child_stuck_on_failing_tasks_is_shown_to_staff(
    time_skipping_env, settings
) -> None:
    fakes = FakeActivities()
    task_queue = f"watch-{uuid.uuid4().hex[:8]}"
    # plain JSON payloads: the recorded history replays with any payload key
    config = time_skipping_env.client.config()
    client = await Client.connect(
        config["service_client"].config.target_host,
        namespace=config["namespace"],
        data_converter=pydantic_data_converter,
    )
    health = HealthActivities(
        settings.model_copy(update={"workflow_task_alert_attempts": 2}), client
    )
    async with Worker(
        client,
        task_queue=task_queue,
        workflows=[OrderFulfillmentWorkflow, BrokenInspection, EmailWorkflow],
        activities=[*fakes.all(), health.check_workflow_health],
        # Activations inline, without the SDK's 2-second deadlock timer: on a loaded CI box a
        # stalled event loop let it fire first, and the child's task failed as a "potential
        # deadlock" instead of with the broken code's error, which staff must be shown.
        debug_mode=True,
    ):
        ebay_order_id = f"12-{uuid.uuid4().hex[:8]}"
        # real time: a child whose tasks keep failing never lets the virtual clock move on
        with time_skipping_env.with_time_skipping_disabled():
            handle = await client.start_workflow(
                OrderFulfillmentWorkflow.run,
                FulfillOrder(ebay_order_id=ebay_order_id, inspection_watch_minutes=WATCH),
                id=f"order-{ebay_order_id}",
                task_queue=task_queue,
            )
        status = await eventually(
            handle, OrderFulfillmentWorkflow.status, lambda s: s.step == "inspecting"
        )
        child = client.get_workflow_handle(inspection_workflow_id(status.order_id))

        async def child_attempt() -> int:
            try:
                raw = (await child.describe()).raw_description
            except RPCError:  # not started yet
                return 0
            return raw.pending_workflow_task.attempt

        for _ in range(400):  # the first workflow task of the child has failed
            if await child_attempt() >= 2:
                break
            await asyncio.sleep(0.05)
        assert await child_attempt() >= 2
        status = await watched(handle, lambda s: bool(s.attention))
        checks = await health_checks(handle)
        status = await watched(handle, lambda s: bool(s.attention), after=checks)
        assert child.id in status.attention and "workflow task failing" in status.attention
        assert "the inspection's code is broken" in status.attention
        await until(lambda: len(stuck_emails(fakes)) == 1)
        assert stuck_emails(fakes) == [child.id]

        # the order is not held hostage: staff can still cancel it
        await handle.execute_update(
            OrderFulfillmentWorkflow.cancel, CancelOrder(reason="inspection broken")
        )
        result = await handle.result()
        assert result.outcome == "cancelled"
        assert stuck_emails(fakes) == [child.id]
        await record_history(handle, "order_inspection_child_stuck")


async def test_a_slow_inspection_is_watched_but_not_flagged(world: FakeWorld) -> None:
    ebay_order_id = f"12-{uuid.uuid4().hex[:8]}"
    with world.env.with_time_skipping_disabled():
        handle = await world.client.start_workflow(
            OrderFulfillmentWorkflow.run,
            FulfillOrder(ebay_order_id=ebay_order_id, inspection_watch_minutes=WATCH),
            id=f"order-{ebay_order_id}",
            task_queue=world.task_queue,
        )
    status = await eventually(
        handle, OrderFulfillmentWorkflow.status, lambda s: s.step == "inspecting"
    )
    child = world.client.get_workflow_handle(inspection_workflow_id(status.order_id))
    await eventually(child, InspectionWorkflow.status, lambda s: s.step == "awaiting_result")
    # three looks at a healthy child that nobody inspected yet
    status = await watched(handle, lambda s: s.step == "inspecting", after=2)
    assert status.attention == ""
    assert stuck_emails(world.activities) == []

"""ListingWorkflow with fake catalog activities: the approval wait sends a reminder every
`reminder_hours` up to `max_reminders`, and publishes only after staff approve."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from temporalio.api.enums.v1 import EventType

from tests.workflows.fast.conftest import FakeWorld
from tests.workflows.fast.helpers import eventually, until
from workflows.contracts.email import SEND_EMAIL_ACTIVITY
from workflows.contracts.listing import (
    PUBLISH_OFFER_ACTIVITY,
    ListingInput,
    ListingReview,
    listing_workflow_id,
)
from workflows.listing import ListingWorkflow

pytestmark = pytest.mark.timeout(60)


def reminders(world: FakeWorld) -> list[int]:
    return [
        e.data["reminder"]
        for e in world.activities.args(SEND_EMAIL_ACTIVITY)
        if e.template == "listing_approval_reminder"
    ]


async def test_reminders_until_the_cap_then_publish_on_approval(world: FakeWorld) -> None:
    product_id = str(uuid.uuid4())
    handle = await world.client.start_workflow(
        ListingWorkflow.run,
        ListingInput(
            product_id=product_id, staff_email="ops@example.com", reminder_hours=2, max_reminders=2
        ),
        id=listing_workflow_id(product_id),
        task_queue=world.task_queue,
    )
    await eventually(handle, ListingWorkflow.status, lambda s: s.step == "awaiting_approval")
    for expected in (1, 2, 2):  # the third period passes silently: the cap is two
        await world.env.fast_forward(handle, timedelta(hours=2, minutes=1))
        await eventually(handle, ListingWorkflow.status, lambda s: s.reminders_sent == expected)
    await until(lambda: len(reminders(world)) == 2)
    assert reminders(world) == [1, 2]
    await world.env.fast_forward(handle, timedelta(hours=10))
    timers = [
        e
        async for e in handle.fetch_history_events()
        if e.event_type == EventType.EVENT_TYPE_TIMER_STARTED
    ]
    assert len(timers) == 2  # bounded: no timer is kept after the last reminder
    assert world.activities.args(PUBLISH_OFFER_ACTIVITY) == []  # nothing live before approval
    await handle.execute_update(
        ListingWorkflow.review, ListingReview(action="approve", reviewer="s1")
    )
    result = await handle.result()
    assert result.status == "listed" and result.listing_id == "listing-1"
    assert len(world.activities.args(PUBLISH_OFFER_ACTIVITY)) == 1

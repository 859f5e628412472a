"""InspectionWorkflow with fake activities: an escalation email every `escalation_hours` until
the inspector answers, each recorded once."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest

from tests.workflows.fast.conftest import FakeWorld
from tests.workflows.fast.helpers import eventually, until
from workflows.contracts.email import SEND_EMAIL_ACTIVITY
from workflows.contracts.inspection import (
    RECORD_ESCALATION_ACTIVITY,
    InspectionInput,
    InspectionSubmission,
    inspection_workflow_id,
)
from workflows.inspection import InspectionWorkflow

pytestmark = pytest.mark.timeout(60)


async def test_escalates_every_period_until_inspected(world: FakeWorld) -> None:
    order_id = str(uuid.uuid4())
    handle = await world.client.start_workflow(
        InspectionWorkflow.run,
        InspectionInput(order_id=order_id, staff_email="ops@example.com", escalation_hours=2),
        id=inspection_workflow_id(order_id),
        task_queue=world.task_queue,
    )
    await eventually(handle, InspectionWorkflow.status, lambda s: s.step == "awaiting_result")
    assert world.activities.args(RECORD_ESCALATION_ACTIVITY) == []
    for expected in (1, 2):  # each timer starts after the previous escalation went out
        await world.env.fast_forward(handle, timedelta(hours=2, minutes=1))
        await eventually(handle, InspectionWorkflow.status, lambda s: s.escalations == expected)
    await until(lambda: len(world.activities.args(RECORD_ESCALATION_ACTIVITY)) == 2)
    assert [e.count for e in world.activities.args(RECORD_ESCALATION_ACTIVITY)] == [1, 2]
    sent = [e for e in world.activities.args(SEND_EMAIL_ACTIVITY)]
    assert [(e.template, e.to_email, e.data["escalation"]) for e in sent] == [
        ("inspection_escalation", "ops@example.com", 1),
        ("inspection_escalation", "ops@example.com", 2),
    ]
    outcome = await handle.execute_update(
        InspectionWorkflow.submit_result,
        InspectionSubmission(
            answers={"matches_photos": True},
            media_keys=[f"inspection-videos/{order_id}/box.mp4"],
            inspector_id=str(uuid.uuid4()),
        ),
    )
    assert outcome.passed and (await handle.result()).passed
    assert len(world.activities.args(RECORD_ESCALATION_ACTIVITY)) == 2  # none after the answer

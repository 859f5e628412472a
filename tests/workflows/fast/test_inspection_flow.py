"""InspectionWorkflow with fake activities: an escalation email every `escalation_hours` until
the inspector answers, each recorded once."""

from __future__ import annotations

import asyncio
import uuid
from datetime import timedelta

import pytest
from temporalio.client import WorkflowUpdateFailedError, WorkflowUpdateStage

from tests.workflows.fast.conftest import FakeWorld
from tests.workflows.fast.helpers import eventually, until
from workflows.contracts.email import SEND_EMAIL_ACTIVITY
from workflows.contracts.inspection import (
    CHECK_MEDIA_ACTIVITY,
    CHECK_MEDIA_VERSIONS_ACTIVITY,
    CREATE_INSPECTION_ACTIVITY,
    RECORD_ESCALATION_ACTIVITY,
    RECORD_INSPECTION_ACTIVITY,
    InspectionInput,
    InspectionSubmission,
    RequestUpload,
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


async def test_updates_sent_while_the_checklist_is_created_wait_for_it(world: FakeWorld) -> None:
    """Validators read only the input and finality: an update that lands before (or with) the
    `inspection.create` result is accepted, and its handler waits for the checklist."""
    world.activities.hold_create = asyncio.Event()
    order_id = str(uuid.uuid4())
    handle = await world.client.start_workflow(
        InspectionWorkflow.run,
        InspectionInput(order_id=order_id, escalation_hours=24),
        id=inspection_workflow_id(order_id),
        task_queue=world.task_queue,
    )
    await until(lambda: bool(world.activities.args(CREATE_INSPECTION_ACTIVITY)))
    upload = await handle.start_update(
        InspectionWorkflow.request_upload,
        RequestUpload(file_names=["box.mp4"]),
        wait_for_stage=WorkflowUpdateStage.ACCEPTED,
    )
    wrong = await handle.start_update(
        InspectionWorkflow.submit_result,
        InspectionSubmission(
            answers={"not_on_the_list": True},
            media_keys=[f"inspection-videos/{order_id}/box.mp4"],
            inspector_id=str(uuid.uuid4()),
        ),
        wait_for_stage=WorkflowUpdateStage.ACCEPTED,
    )
    world.activities.hold_create.set()
    await upload.result()
    with pytest.raises(WorkflowUpdateFailedError) as failed:
        await wrong.result()
    assert "checklist items not answered" in str(failed.value.cause)
    outcome = await handle.execute_update(
        InspectionWorkflow.submit_result,
        InspectionSubmission(
            answers={"matches_photos": True},
            media_keys=[f"inspection-videos/{order_id}/box.mp4"],
            inspector_id=str(uuid.uuid4()),
        ),
    )
    assert outcome.passed and (await handle.result()).passed


async def test_a_media_key_leaving_the_folder_is_refused_before_acceptance(
    world: FakeWorld,
) -> None:
    order_id = str(uuid.uuid4())
    handle = await world.client.start_workflow(
        InspectionWorkflow.run,
        InspectionInput(order_id=order_id),
        id=inspection_workflow_id(order_id),
        task_queue=world.task_queue,
    )
    await eventually(handle, InspectionWorkflow.status, lambda s: s.step == "awaiting_result")
    with pytest.raises(WorkflowUpdateFailedError) as failed:
        await handle.execute_update(
            InspectionWorkflow.submit_result,
            InspectionSubmission(
                answers={"matches_photos": True},
                media_keys=[f"inspection-videos/{order_id}/../other/box.mp4"],
                inspector_id=str(uuid.uuid4()),
            ),
        )
    assert "plain file paths" in str(failed.value.cause)
    assert world.activities.args(CHECK_MEDIA_ACTIVITY) == []  # never reached the store
    await handle.terminate("test over")


@pytest.mark.parametrize("versions_at_check", [True, False])
async def test_the_verdict_records_the_versions_the_media_check_saw(
    world: FakeWorld, versions_at_check: bool
) -> None:
    """Started as orders start it today, one look at S3 answers presence and versions, and the
    verdict records those; the inspections started before still check, then read them."""
    order_id = str(uuid.uuid4())
    handle = await world.client.start_workflow(
        InspectionWorkflow.run,
        InspectionInput(order_id=order_id, versions_at_check=versions_at_check),
        id=inspection_workflow_id(order_id),
        task_queue=world.task_queue,
    )
    key = f"inspection-videos/{order_id}/box.mp4"
    await handle.execute_update(
        InspectionWorkflow.submit_result,
        InspectionSubmission(
            answers={"matches_photos": True}, media_keys=[key], inspector_id=str(uuid.uuid4())
        ),
    )
    assert (await handle.result()).passed
    new, old = CHECK_MEDIA_VERSIONS_ACTIVITY, CHECK_MEDIA_ACTIVITY
    checked = world.activities.args(new if versions_at_check else old)
    assert [c.keys for c in checked] == [[key]]
    assert world.activities.args(old if versions_at_check else new) == []
    (recorded,) = world.activities.args(RECORD_INSPECTION_ACTIVITY)
    assert recorded.media_versions == ({key: f"v-{key}"} if versions_at_check else {})

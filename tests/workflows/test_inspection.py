"""InspectionWorkflow end to end: real worker, real S3 (SeaweedFS) by presigned URLs, the SendGrid
emulator for escalations, real database."""

from __future__ import annotations

import asyncio
import uuid
from datetime import timedelta

import httpx
import pytest
from sqlmodel import select
from temporalio.client import WorkflowUpdateFailedError

from adapters.s3 import Storage
from tests.uploads import apost_upload
from tests.workflows.conftest import record_history
from workflows.contracts.email import email_workflow_id
from workflows.contracts.inspection import (
    InspectionInput,
    InspectionOutcome,
    InspectionStatus,
    InspectionSubmission,
    RequestUpload,
    UploadTarget,
    inspection_workflow_id,
)
from workflows.inspection import InspectionWorkflow

pytestmark = pytest.mark.timeout(90)


def make_order(settings, condition: str = "used_good", category: str = "camera") -> tuple[str, str]:
    """An order row (as the order sync stores it) for one product of ours; (order id, sku)."""
    from models import Order, Product
    from models.db import session_scope

    sku = f"INS-{uuid.uuid4().hex[:8]}"
    with session_scope(settings) as session:
        session.add(
            Product(
                sku=sku,
                title_ja="カメラ",
                price_jpy=30000,
                condition=condition,
                category_hint=category,
            )
        )
        order = Order(
            ebay_order_id=f"99-{uuid.uuid4().hex[:10]}",
            buyer_email="buyer@example.com",
            ship_to={"full_name": "Pat Buyer", "country_code": "US"},
            line_items=[{"line_item_id": "1", "sku": sku, "quantity": 1, "value": "200.00"}],
        )
        session.add(order)
        session.flush()
        return str(order.id), sku


def make_inspector(settings) -> str:
    from models import Role, User
    from models.db import session_scope

    with session_scope(settings) as session:
        user = User(
            email=f"insp-{uuid.uuid4().hex[:8]}@theworlddoor.example",
            role=Role.inspector,
            password_hash="x",
        )
        session.add(user)
        session.flush()
        return str(user.id)


def inspection_row(settings, order_id: str):
    from models import Inspection
    from models.db import session_scope

    with session_scope(settings) as session:
        return session.exec(
            select(Inspection).where(Inspection.order_id == uuid.UUID(order_id))
        ).one()


async def wait_step(handle, step: str) -> InspectionStatus:
    for _ in range(200):
        status = await handle.query(InspectionWorkflow.status)
        if status.step == step:
            return status
        await asyncio.sleep(0.05)
    raise AssertionError(f"workflow never reached {step}: {status}")


async def upload_media(handle, names: list[str]) -> list[str]:
    """Presigned POST forms from the workflow, then real bytes POSTed to S3 as a browser does."""
    request = RequestUpload(file_names=names, content_type="video/mp4")
    targets: list[UploadTarget] = await handle.execute_update(
        InspectionWorkflow.request_upload, request
    )
    for target in targets:
        answer = await apost_upload(target.model_dump(), b"\x00\x00\x00\x18ftypmp42" + b"\x00" * 64)
        answer.raise_for_status()
    return [t.key for t in targets]


@pytest.fixture(scope="module")
def bucket(settings, sandbox):
    from adapters.s3 import Storage

    Storage(settings).ensure_bucket()


async def test_inspection_passes_through_validated_update(worker, settings, bucket) -> None:
    order_id, _ = make_order(settings)
    inspector = make_inspector(settings)
    handle = await worker.client.start_workflow(
        InspectionWorkflow.run,
        InspectionInput(order_id=order_id, ebay_order_id="99-x"),
        id=inspection_workflow_id(order_id),
        task_queue=worker.task_queue,
    )
    status = await wait_step(handle, "awaiting_result")
    keys = [item.key for item in status.checklist]
    assert {"matches_photos", "condition_as_described", "functions", "packaging_safe"} <= set(keys)
    assert "accessories_complete" in keys and "sealed_unused" not in keys  # a used camera

    # The validator checks the input's shape (foreign keys, a non-user inspector); the handler
    # checks the answers against the checklist once it is known.
    with pytest.raises(WorkflowUpdateFailedError) as err:
        await handle.execute_update(
            InspectionWorkflow.submit_result,
            InspectionSubmission(
                answers={"matches_photos": True}, media_keys=["x"], inspector_id=inspector
            ),
        )
    assert "plain file paths" in str(err.value.cause)
    with pytest.raises(WorkflowUpdateFailedError) as err:
        await handle.execute_update(
            InspectionWorkflow.submit_result,
            InspectionSubmission(
                answers={"matches_photos": True},
                media_keys=[f"inspection-videos/{order_id}/x.mp4"],
                inspector_id=inspector,
            ),
        )
    assert "not answered" in str(err.value.cause)
    all_yes = dict.fromkeys(keys, True)
    with pytest.raises(WorkflowUpdateFailedError) as err:
        await handle.execute_update(
            InspectionWorkflow.submit_result,
            InspectionSubmission(
                answers=all_yes,
                media_keys=["inspection-videos/other/a.mp4"],
                inspector_id=inspector,
            ),
        )
    assert "plain file paths under" in str(err.value.cause)

    # The S3 check runs in an activity: a key under our prefix that was never uploaded is refused.
    missing = f"inspection-videos/{order_id}/never.mp4"
    with pytest.raises(WorkflowUpdateFailedError) as err:
        await handle.execute_update(
            InspectionWorkflow.submit_result,
            InspectionSubmission(answers=all_yes, media_keys=[missing], inspector_id=inspector),
        )
    assert "was not uploaded" in str(err.value.cause)

    media = await upload_media(handle, ["unbox video.mp4"])
    assert media == [f"inspection-videos/{order_id}/unbox-video.mp4"]
    outcome = await handle.execute_update(
        InspectionWorkflow.submit_result,
        InspectionSubmission(
            answers=all_yes, media_keys=media, inspector_id=inspector, notes="mint"
        ),
    )
    assert outcome.passed and outcome.inspector_id == inspector
    result = await handle.result()
    assert result == InspectionOutcome(
        order_id=order_id, passed=True, notes="mint", inspector_id=inspector, media_keys=media
    )
    row = inspection_row(settings, order_id)
    assert row.result == "passed" and str(row.inspector_id) == inspector
    assert row.media_keys == media and row.answers == all_yes and row.completed_at is not None
    # The evidence is the recorded version: a later write to the key does not replace it.
    storage = Storage(settings)
    assert row.media_versions == {media[0]: storage.version_id(media[0])}
    storage.put_bytes(media[0], b"overwritten", "video/mp4")
    kept = storage.presign_get(media[0], version_id=row.media_versions[media[0]])
    async with httpx.AsyncClient() as http:
        assert (await http.get(kept)).content.startswith(b"\x00\x00\x00\x18ftypmp42")
    # A second submission after the verdict is refused.
    assert (await handle.query(InspectionWorkflow.status)).result == "passed"
    await record_history(handle, "inspection_passed")


async def test_escalation_emails_repeat_until_inspected(
    ts_worker, time_skipping_env, settings, sandbox, bucket
) -> None:
    order_id, _ = make_order(settings, condition="new", category="toy")
    inspector = make_inspector(settings)
    staff = "ops-team@theworlddoor.example"
    handle = await ts_worker.client.start_workflow(
        InspectionWorkflow.run,
        InspectionInput(
            order_id=order_id, ebay_order_id="99-y", staff_email=staff, escalation_hours=2
        ),
        id=inspection_workflow_id(order_id),
        task_queue=ts_worker.task_queue,
    )
    status = await wait_step(handle, "awaiting_result")
    assert "sealed_unused" in [c.key for c in status.checklist]
    for expected in (1, 2):  # each timer is set after the previous escalation went out
        await time_skipping_env.fast_forward(handle, timedelta(hours=2, minutes=1))
        for _ in range(200):
            status = await handle.query(InspectionWorkflow.status)
            if status.escalations >= expected:
                break
            await asyncio.sleep(0.05)
        assert status.escalations == expected
    ledger = sandbox.ctx.ledger
    for n in (1, 2):
        key = email_workflow_id("inspection_escalation", f"{order_id}-{n}")
        for _ in range(100):
            if ledger.count("sendgrid", "email_accepted", key):
                break
            await asyncio.sleep(0.05)
        assert ledger.count("sendgrid", "email_accepted", key) == 1
    assert (
        ledger.count(
            "sendgrid",
            "email_accepted",
            email_workflow_id("inspection_escalation", f"{order_id}-3"),
        )
        == 0
    )

    media = await upload_media(handle, ["box.mp4"])
    answers = {c.key: c.key != "sealed_unused" for c in status.checklist}
    with pytest.raises(WorkflowUpdateFailedError) as err:  # a failure needs notes
        await handle.execute_update(
            InspectionWorkflow.submit_result,
            InspectionSubmission(answers=answers, media_keys=media, inspector_id=inspector),
        )
    assert "needs notes" in str(err.value.cause)
    outcome = await handle.execute_update(
        InspectionWorkflow.submit_result,
        InspectionSubmission(
            answers=answers, media_keys=media, inspector_id=inspector, notes="box opened"
        ),
    )
    assert not outcome.passed
    assert not (await handle.result()).passed
    row = inspection_row(settings, order_id)
    assert row.result == "failed" and row.escalations == 2 and row.notes == "box opened"
    await record_history(handle, "inspection_escalated")

"""OrderFulfillmentWorkflow with fake activities: the saga's compensations run in reverse order
(refund, apology, stock back), and staff may cancel only until the label stage."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from temporalio.client import WorkflowUpdateFailedError

from domain.stock import RefundTiming, UnitDisposition
from tests.workflows.fast.conftest import FakeWorld
from tests.workflows.fast.helpers import eventually, until
from workflows.contracts.email import SEND_EMAIL_ACTIVITY
from workflows.contracts.fulfillment import (
    DISPOSE_UNITS_ACTIVITY,
    REFUND_ORDER_ACTIVITY,
    RESTORE_STOCK_ACTIVITY,
    SET_ORDER_STATUS_ACTIVITY,
    CancelOrder,
    FailedInspectionDecision,
    FulfillOrder,
)
from workflows.contracts.inspection import InspectionSubmission, inspection_workflow_id
from workflows.contracts.label import BUY_LABEL_ACTIVITY, TrackingSnapshot, label_workflow_id
from workflows.fulfillment import OrderFulfillmentWorkflow
from workflows.inspection import InspectionWorkflow
from workflows.label import LabelWorkflow

pytestmark = pytest.mark.timeout(60)


INSPECTOR = str(uuid.uuid4())


def submission(order_id: str, passed: bool) -> InspectionSubmission:
    return InspectionSubmission(
        answers={"matches_photos": passed},
        media_keys=[f"inspection-videos/{order_id}/box.mp4"],
        inspector_id=INSPECTOR,
        notes="" if passed else "scratched",
    )


async def start(world: FakeWorld, **options: object):
    ebay_order_id = f"12-{uuid.uuid4().hex[:8]}"
    return ebay_order_id, await world.client.start_workflow(
        OrderFulfillmentWorkflow.run,
        FulfillOrder(ebay_order_id=ebay_order_id, **options),
        id=f"order-{ebay_order_id}",
        task_queue=world.task_queue,
    )


def saga_steps(world: FakeWorld) -> list[str]:
    """The compensation calls in order: refund, each email template sent, stock back, status."""
    steps = []
    for call in world.activities.calls:
        if call.name == SEND_EMAIL_ACTIVITY:
            steps.append(f"email:{call.arg.template}")
        elif call.name in (REFUND_ORDER_ACTIVITY, RESTORE_STOCK_ACTIVITY, DISPOSE_UNITS_ACTIVITY):
            steps.append(call.name)
        elif call.name == SET_ORDER_STATUS_ACTIVITY:
            steps.append(f"status:{call.arg.status}")
    return steps


async def fail_inspection(world: FakeWorld, **options: object):
    ebay_order_id, handle = await start(world, **options)
    await eventually(handle, OrderFulfillmentWorkflow.status, lambda s: s.step == "inspecting")
    status = await handle.query(OrderFulfillmentWorkflow.status)
    inspection = world.client.get_workflow_handle(inspection_workflow_id(status.order_id))
    await eventually(inspection, InspectionWorkflow.status, lambda s: s.step == "awaiting_result")
    await inspection.execute_update(
        InspectionWorkflow.submit_result,
        submission(status.order_id, passed=False),
    )
    return ebay_order_id, handle


async def test_failed_inspection_compensates_in_reverse(world: FakeWorld) -> None:
    """Nobody decides: after the decision window the defaults apply (refund now, unit written
    off, never back on sale)."""
    ebay_order_id, handle = await fail_inspection(world)
    result = await handle.result()
    assert result.outcome == "refunded"
    await until(lambda: "email:order_cancelled" in saga_steps(world))
    assert saga_steps(world) == [
        "email:order_confirmation",
        "status:inspecting",
        REFUND_ORDER_ACTIVITY,
        "email:order_cancelled",
        DISPOSE_UNITS_ACTIVITY,
        "status:refunded",
    ]
    assert world.activities.args(DISPOSE_UNITS_ACTIVITY)[0].disposition == "write_off"
    assert world.activities.args(RESTORE_STOCK_ACTIVITY) == []
    refund = world.activities.args(REFUND_ORDER_ACTIVITY)[0]
    assert refund.amount == "200.00" and "scratched" in refund.comment
    assert world.activities.args(BUY_LABEL_ACTIVITY) == []  # nothing shipped
    final = await handle.query(OrderFulfillmentWorkflow.status)
    assert final.step == "refunded" and final.compensation and final.compensation.done
    assert final.decision and final.decision.decided_by == "default"
    assert ebay_order_id == result.ebay_order_id


async def test_staff_contact_the_buyer_then_refund_and_restock(world: FakeWorld) -> None:
    _, handle = await fail_inspection(world)
    await eventually(
        handle, OrderFulfillmentWorkflow.status, lambda s: s.step == "awaiting_decision"
    )
    assert REFUND_ORDER_ACTIVITY not in saga_steps(world)  # nothing happens before a decision
    with pytest.raises(ValueError):  # relisting needs the new condition
        FailedInspectionDecision(unit=UnitDisposition.relist)
    await handle.execute_update(
        OrderFulfillmentWorkflow.decide_failed_inspection,
        FailedInspectionDecision(refund=RefundTiming.contact_buyer, staff_id="s1"),
    )
    await eventually(
        handle, OrderFulfillmentWorkflow.status, lambda s: s.step == "contacting_buyer"
    )
    await until(lambda: "email:inspection_issue" in saga_steps(world))
    with pytest.raises(WorkflowUpdateFailedError):  # the next decision can only be refund now
        await handle.execute_update(
            OrderFulfillmentWorkflow.decide_failed_inspection,
            FailedInspectionDecision(refund=RefundTiming.contact_buyer),
        )
    await handle.execute_update(
        OrderFulfillmentWorkflow.decide_failed_inspection,
        FailedInspectionDecision(refund=RefundTiming.now, unit=UnitDisposition.restock),
    )
    assert (await handle.result()).outcome == "refunded"
    assert saga_steps(world)[-4:] == [
        REFUND_ORDER_ACTIVITY,
        "email:order_cancelled",
        DISPOSE_UNITS_ACTIVITY,
        "status:refunded",
    ]
    assert world.activities.args(DISPOSE_UNITS_ACTIVITY)[0].disposition == "restock"
    final = await handle.query(OrderFulfillmentWorkflow.status)
    assert final.decision and final.decision.buyer_contacted and final.decision.unit == "restock"


async def test_after_buyer_contact_the_refund_goes_out_when_the_window_ends(
    world: FakeWorld,
) -> None:
    _, handle = await fail_inspection(world)
    await eventually(
        handle, OrderFulfillmentWorkflow.status, lambda s: s.step == "awaiting_decision"
    )
    await handle.execute_update(
        OrderFulfillmentWorkflow.decide_failed_inspection,
        FailedInspectionDecision(
            refund=RefundTiming.contact_buyer, unit=UnitDisposition.relist, condition="for_parts"
        ),
    )
    assert (await handle.result()).outcome == "refunded"  # time skips past the contact window
    dispose = world.activities.args(DISPOSE_UNITS_ACTIVITY)[0]
    assert dispose.disposition == "relist" and dispose.condition == "for_parts"
    assert REFUND_ORDER_ACTIVITY in saga_steps(world)


async def test_no_decision_is_accepted_while_nothing_failed(world: FakeWorld) -> None:
    _, handle = await start(world)
    await eventually(handle, OrderFulfillmentWorkflow.status, lambda s: s.step == "inspecting")
    with pytest.raises(WorkflowUpdateFailedError):
        await handle.execute_update(
            OrderFulfillmentWorkflow.decide_failed_inspection, FailedInspectionDecision()
        )


async def test_cancel_is_accepted_while_inspecting(world: FakeWorld) -> None:
    _, handle = await start(world)
    await eventually(handle, OrderFulfillmentWorkflow.status, lambda s: s.step == "inspecting")
    with pytest.raises(WorkflowUpdateFailedError):  # a reason is required
        await handle.execute_update(OrderFulfillmentWorkflow.cancel, CancelOrder(reason=" "))
    await handle.execute_update(
        OrderFulfillmentWorkflow.cancel, CancelOrder(reason="buyer asked", staff_id="s1")
    )
    result = await handle.result()
    assert result.outcome == "cancelled"
    await until(lambda: "email:order_cancelled" in saga_steps(world))
    assert saga_steps(world)[-4:] == [
        REFUND_ORDER_ACTIVITY,
        "email:order_cancelled",
        RESTORE_STOCK_ACTIVITY,
        "status:cancelled",
    ]


async def test_cancel_is_refused_once_the_label_stage_started(world: FakeWorld) -> None:
    _, handle = await start(world, rate_choice_seconds=3600)
    await eventually(handle, OrderFulfillmentWorkflow.status, lambda s: s.step == "inspecting")
    status = await handle.query(OrderFulfillmentWorkflow.status)
    inspection = world.client.get_workflow_handle(inspection_workflow_id(status.order_id))
    await eventually(inspection, InspectionWorkflow.status, lambda s: s.step == "awaiting_result")
    await inspection.execute_update(
        InspectionWorkflow.submit_result,
        submission(status.order_id, passed=True),
    )
    status = await eventually(
        handle, OrderFulfillmentWorkflow.status, lambda s: bool(s.shipment_id)
    )
    label = world.client.get_workflow_handle(label_workflow_id(status.shipment_id))
    await eventually(label, LabelWorkflow.status, lambda s: s.step == "choosing")
    with pytest.raises(WorkflowUpdateFailedError) as refused:
        await handle.execute_update(OrderFulfillmentWorkflow.cancel, CancelOrder(reason="late"))
    assert "too late to cancel" in str(refused.value.cause)
    # the tracker's news, kept until the order reaches the tracking stage
    await handle.signal(
        OrderFulfillmentWorkflow.tracking_refresh,
        TrackingSnapshot(status="delivered", delivered=True),
    )
    await world.env.fast_forward(label, timedelta(hours=1, minutes=1))
    result = await handle.result()
    assert result.outcome == "completed"
    assert world.activities.args(REFUND_ORDER_ACTIVITY) == []

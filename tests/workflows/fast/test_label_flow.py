"""LabelWorkflow's rate-choice window with fake shipping activities: staff override the policy
inside the window; without a choice the policy's quote is bought when the window closes."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from temporalio.client import WorkflowUpdateFailedError

from tests.workflows.fast.conftest import FakeWorld
from tests.workflows.fast.helpers import eventually
from workflows.contracts.label import (
    BUY_LABEL_ACTIVITY,
    CHOOSE_RATE_SIGNAL,
    ChooseRate,
    LabelInput,
)
from workflows.label import LabelWorkflow

pytestmark = pytest.mark.timeout(60)


async def start(world: FakeWorld, window_seconds: float):
    shipment_id = f"ship-{uuid.uuid4().hex[:8]}"
    return await world.client.start_workflow(
        LabelWorkflow.run,
        LabelInput(shipment_id=shipment_id, rate_choice_seconds=window_seconds),
        id=f"label-{shipment_id}",
        task_queue=world.task_queue,
    )


async def test_staff_choice_inside_the_window_is_bought(world: FakeWorld) -> None:
    handle = await start(world, window_seconds=3600)
    status = await eventually(handle, LabelWorkflow.status, lambda s: s.step == "choosing")
    assert status.chosen is not None and status.chosen.service == "INTERNATIONAL_ECONOMY"
    with pytest.raises(WorkflowUpdateFailedError):  # only quoted services can be chosen
        await handle.execute_update(
            LabelWorkflow.choose_rate, ChooseRate(carrier="yamato", service="TA-Q-BIN")
        )
    await handle.execute_update(
        LabelWorkflow.choose_rate,
        ChooseRate(carrier="fedex", service="INTERNATIONAL_PRIORITY", staff_id="s1"),
    )
    result = await handle.result()
    assert result.service == "INTERNATIONAL_PRIORITY"
    assert [b.service for b in world.activities.args(BUY_LABEL_ACTIVITY)] == [
        "INTERNATIONAL_PRIORITY"
    ]
    assert (await handle.query(LabelWorkflow.status)).step == "label_ready"


async def test_policy_quote_is_bought_when_the_window_closes(world: FakeWorld) -> None:
    handle = await start(world, window_seconds=3600)
    await eventually(handle, LabelWorkflow.status, lambda s: s.step == "choosing")
    assert world.activities.args(BUY_LABEL_ACTIVITY) == []  # nothing bought inside the window
    await world.env.fast_forward(handle, timedelta(hours=1, minutes=1))
    result = await handle.result()
    assert result.service == "INTERNATIONAL_ECONOMY"  # cheapest within 7 days
    assert [b.service for b in world.activities.args(BUY_LABEL_ACTIVITY)] == [
        "INTERNATIONAL_ECONOMY"
    ]


async def test_staff_choice_by_signal_is_answered_in_the_status(world: FakeWorld) -> None:
    """The API's way (`request_rate_choice`): each answer in the status, by request id; a
    refused choice changes nothing (nothing bought while the window stays open), the accepted one
    is bought."""
    handle = await start(world, window_seconds=3600)
    await eventually(handle, LabelWorkflow.status, lambda s: s.step == "choosing")

    async def choose(carrier: str, service: str, request_id: str):
        await handle.signal(
            CHOOSE_RATE_SIGNAL, ChooseRate(carrier=carrier, service=service, request_id=request_id)
        )
        status = await eventually(
            handle,
            LabelWorkflow.status,
            lambda s: any(a.request_id == request_id for a in s.answers),
        )
        return status, next(a for a in status.answers if a.request_id == request_id)

    status, refused = await choose("yamato", "TA-Q-BIN", "c1")
    assert not refused.accepted and "was not quoted" in refused.reason
    assert status.step == "choosing" and not status.staff_chose
    await world.env.fast_forward(handle, timedelta(minutes=1))  # nothing bought meanwhile
    assert world.activities.args(BUY_LABEL_ACTIVITY) == []
    _, accepted = await choose("fedex", "INTERNATIONAL_PRIORITY", "c2")
    assert accepted.accepted
    result = await handle.result()
    assert result.service == "INTERNATIONAL_PRIORITY"
    assert [b.service for b in world.activities.args(BUY_LABEL_ACTIVITY)] == [
        "INTERNATIONAL_PRIORITY"
    ]


async def test_a_choice_sent_before_the_quotes_is_checked_when_the_window_opens(
    world: FakeWorld,
) -> None:
    """A status query can show the window open before the task with the quotes ran; a choice
    that comes while `quoting` is kept and checked against the quotes when the window opens
    (here sent with the start, the earliest it can come)."""
    shipment_id = f"ship-{uuid.uuid4().hex[:8]}"
    choice = ChooseRate(carrier="fedex", service="INTERNATIONAL_PRIORITY", request_id="early")
    handle = await world.client.start_workflow(
        LabelWorkflow.run,
        LabelInput(shipment_id=shipment_id, rate_choice_seconds=3600),
        id=f"label-{shipment_id}",
        task_queue=world.task_queue,
        start_signal=CHOOSE_RATE_SIGNAL,
        start_signal_args=[choice],
    )
    result = await handle.result()  # no fast-forward: the window closed on the staff's choice
    assert result.service == "INTERNATIONAL_PRIORITY"
    status = await handle.query(LabelWorkflow.status)
    assert [(a.request_id, a.accepted) for a in status.answers] == [("early", True)]

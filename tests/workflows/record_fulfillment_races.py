"""Record OrderFulfillmentWorkflow histories where a staff command races a worker kill (by hand).

    .venv/bin/python -m tests.workflows.record_fulfillment_races SCENARIO [PORT]

A workflow-only worker runs in a child process that is frozen (SIGSTOP) while it holds the
workflow task of an activity result, then SIGKILLed; the activities and the children's stubs run
here. While it is frozen, staff send a command; the task times out (start-to-close) and a new
worker gets the activity result and the command in one workflow task. Scenarios:

- `cancel_update`: `cancel` sent as the old update, beside the result of `orders.record`. The
  main coroutine schedules commands in that task (the confirmation email, or the saga's refund);
  when the SDK hands the update over in another activation than on the first run, the accept and
  those commands swap on replay: TMPRL1100.
- `cancel_signal`: the same kill with the `request_cancel` signal: the signal is a history event
  before the task, replayed in the same activation: written to
  tests/histories/order_cancel_signal_after_wft_timeout.json and replayed.
- `refused_cancel`: the signal arrives after the label stage started (too late): refused,
  nothing changes; written to tests/histories/order_cancel_signal_refused.json.
- `decision_ahead` (with RACE_INSPECTION=fail): staff decide while the failing inspection still
  runs, as when a status query ran ahead of the task with the result; written to
  tests/histories/order_decision_ahead_of_inspection_result.json.
- `query_split`: a fresh worker answers a status query before it gets the task with a result
  and then a cancel signal (a probe of how the SDK splits a task's events; /tmp only).

`cancel_update` writes the real history to tests/histories/order_cancel_update_after_wft_timeout
.json (it replays: the accept came first in both runs); the pinned broken one is that history
with the accept moved behind the main coroutine's StartChildWorkflow, as the inspection's run
wrote it. RACE_GATE=inspecting holds the `orders.set_status` of `inspecting` instead of
`orders.record`; RACE_AT=start freezes the worker on the run's first task.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import uuid
from datetime import timedelta
from pathlib import Path

from temporalio import activity, workflow
from temporalio.api.enums.v1 import EventType
from temporalio.client import Client, WorkflowHandle, WorkflowUpdateStage
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.worker import Replayer, Worker

from tests.workflows.race_recording import kill, spawn_worker, start_dev_server
from workflows import all_workflows
from workflows.contracts.email import EmailResult, SendEmail
from workflows.contracts.fulfillment import (
    CANCEL_SIGNAL,
    CANCEL_UPDATE,
    FAILED_INSPECTION_DECISION_SIGNAL,
    CancelOrder,
    DisposedUnits,
    DisposeUnits,
    FailedInspectionDecision,
    FulfillmentStatus,
    FulfillOrder,
    OrderLine,
    OrderRecord,
    RecordOrder,
    RefundOrder,
    RestoredStock,
    RestoreStock,
    SetOrderStatus,
)
from workflows.contracts.inspection import InspectionInput, InspectionOutcome
from workflows.contracts.label import (
    EnsureShipment,
    LabelInput,
    LabelResult,
    ShipmentRef,
)
from workflows.fulfillment import OrderFulfillmentWorkflow

HISTORIES = Path(__file__).parent.parent / "histories"
GATE = asyncio.Event()
HELD = asyncio.Event()
SCENARIO = os.environ.get("RACE_SCENARIO", "cancel_update")
GATE_ON = os.environ.get("RACE_GATE", "record")  # or an order status: `inspecting`


@workflow.defn(name="EmailWorkflow", sandboxed=False)
class StubEmail:
    @workflow.run
    async def run(self, email: SendEmail) -> EmailResult:
        return EmailResult(status="sent")


@workflow.defn(name="InspectionWorkflow", sandboxed=False)
class StubInspection:
    @workflow.run
    async def run(self, request: InspectionInput) -> InspectionOutcome:
        if os.environ.get("RACE_INSPECTION") == "fail":  # `decision_ahead`
            await workflow.sleep(4)
            return InspectionOutcome(order_id=request.order_id, passed=False, notes="dented")
        await workflow.sleep(2)
        return InspectionOutcome(order_id=request.order_id, passed=True)


@workflow.defn(name="LabelWorkflow", sandboxed=False)
class StubLabel:
    @workflow.run
    async def run(self, request: LabelInput) -> LabelResult:
        await workflow.sleep(30)  # the label stage: time for a (too late) cancel
        return LabelResult(
            shipment_id=request.shipment_id, carrier="fedex", service="x", tracking_number="1"
        )


@activity.defn(name="orders.record")
async def record_order(request: RecordOrder) -> OrderRecord:
    if (
        SCENARIO in ("cancel_update", "cancel_signal", "query_split")
        and GATE_ON == "record"
        and not GATE.is_set()
    ):
        HELD.set()
        await GATE.wait()
    return OrderRecord(
        order_id=str(uuid.uuid4()),
        ebay_order_id=request.ebay_order_id,
        buyer_email="pat@example.com",
        lines=[OrderLine(line_item_id="l1", sku="S1", quantity=1, title="watch")],
        total_value="10.00",
    )


@activity.defn(name="orders.set_status")
async def set_status(request: SetOrderStatus) -> None:
    if request.status == "labelling":
        HELD.set()
    if request.status == GATE_ON and not GATE.is_set():
        HELD.set()
        await GATE.wait()


@activity.defn(name="orders.refund")
async def refund(request: RefundOrder) -> str:
    return "refund-1"


@activity.defn(name="orders.restore_stock")
async def restore_stock(request: RestoreStock) -> RestoredStock:
    return RestoredStock()


@activity.defn(name="orders.dispose_units")
async def dispose_units(request: DisposeUnits) -> DisposedUnits:
    return DisposedUnits(disposition=request.disposition)


@activity.defn(name="shipping.ensure_shipment")
async def ensure_shipment(request: EnsureShipment) -> ShipmentRef:
    return ShipmentRef(shipment_id=str(uuid.uuid4()), domestic=False)


ACTIVITIES = [record_order, set_status, refund, restore_stock, dispose_units, ensure_shipment]
STUBS = [StubEmail, StubInspection, StubLabel]


async def run_worker(address: str, task_queue: str) -> None:
    client = await Client.connect(address, data_converter=pydantic_data_converter)
    worker = Worker(client, task_queue=task_queue, workflows=[OrderFulfillmentWorkflow, *STUBS])
    await worker.run()


def spawn(address: str, task_queue: str) -> subprocess.Popen[bytes]:
    return spawn_worker("tests.workflows.record_fulfillment_races", address, task_queue)


async def send_cancel(handle: WorkflowHandle, scenario: str) -> None:
    request = CancelOrder(reason="buyer asked", staff_id="s1", request_id=f"r-{scenario}")
    if scenario == "cancel_update":
        await handle.start_update(
            CANCEL_UPDATE,
            request,
            wait_for_stage=WorkflowUpdateStage.ACCEPTED,
            result_type=FulfillmentStatus,
        )
    else:
        await handle.signal(CANCEL_SIGNAL, request)


async def record(scenario: str, port: int) -> None:
    env = await start_dev_server(port)
    address = f"127.0.0.1:{port}"
    async with env:
        client = env.client
        task_queue = f"races-{uuid.uuid4().hex[:6]}"
        ebay_order_id = f"race-{uuid.uuid4().hex[:6]}"
        async with Worker(client, task_queue=task_queue, activities=ACTIVITIES):
            first = spawn(address, task_queue)
            at_start = os.environ.get("RACE_AT") == "start"
            if at_start:  # the worker holds the run's first task (frozen), then is killed
                await asyncio.sleep(3)
                os.kill(first.pid, signal.SIGSTOP)
                GATE.set()
            handle = await client.start_workflow(
                OrderFulfillmentWorkflow.run,
                FulfillOrder(ebay_order_id=ebay_order_id),
                id=f"order-{ebay_order_id}",
                task_queue=task_queue,
                task_timeout=timedelta(seconds=3),
            )
            if not at_start and scenario != "decision_ahead":
                await HELD.wait()  # `orders.record` is held (or the label stage started)
            if scenario == "decision_ahead":
                # staff decide while the (failing) inspection is still running: a status query
                # can show `awaiting_decision` before the task with the result ran (chaos run)
                second = first
                for _ in range(100):
                    if (await handle.query(OrderFulfillmentWorkflow.status)).step == "inspecting":
                        break
                    await asyncio.sleep(0.1)
                await handle.signal(
                    FAILED_INSPECTION_DECISION_SIGNAL,
                    FailedInspectionDecision(refund="now", unit="restock", request_id="ahead"),
                )
            elif scenario == "query_split":
                # the worker dies holding the workflow in its cache; the result comes; a fresh
                # worker answers a status query (replaying the history, result included), then
                # the signal comes, then the fresh worker gets the workflow task
                kill(first)
                GATE.set()
                await asyncio.sleep(1)
                second = spawn(address, task_queue)
                await asyncio.sleep(2)
                seen = await handle.query(OrderFulfillmentWorkflow.status)
                print("query saw:", seen.step)
                await send_cancel(handle, "cancel_signal")
            elif scenario == "refused_cancel":
                await send_cancel(handle, scenario)
                await asyncio.sleep(2)
                second = first
            else:
                if not at_start:
                    os.kill(first.pid, signal.SIGSTOP)  # its poll stays open: it gets the task
                    GATE.set()
                await asyncio.sleep(1)
                sent = asyncio.create_task(send_cancel(handle, scenario))
                await asyncio.sleep(4)  # the frozen worker's task times out
                kill(first)
                second = spawn(address, task_queue)
                await asyncio.wait_for(sent, 60)
            try:
                status = await _settled(handle, answered=scenario == "refused_cancel")
                print("status:", status.model_dump_json())
                if status.step not in ("cancelled", "refunded"):
                    await handle.terminate("recorded")
            finally:
                kill(second)
        history = await handle.fetch_history()
    for event in history.events:
        print(event.event_id, EventType.Name(event.event_type))
    if scenario == "cancel_update":
        path = HISTORIES / "pre_patch" / "order_cancel_update_after_wft_timeout.json"
    elif scenario == "cancel_signal":
        path = HISTORIES / "order_cancel_signal_after_wft_timeout.json"
    elif scenario == "query_split":
        path = Path("/tmp/race-query-split.json")
    elif scenario == "decision_ahead":
        path = HISTORIES / "order_decision_ahead_of_inspection_result.json"
    else:
        path = HISTORIES / "order_cancel_signal_refused.json"
    path.write_text(history.to_json())
    result = await Replayer(
        workflows=all_workflows(), data_converter=pydantic_data_converter
    ).replay_workflow(history, raise_on_replay_failure=False)
    print("replay:", result.replay_failure or "ok", path)


async def _settled(handle: WorkflowHandle, answered: bool) -> FulfillmentStatus:
    """The status once the order stopped (or the command was answered) — a few seconds."""
    status = None
    for _ in range(100):
        status = await handle.query(OrderFulfillmentWorkflow.status)
        if status.step in ("cancelled", "refunded") or (answered and status.answers):
            return status
        await asyncio.sleep(0.2)
    assert status is not None
    return status


if __name__ == "__main__":
    if sys.argv[1] == "worker":
        asyncio.run(run_worker(sys.argv[2], sys.argv[3]))
    else:
        SCENARIO = sys.argv[1]
        asyncio.run(record(sys.argv[1], int(sys.argv[2]) if len(sys.argv) > 2 else 24110))

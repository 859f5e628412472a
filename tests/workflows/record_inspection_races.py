"""Record InspectionWorkflow histories where an update races a worker kill (run by hand).

    .venv/bin/python -m tests.workflows.record_inspection_races SCENARIO [PORT]

A workflow-only worker runs in a child process that is frozen (SIGSTOP) while it holds a workflow
task, then SIGKILLed; the activities run here, held at a gate. Scenarios:

- `after_wft_timeout`: the worker is frozen holding the task of the escalation's record result, an
  update arrives, the task times out (start-to-close) and a new worker gets the record result and
  the update in one task — the case that wrote TimerStarted before UpdateAccepted in the old code.
- `beside_timer`: the worker is killed, the escalation timer fires and an update arrives while no
  worker is up; the new worker accepts the update in the task where the timer fired and the next
  escalation timer starts.

The history is written to tests/histories/inspection_update_<scenario>.json and replayed at once;
tests/workflows/test_replay.py replays it on every run.
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
from temporalio.client import Client, WorkflowUpdateStage
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.worker import Replayer, Worker

from tests.workflows.race_recording import kill, spawn_worker, start_dev_server
from workflows import all_workflows
from workflows.contracts.email import EmailResult, SendEmail
from workflows.contracts.inspection import (
    ChecklistItem,
    CreateInspection,
    InspectionInput,
    InspectionSetup,
    PresignUploads,
    RecordEscalation,
    RequestUpload,
    UploadTarget,
)
from workflows.inspection import InspectionWorkflow

HISTORIES = Path(__file__).parent.parent / "histories"
GATE = asyncio.Event()
HELD = asyncio.Event()


@workflow.defn(name="EmailWorkflow", sandboxed=False)
class StubEmail:
    @workflow.run
    async def run(self, email: SendEmail) -> EmailResult:
        return EmailResult(status="sent")


@activity.defn(name="inspection.create")
async def create(request: CreateInspection) -> InspectionSetup:
    return InspectionSetup(inspection_id="i", checklist=[ChecklistItem(key="a", label="A")])


@activity.defn(name="inspection.record_escalation")
async def record_escalation(request: RecordEscalation) -> None:
    if not GATE.is_set():
        HELD.set()
        await GATE.wait()


@activity.defn(name="inspection.presign_uploads")
async def presign(request: PresignUploads) -> list[UploadTarget]:
    return [UploadTarget(file_name="f", key="k", url="u", content_type="video/mp4")]


async def run_worker(address: str, task_queue: str) -> None:
    client = await Client.connect(address, data_converter=pydantic_data_converter)
    worker = Worker(client, task_queue=task_queue, workflows=[InspectionWorkflow, StubEmail])
    await worker.run()


def spawn(address: str, task_queue: str) -> subprocess.Popen[bytes]:
    return spawn_worker("tests.workflows.record_inspection_races", address, task_queue)


async def record(scenario: str, port: int) -> None:
    env = await start_dev_server(port)
    address = f"127.0.0.1:{port}"
    async with env:
        client = env.client
        task_queue = f"races-{uuid.uuid4().hex[:6]}"
        order_id = str(uuid.uuid4())
        async with Worker(
            client, task_queue=task_queue, activities=[create, record_escalation, presign]
        ):
            first = spawn(address, task_queue)
            handle = await client.start_workflow(
                InspectionWorkflow.run,
                InspectionInput(order_id=order_id, escalation_hours=6 / 3600),
                id=f"inspection-{order_id}",
                task_queue=task_queue,
                task_timeout=timedelta(seconds=3),
            )
            await HELD.wait()  # the first escalation timer fired; its record is held
            if scenario == "after_wft_timeout":
                os.kill(first.pid, signal.SIGSTOP)  # its poll stays open: it gets the next task
                GATE.set()
                await asyncio.sleep(1)
                update = asyncio.create_task(
                    handle.start_update(
                        InspectionWorkflow.request_upload,
                        RequestUpload(file_names=["a.mp4"]),
                        wait_for_stage=WorkflowUpdateStage.ACCEPTED,
                    )
                )
                await asyncio.sleep(4)  # the frozen worker's task times out
                kill(first)
            else:
                kill(first)
                GATE.set()
                await asyncio.sleep(7)  # the second escalation timer fires with no worker up
                update = asyncio.create_task(
                    handle.start_update(
                        InspectionWorkflow.request_upload,
                        RequestUpload(file_names=["a.mp4"]),
                        wait_for_stage=WorkflowUpdateStage.ACCEPTED,
                    )
                )
                await asyncio.sleep(1)
            second = spawn(address, task_queue)
            try:
                accepted = await asyncio.wait_for(update, 60)
                print("update result:", await accepted.result())
                await handle.terminate("recorded")
            finally:
                kill(second)
        history = await handle.fetch_history()
    for event in history.events:
        print(event.event_id, EventType.Name(event.event_type))
    path = HISTORIES / f"inspection_update_{scenario}.json"
    path.write_text(history.to_json())
    await Replayer(
        workflows=all_workflows(), data_converter=pydantic_data_converter
    ).replay_workflow(history)
    print("replays:", path)


if __name__ == "__main__":
    if sys.argv[1] == "worker":
        asyncio.run(run_worker(sys.argv[2], sys.argv[3]))
    else:
        asyncio.run(record(sys.argv[1], int(sys.argv[2]) if len(sys.argv) > 2 else 22010))

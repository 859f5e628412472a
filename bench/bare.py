"""Ceilings measured in the same run: bare Temporal workflows (the API's ceiling is its own
/api/health, see bench/api_bench.py)."""

from __future__ import annotations

import asyncio
import threading
from datetime import timedelta
from functools import partial
from typing import Any

from temporalio import activity, workflow

with workflow.unsafe.imports_passed_through():
    from bench.shape import Shape, ShapeInput
    from temporal_client import BUSINESS_STATUS

BENCH_STATUS = BUSINESS_STATUS
"""The ceiling upserts the same keyword attribute the order does."""
WAITS = ("update", "signal")


@activity.defn(name="bench.noop")
def noop(step: int) -> int:
    return step


class Parcels:
    """The ceiling's carrier: the driver hands over a workflow waiting for a signal (as it
    advances a real parcel at FedEx), the bare tracker's run takes what was handed over (as the
    real one finds the changed parcels) and signals each (`BareTrackerWorkflow`)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._moved: list[tuple[str, int]] = []

    def move(self, workflow_id: str, size: int) -> None:
        with self._lock:
            self._moved.append((workflow_id, size))

    def take(self) -> list[tuple[str, int]]:
        with self._lock:
            moved, self._moved = self._moved, []
        return moved


PARCELS = Parcels()


@activity.defn(name="bench.tracker_page")
def tracker_page(_: int) -> list[tuple[str, int]]:
    """The real tracker's page activity, no carrier and no database: the workflows to signal
    (and the size of the real signal's payload)."""
    return PARCELS.take()


@workflow.defn(name="BareTrackerWorkflow")
class BareTrackerWorkflow:
    """The real tracker's shape (`TrackingRefreshWorkflow`): one page activity, then a signal
    to each workflow it found, all at once; started by the bench as often as the real one."""

    @workflow.run
    async def run(self) -> int:
        moved = await workflow.execute_activity(
            "bench.tracker_page",
            0,
            result_type=list[tuple[str, int]],
            start_to_close_timeout=timedelta(seconds=30),
        )
        await asyncio.gather(
            *(
                workflow.get_external_workflow_handle(workflow_id).signal("step", "x" * size)
                for workflow_id, size in moved
            )
        )
        return len(moved)


@workflow.defn(name="BareWorkflow")
class BareWorkflow:
    """As many sequential activities as the real workflow runs, doing nothing."""

    @workflow.run
    async def run(self, activities: int) -> int:
        total = 0
        for step in range(activities):
            total += await workflow.execute_activity(
                "bench.noop", step, result_type=int, start_to_close_timeout=timedelta(seconds=30)
            )
        return total


@workflow.defn(name="ShapeWorkflow")
class ShapeWorkflow:
    """The ceiling of an order: the shape of its real histories (`bench/shape.py`) with no-op
    activities. Children get `{id}/{index}` and run beside the steps up to their `child_done`;
    updates named `step` run their handler's share of activities; the driver sends them (and
    `step` signals), with a payload of the real one's size, when `waiting` says so."""

    def __init__(self) -> None:
        self._received = 0
        self._updates = 0
        self._waiting = -1  # index of the wait (update or signal) the main line is at
        self._handler_acts: list[list[float]] = []  # each update's activities' timeouts
        self._status = ""

    @workflow.run
    async def run(self, request: ShapeInput) -> int:
        steps = request.shape.steps
        self._status = "x" * request.shape.status_bytes
        self._handler_acts = [s.timeouts for s in steps if s.kind == "update"]
        self._received = sum(1 for s in steps[: request.from_step] if s.kind in WAITS)
        self._updates = sum(1 for s in steps[: request.from_step] if s.kind == "update")
        waits_before = self._received
        timers: dict[int, asyncio.Task[None]] = {}
        running: list[workflow.ChildWorkflowHandle[Any, Any]] = []
        children = 0
        for index in range(request.from_step, len(steps)):
            step = steps[index]
            if step.kind == "activities":
                await asyncio.gather(*(_noop(i, t) for i, t in enumerate(step.timeouts)))
            elif step.kind == "upsert":
                workflow.upsert_search_attributes([BENCH_STATUS.value_set(f"step-{index}")])
            elif step.kind == "patch":
                workflow.patched(f"bench-shape-{index}")
            elif step.kind == "timer_start":
                timers[step.n] = asyncio.create_task(
                    workflow.sleep(timedelta(seconds=max(step.seconds, 0.001)))
                )
            elif step.kind == "timer_fire":
                await timers.pop(step.n)
            elif step.kind == "timer_cancel":
                timers.pop(step.n).cancel()
            elif step.kind == "child":
                running.append(
                    await workflow.start_child_workflow(
                        ShapeWorkflow.run,
                        ShapeInput(shape=step.child or Shape()),
                        id=f"{workflow.info().workflow_id}/{children}",
                        parent_close_policy=workflow.ParentClosePolicy.ABANDON,
                    )
                )
                children += 1
            elif step.kind == "child_done":
                await running.pop(0)
            elif step.kind in WAITS:
                self._waiting = waits_before
                await workflow.wait_condition(partial(self._past, waits_before))
                waits_before += 1
            elif step.kind == "continue_as_new":
                await workflow.wait_condition(workflow.all_handlers_finished)
                workflow.continue_as_new(ShapeInput(shape=request.shape, from_step=index + 1))
        await workflow.wait_condition(workflow.all_handlers_finished)
        return children

    def _past(self, wait: int) -> bool:
        return self._received > wait

    @workflow.update(name="step")
    async def step(self, payload: str = "") -> None:
        acts = self._handler_acts[self._updates] if self._updates < len(self._handler_acts) else []
        self._updates += 1
        self._received += 1
        await asyncio.gather(*(_noop(i, t) for i, t in enumerate(acts)))

    @workflow.signal(name="step")
    def signal_step(self, payload: str = "") -> None:
        self._received += 1

    @workflow.query(name="waiting")
    def waiting(self) -> dict[str, Any]:
        """The wait the main line is at (its index among this run's waits), -1 before any; with
        a status of the real one's size (the real driver reads the order's or the
        inspection's `status`)."""
        waiting = self._waiting if self._received <= self._waiting else -1
        return {"waiting": waiting, "status": self._status}


async def _noop(step: int, timeout: float) -> int:
    """A no-op activity with the real one's start-to-close timeout."""
    return await workflow.execute_activity(
        "bench.noop", step, result_type=int, start_to_close_timeout=timedelta(seconds=timeout)
    )

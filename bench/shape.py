"""The shape of an order, read from the histories of a real run: what every workflow of its family
did, in order (activities, timers, children, upserts, patches, updates and signals it waited for,
continue-as-new), and what it costs in Temporal actions and history events.

The ceiling workflow (`bench/bare.py` ShapeWorkflow) replays such a shape with no-op activities,
so the ceiling has the same children, activities, timers, updates and signals as the real order.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from pydantic import BaseModel, Field
from temporalio.api.enums.v1 import EventType

CHANGE_VERSION = "TemporalChangeVersion"
"""The search attribute the SDK upserts for a patch (the `patch` step makes it again)."""

ACTION_KINDS = ("starts", "activities", "timers", "signals", "updates", "upserts")
"""The units Temporal Cloud bills, as the issue counts them (queries from the driver aside)."""


class Step(BaseModel):
    """One thing a workflow did. `kind`: activities (n in parallel), upsert, patch,
    timer_start / timer_fire / timer_cancel (timer `n`), child (started, its shape),
    child_done (the oldest running child's result awaited: the steps between ran beside it),
    update (`n` activities in its handler), signal, continue_as_new. `size`: the bytes of an
    update's or a signal's input as stored (encrypted), which the driver sends again.
    `timeouts`: the start-to-close timeout of each of the step's activities, in seconds: the
    server arms a timer for each and fires it when it is due, finished activity or not, so the
    ceiling's no-ops ask for the same (with 30 s against ours' 15 s, the ceiling's timers fired
    after its rounds while ours' fired inside them: 10 against 1 per order)."""

    kind: str
    n: int = 1
    seconds: float = 0.0
    size: int = 0
    timeouts: list[float] = Field(default_factory=list)
    child: Shape | None = None


class Shape(BaseModel):
    steps: list[Step] = Field(default_factory=list)
    source: str = ""  # the workflow id it was read from
    status_bytes: int = 0  # the size of its `status` query's answer, which the driver polls

    def waits(self) -> list[str]:
        """The updates and signals this workflow waits for, in order (the driver sends them)."""
        return [s.kind for s in self.steps if s.kind in ("update", "signal")]

    def children(self) -> list[Shape]:
        return [s.child for s in self.steps if s.kind == "child" and s.child is not None]


def shape_of(runs: dict[str, list[Any]], workflow_id: str) -> Shape:
    """The shape of `workflow_id` from `runs` (workflow id -> its runs' histories, oldest
    first), children included."""
    shape = Shape(source=workflow_id)
    for history in runs[workflow_id]:
        shape.steps += _steps(history, runs)
    return shape


def _steps(history: Any, runs: dict[str, list[Any]]) -> list[Step]:
    steps: list[Step] = []
    open_update: Step | None = None
    timers: dict[str, int] = {}
    for event in history.events:
        kind = event.event_type
        if kind == EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED:
            timeout = event.activity_task_scheduled_event_attributes.start_to_close_timeout
            seconds = timeout.ToTimedelta().total_seconds()
            if open_update is not None:
                open_update.n += 1
                open_update.timeouts.append(seconds)
            elif steps and steps[-1].kind == "activities" and _same_task(history, event):
                steps[-1].n += 1
                steps[-1].timeouts.append(seconds)
            else:
                steps.append(Step(kind="activities", timeouts=[seconds]))
        elif kind == EventType.EVENT_TYPE_UPSERT_WORKFLOW_SEARCH_ATTRIBUTES:
            fields = event.upsert_workflow_search_attributes_event_attributes.search_attributes
            if CHANGE_VERSION not in fields.indexed_fields:
                steps.append(Step(kind="upsert"))
        elif kind == EventType.EVENT_TYPE_MARKER_RECORDED:
            steps.append(Step(kind="patch"))
        elif kind == EventType.EVENT_TYPE_TIMER_STARTED:
            attrs = event.timer_started_event_attributes
            timers[attrs.timer_id] = len(timers)
            seconds = attrs.start_to_fire_timeout.ToTimedelta().total_seconds()
            steps.append(Step(kind="timer_start", n=timers[attrs.timer_id], seconds=seconds))
        elif kind == EventType.EVENT_TYPE_TIMER_FIRED:
            timer = timers[event.timer_fired_event_attributes.timer_id]
            steps.append(Step(kind="timer_fire", n=timer))
        elif kind == EventType.EVENT_TYPE_TIMER_CANCELED:
            timer = timers[event.timer_canceled_event_attributes.timer_id]
            steps.append(Step(kind="timer_cancel", n=timer))
        elif kind == EventType.EVENT_TYPE_START_CHILD_WORKFLOW_EXECUTION_INITIATED:
            child_id = event.start_child_workflow_execution_initiated_event_attributes.workflow_id
            steps.append(Step(kind="child", child=shape_of(runs, child_id)))
        elif kind in CHILD_ENDS:
            steps.append(Step(kind="child_done"))
        elif kind == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED:
            signal = event.workflow_execution_signaled_event_attributes.input
            steps.append(Step(kind="signal", size=_size(signal)))
        elif kind == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED:
            accepted = event.workflow_execution_update_accepted_event_attributes
            update = accepted.accepted_request.input.args
            open_update = Step(kind="update", n=0, size=_size(update))
            steps.append(open_update)
        elif kind == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_COMPLETED:
            open_update = None
        elif kind == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_CONTINUED_AS_NEW:
            steps.append(Step(kind="continue_as_new"))
    return steps


CHILD_ENDS = (
    EventType.EVENT_TYPE_CHILD_WORKFLOW_EXECUTION_COMPLETED,
    EventType.EVENT_TYPE_CHILD_WORKFLOW_EXECUTION_FAILED,
    EventType.EVENT_TYPE_CHILD_WORKFLOW_EXECUTION_CANCELED,
    EventType.EVENT_TYPE_CHILD_WORKFLOW_EXECUTION_TIMED_OUT,
    EventType.EVENT_TYPE_CHILD_WORKFLOW_EXECUTION_TERMINATED,
)


def _size(payloads: Any) -> int:
    """The bytes of a message's arguments as the server stores them."""
    return sum(len(p.data) for p in payloads.payloads)


def _same_task(history: Any, event: Any) -> bool:
    """The previous command event came from the same workflow task (no task in between)."""
    before = history.events[event.event_id - 2]
    return before.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED


def actions_of(histories: list[Any]) -> dict[str, int]:
    """Temporal actions and history events of these runs: starts (runs and children), activity
    attempts, timers, signals received, updates, search-attribute upserts (the SDK's
    `TemporalChangeVersion` upsert of a patch included: it is billed too)."""
    count: Counter[str] = Counter()
    for history in histories:
        for event in history.events:
            count["events"] += 1
            kind = event.event_type
            if kind == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED:
                count["starts"] += 1
            elif kind == EventType.EVENT_TYPE_ACTIVITY_TASK_STARTED:
                count["activities"] += 1  # every attempt is billed
            elif kind == EventType.EVENT_TYPE_TIMER_STARTED:
                count["timers"] += 1
            elif kind in (
                EventType.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED,
                EventType.EVENT_TYPE_SIGNAL_EXTERNAL_WORKFLOW_EXECUTION_INITIATED,
            ):
                count["signals"] += 1
            elif kind == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED:
                count["updates"] += 1
            elif kind == EventType.EVENT_TYPE_UPSERT_WORKFLOW_SEARCH_ATTRIBUTES:
                count["upserts"] += 1
            elif kind == EventType.EVENT_TYPE_MARKER_RECORDED:
                count["markers"] += 1
    count["actions"] = sum(count[k] for k in ACTION_KINDS)
    return dict(count)


def activity_seconds(histories: list[Any]) -> dict[str, dict[str, float]]:
    """Per activity type: attempts, mean seconds waiting in the task queue (scheduled ->
    started) and mean seconds running (started -> completed), from the histories; plus
    `workflow task` for the workflow tasks, and `signal`/`update` for the time the workflow sat
    idle until the outside world (driver, tracker) sent one (from the last task completed before
    it arrived: a signal's own event, the task an update asked for). Where an order spends its
    time, next to the ceiling's no-ops."""
    queued: dict[str, list[float]] = {}
    running: dict[str, list[float]] = {}
    for history in histories:
        by_id = {event.event_id: event for event in history.events}
        last_task: Any = None  # the last workflow task completed
        idle_from: Any = None  # ... before the latest task was scheduled
        asked: Any = None  # the latest task scheduled
        for event in history.events:
            kind = event.event_type
            if kind == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED and last_task is not None:
                queued.setdefault("signal", []).append(seconds_between(last_task, event))
            elif kind == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED and idle_from:
                queued.setdefault("update", []).append(seconds_between(idle_from, asked))
            elif kind == EventType.EVENT_TYPE_WORKFLOW_TASK_SCHEDULED:
                idle_from, asked = last_task, event
            elif kind == EventType.EVENT_TYPE_ACTIVITY_TASK_STARTED:
                scheduled = by_id[event.activity_task_started_event_attributes.scheduled_event_id]
                name = scheduled.activity_task_scheduled_event_attributes.activity_type.name
                queued.setdefault(name, []).append(seconds_between(scheduled, event))
            elif kind == EventType.EVENT_TYPE_ACTIVITY_TASK_COMPLETED:
                attrs = event.activity_task_completed_event_attributes
                started = by_id[attrs.started_event_id]
                scheduled = by_id[attrs.scheduled_event_id]
                name = scheduled.activity_task_scheduled_event_attributes.activity_type.name
                running.setdefault(name, []).append(seconds_between(started, event))
            elif kind == EventType.EVENT_TYPE_WORKFLOW_TASK_STARTED:
                scheduled = by_id[event.workflow_task_started_event_attributes.scheduled_event_id]
                queued.setdefault("workflow task", []).append(seconds_between(scheduled, event))
            elif kind == EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED:
                started = by_id[event.workflow_task_completed_event_attributes.started_event_id]
                running.setdefault("workflow task", []).append(seconds_between(started, event))
                last_task = event
    return {
        name: {
            "attempts": len(waits),
            "queued_s": sum(waits) / len(waits),
            "running_s": sum(running.get(name, [0.0])) / max(len(running.get(name, [])), 1),
        }
        for name, waits in queued.items()
    }


def seconds_between(earlier: Any, later: Any) -> float:
    return (later.event_time.ToDatetime() - earlier.event_time.ToDatetime()).total_seconds()


async def with_status_sizes(client: Any, shape: Shape) -> Shape:
    """The shape, with the size (as stored, encrypted) of the `status` answer of each of its
    workflows the driver polls (those that wait for an update or a signal): the ceiling's query
    answers as much, so the codec and the SDK's payload handling cost it the same."""
    if shape.waits():
        handle = client.get_workflow_handle(shape.source)
        answer = await handle.query("status")
        payloads = await client.data_converter.encode([answer])
        shape.status_bytes = sum(len(p.data) for p in payloads)
    for child in shape.children():
        await with_status_sizes(client, child)
    return shape


async def family_histories(client: Any, ebay_order_id: str, expected_runs: int) -> dict[str, list]:
    """Every run of an order's family (`OrderId = ...`), by workflow id, oldest run first.
    Visibility is eventually consistent: asks again until `expected_runs` are listed."""
    import asyncio

    found: list[Any] = []
    for _ in range(100):
        found = [e async for e in client.list_workflows(f'OrderId = "{ebay_order_id}"')]
        if len(found) >= expected_runs:
            break
        await asyncio.sleep(0.1)
    runs: dict[str, list[tuple[Any, Any]]] = {}
    for execution in found:
        handle = client.get_workflow_handle(execution.id, run_id=execution.run_id)
        runs.setdefault(execution.id, []).append(
            (execution.start_time, await handle.fetch_history())
        )
    return {wid: [h for _, h in sorted(r, key=lambda x: x[0])] for wid, r in runs.items()}


Step.model_rebuild()


class ShapeInput(BaseModel):
    """The ceiling workflow's input (here, passed through the workflow sandbox as the real
    workflows' contracts are, not rebuilt for each workflow instance)."""

    shape: Shape
    from_step: int = 0  # where a continued run goes on

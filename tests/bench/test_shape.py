"""The order's shape read from a history: the ceiling replays each activity with the real one's
start-to-close timeout (the server arms a timer for each, so the timeouts are part of the cost)."""

from __future__ import annotations

from datetime import timedelta

from temporalio.api.enums.v1 import EventType
from temporalio.api.history.v1 import History, HistoryEvent

from bench.shape import shape_of


def _history(*events: HistoryEvent) -> History:
    for event_id, event in enumerate(events, start=1):
        event.event_id = event_id
    return History(events=list(events))


def _event(kind: EventType.ValueType) -> HistoryEvent:
    return HistoryEvent(event_type=kind)


def _activity(seconds: float) -> HistoryEvent:
    event = _event(EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED)
    attrs = event.activity_task_scheduled_event_attributes
    attrs.start_to_close_timeout.FromTimedelta(timedelta(seconds=seconds))
    return event


def test_each_activity_keeps_its_start_to_close_timeout() -> None:
    history = _history(
        _event(EventType.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED),
        _event(EventType.EVENT_TYPE_WORKFLOW_TASK_SCHEDULED),
        _event(EventType.EVENT_TYPE_WORKFLOW_TASK_STARTED),
        _event(EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED),
        _activity(15),  # two activities scheduled by one workflow task: one step
        _activity(60),
        _event(EventType.EVENT_TYPE_ACTIVITY_TASK_STARTED),
        _activity(600),  # after another event: a step of its own
        _event(EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED),
        _activity(10),  # in the update's handler
        _event(EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_COMPLETED),
    )

    shape = shape_of({"order-1": [history]}, "order-1")

    assert [(s.kind, s.n, s.timeouts) for s in shape.steps] == [
        ("activities", 2, [15.0, 60.0]),
        ("activities", 1, [600.0]),
        ("update", 1, [10.0]),
    ]

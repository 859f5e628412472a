"""Every recorded history under tests/histories/ must replay against today's workflow code:
a non-deterministic change (a moved activity, a renamed timer, a dropped branch without
`workflow.patched`) fails here. Record with `RECORD_HISTORIES=1 pytest tests/workflows`."""

from __future__ import annotations

from pathlib import Path

import pytest
from temporalio.api.enums.v1 import EventType
from temporalio.client import WorkflowHistory
from temporalio.worker import Replayer

from workflows import all_workflows

HISTORIES = sorted((Path(__file__).parent.parent / "histories").glob("*.json"))

pytestmark = pytest.mark.timeout(60)

REQUIRED = (
    "inspection_passed",
    "inspection_escalated",
    "order_inspection_failed",
    "order_inspection_failed_decided",
    "listing_edited_then_approved",
    "order_cancelled_by_staff",
    "order_delivered",
    "order_tracking_resumed",
    "order_delivered_batched",
    "order_tracking_resumed_batched",
    "tracking_refresh_batched",
    "order_domestic_in_transit_batched",
    "label_fedex",
    "order_domestic_in_transit",
    "label_yamato_handoff",
    "label_sagawa_history",
    "inspection_update_after_wft_timeout",
    "inspection_update_beside_timer",
    "listing_change_push",
    "listing_change_end",
    "listing_change_relist",
    "order_inspection_child_stuck",
    "order_delivered_lean_family",
    "order_tracking_resumed_lean_family",
    "inspection_passed_lean",
    "label_fedex_lean",
    "email_sent_lean",
    "order_cancel_update_after_wft_timeout",
    "order_cancel_signal_after_wft_timeout",
    "order_cancel_signal_refused",
    "order_cancel_signalled",
    "order_inspection_failed_decided_by_signal",
    "label_rate_chosen_by_signal",
    "listing_reviewed_by_signal",
    "order_decision_ahead_of_inspection_result",
    "order_cancel_signalled_at_start",
)


def test_histories_are_recorded() -> None:
    """The replay test below proves nothing when there is nothing to replay."""
    names = {path.stem for path in HISTORIES}
    missing = sorted(set(REQUIRED) - names)
    assert not missing, f"missing tests/histories/{missing}.json: run RECORD_HISTORIES=1"


@pytest.mark.parametrize("path", HISTORIES, ids=[p.stem for p in HISTORIES])
async def test_history_replays(path: Path, settings) -> None:
    from temporal_client import data_converter

    text = path.read_text()  # noqa: ASYNC240 - a small local file
    # the production converter: decrypts recorded (encrypted) payloads, passes older plain ones
    replayer = Replayer(workflows=all_workflows(), data_converter=data_converter(settings))
    history = WorkflowHistory.from_json(path.stem, text)
    await replayer.replay_workflow(history)


PRE_PATCH = Path(__file__).parent.parent / "histories" / "pre_patch"


async def test_the_race_that_broke_inspection_replay_cannot_recur(settings) -> None:
    """`pre_patch/inspection_timer_before_accept.json` is a run of the code before the escalation
    cadence task: after a workflow-task timeout, the main line started its escalation timer and an
    update was accepted in the same task, timer first. On replay the SDK runs the update before the
    main line, so the accept comes first: TMPRL1100. Such a run stays broken (it must be reset to
    its last good task), which this test pins; the same kill, recorded with the cadence task
    (`inspection_update_after_wft_timeout.json`, written by tests/workflows/
    record_inspection_races.py), starts no timer in that task and replays above."""
    from temporal_client import data_converter

    replayer = Replayer(workflows=all_workflows(), data_converter=data_converter(settings))
    broken = (PRE_PATCH / "inspection_timer_before_accept.json").read_text()  # noqa: ASYNC240
    result = await replayer.replay_workflow(
        WorkflowHistory.from_json("pre-patch", broken), raise_on_replay_failure=False
    )
    assert result.replay_failure is not None
    assert "TMPRL1100" in str(result.replay_failure)

    fixed = Path(__file__).parent.parent / "histories" / "inspection_update_after_wft_timeout.json"
    history = WorkflowHistory.from_json("fixed", fixed.read_text())  # noqa: ASYNC240
    events = [e.event_type for e in history.events]
    timeouts = [
        i for i, t in enumerate(events) if t == EventType.EVENT_TYPE_WORKFLOW_TASK_TIMED_OUT
    ]
    accepted = events.index(EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED)
    assert timeouts and timeouts[0] < accepted  # the update landed after a task timed out
    await replayer.replay_workflow(history)


async def test_a_cancel_update_beside_the_main_coroutine_breaks_replay_a_signal_cannot(
    settings,
) -> None:
    """`pre_patch/order_child_before_cancel_accept.json` is a real run (tests/workflows/
    record_fulfillment_races.py `cancel_update`: the worker killed holding the task of the
    `orders.set_status` result, a `cancel` update accepted in the retried task) with the order
    of that task's accept and the main coroutine's StartChildWorkflow swapped, as the first run
    writes it when the SDK delivers the update in a later activation than the result (the
    inspection's pinned case; chaos runs saw both directions). On replay the update comes first:
    TMPRL1100. The same kill with the `request_cancel` signal puts the signal in history before
    the task, and it replays (above, `order_cancel_signal_after_wft_timeout`)."""
    from temporal_client import data_converter

    replayer = Replayer(workflows=all_workflows(), data_converter=data_converter(settings))
    broken = (PRE_PATCH / "order_child_before_cancel_accept.json").read_text()  # noqa: ASYNC240
    result = await replayer.replay_workflow(
        WorkflowHistory.from_json("update", broken), raise_on_replay_failure=False
    )
    assert result.replay_failure is not None
    assert "TMPRL1100" in str(result.replay_failure)

    fixed = (
        Path(__file__).parent.parent / "histories" / "order_cancel_signal_after_wft_timeout.json"
    )
    history = WorkflowHistory.from_json("signal", fixed.read_text())  # noqa: ASYNC240
    events = [e.event_type for e in history.events]
    timeouts = [
        i for i, t in enumerate(events) if t == EventType.EVENT_TYPE_WORKFLOW_TASK_TIMED_OUT
    ]
    signalled = events.index(EventType.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED)
    assert timeouts and timeouts[0] < signalled < timeouts[-1]  # sent while the task was stuck
    assert EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED not in events
    await replayer.replay_workflow(history)


async def test_a_decision_taken_ahead_of_the_inspection_result_replays_either_way(
    settings, monkeypatch
) -> None:
    """A chaos run's order had, in one workflow task, the failed inspection's result and the
    staff's decision signal (sent when a status query, run ahead of that task, showed
    `awaiting_decision`). The first run handled the result first and took the decision; the
    replay handled the signal first, while still `inspecting`, and refused it under the old rule:
    TMPRL1100. The signal handler now takes a decision that comes while `inspecting`
    (`decision_refusal(..., ahead_of_result=True)`), so both orders give the same commands.
    `order_decision_ahead_of_inspection_result.json` (tests/workflows/record_fulfillment_races.py
    `decision_ahead`) has the signal before the result: it replays, and fails with the old rule."""
    from temporal_client import data_converter
    from workflows.contracts import fulfillment as contract

    path = Path(__file__).parent.parent / "histories"
    text = (path / "order_decision_ahead_of_inspection_result.json").read_text()  # noqa: ASYNC240
    replayer = Replayer(workflows=all_workflows(), data_converter=data_converter(settings))
    await replayer.replay_workflow(WorkflowHistory.from_json("ahead", text))

    strict = contract.decision_refusal

    def old_rule(status, request, ahead_of_result: bool = False):
        return strict(status, request)

    monkeypatch.setattr(contract, "decision_refusal", old_rule)
    result = await Replayer(
        workflows=all_workflows(), data_converter=data_converter(settings)
    ).replay_workflow(WorkflowHistory.from_json("old", text), raise_on_replay_failure=False)
    assert result.replay_failure is not None
    assert "TMPRL1100" in str(result.replay_failure)

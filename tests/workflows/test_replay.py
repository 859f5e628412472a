"""Every recorded history under tests/histories/ must replay against today's workflow code:
a non-deterministic change (a moved activity, a renamed timer, a dropped branch without
`workflow.patched`) fails here. Record with `RECORD_HISTORIES=1 pytest tests/workflows`."""

from __future__ import annotations

from pathlib import Path

import pytest
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
    "label_fedex",
    "order_domestic_in_transit",
    "label_yamato_handoff",
    "label_sagawa_history",
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

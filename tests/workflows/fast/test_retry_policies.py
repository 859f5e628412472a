"""workflows/common.py's retry policies on a real server: a bare `ValueError` (or another input
error, `domain.errors.INPUT_ERRORS`) raised by an activity fails on its first attempt instead of
being retried 25-50 times; a transient error is still retried. The bulk listing's chunk has a
heartbeat timeout well inside its start-to-close."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from temporalio import activity, workflow
from temporalio.client import WorkflowFailureError
from temporalio.exceptions import ActivityError, ApplicationError
from temporalio.worker import Worker

from workflows.bulk_listing import CHUNK_OPTIONS
from workflows.common import DATABASE, EXTERNAL

pytestmark = pytest.mark.timeout(60)

ATTEMPTS: dict[str, int] = {}


@activity.defn(name="policy_test_bad_input")
async def bad_input(key: str) -> str:
    ATTEMPTS[key] = activity.info().attempt
    raise ValueError("media key leaves its folder: ../x")


@activity.defn(name="policy_test_flaky")
async def flaky(key: str) -> str:
    ATTEMPTS[key] = activity.info().attempt
    if activity.info().attempt < 3:
        raise ConnectionError("peer closed the connection")
    return "ok"


@workflow.defn(name="PolicyTestWorkflow", sandboxed=False)
class PolicyWorkflow:
    @workflow.run
    async def run(self, args: list[str]) -> str:
        name, key, options = args
        chosen = {"database": DATABASE, "external": EXTERNAL, "chunk": CHUNK_OPTIONS}[options]
        return await workflow.execute_activity(name, key, **chosen)


async def run(world_env, name: str, options: str) -> tuple[str, object]:
    key = uuid.uuid4().hex
    task_queue = f"policy-{key[:8]}"
    async with Worker(
        world_env.client,
        task_queue=task_queue,
        workflows=[PolicyWorkflow],
        activities=[bad_input, flaky],
    ):
        handle = await world_env.client.start_workflow(
            PolicyWorkflow.run, [name, key, options], id=key, task_queue=task_queue
        )
        try:
            return key, await handle.result()
        except WorkflowFailureError as error:
            return key, error


@pytest.mark.parametrize("options", ["database", "external"])
async def test_a_bare_value_error_fails_on_the_first_attempt(time_skipping_env, options) -> None:
    key, outcome = await run(time_skipping_env, "policy_test_bad_input", options)
    assert isinstance(outcome, WorkflowFailureError)
    cause = outcome.cause
    assert isinstance(cause, ActivityError) and isinstance(cause.cause, ApplicationError)
    assert cause.cause.type == "ValueError"
    assert ATTEMPTS[key] == 1


async def test_a_transient_error_is_still_retried(time_skipping_env) -> None:
    key, outcome = await run(time_skipping_env, "policy_test_flaky", "external")
    assert outcome == "ok" and ATTEMPTS[key] == 3


def test_the_bulk_chunk_has_a_heartbeat_timeout_well_inside_its_start_to_close() -> None:
    """prepare_chunk beats after each AI copy (activities/catalog.py); a worker that dies mid-chunk
    is noticed after the heartbeat timeout, not the 10-minute start-to-close."""
    assert CHUNK_OPTIONS["heartbeat_timeout"] <= timedelta(minutes=2)
    assert CHUNK_OPTIONS["heartbeat_timeout"] * 4 <= CHUNK_OPTIONS["start_to_close_timeout"]

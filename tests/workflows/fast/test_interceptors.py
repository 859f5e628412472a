"""workflows/interceptors.py: an `assert` (or another input error) inside an update handler fails
that update with ValidationFailed; the workflow task goes on and the workflow keeps running."""

from __future__ import annotations

import uuid

import pytest
from temporalio import workflow
from temporalio.client import WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError
from temporalio.worker import UnsandboxedWorkflowRunner, Worker

from domain.errors import VALIDATION_FAILED
from workflows.interceptors import WORKER_INTERCEPTORS

pytestmark = pytest.mark.timeout(60)


@workflow.defn(sandboxed=False)
class AssertingWorkflow:
    def __init__(self) -> None:
        self._done = False
        self._value: int | None = None

    @workflow.run
    async def run(self) -> int:
        await workflow.wait_condition(lambda: self._done)
        assert self._value is not None
        return self._value

    @workflow.update
    async def set_value(self, value: int) -> int:
        assert value > 0, "value must be positive"
        self._value = value
        return value

    @workflow.update
    async def finish(self) -> None:
        if self._value is None:
            raise ApplicationError("nothing set", type="InvalidState")
        self._done = True


async def test_an_assert_in_an_update_handler_fails_the_update(time_skipping_env) -> None:
    client = time_skipping_env.client
    task_queue = f"fast-{uuid.uuid4().hex[:8]}"
    async with Worker(
        client,
        task_queue=task_queue,
        workflows=[AssertingWorkflow],
        interceptors=WORKER_INTERCEPTORS,
        workflow_runner=UnsandboxedWorkflowRunner(),
    ):
        handle = await client.start_workflow(
            AssertingWorkflow.run, id=f"assert-{uuid.uuid4()}", task_queue=task_queue
        )
        with pytest.raises(WorkflowUpdateFailedError) as failed:
            await handle.execute_update(AssertingWorkflow.set_value, -1)
        cause = failed.value.cause
        assert isinstance(cause, ApplicationError)
        assert cause.type == VALIDATION_FAILED and cause.non_retryable
        assert "value must be positive" in cause.message
        with pytest.raises(WorkflowUpdateFailedError) as refused:  # ours pass through unchanged
            await handle.execute_update(AssertingWorkflow.finish)
        assert isinstance(refused.value.cause, ApplicationError)
        assert refused.value.cause.type == "InvalidState"
        assert await handle.execute_update(AssertingWorkflow.set_value, 3) == 3  # still alive
        await handle.execute_update(AssertingWorkflow.finish)
        assert await handle.result() == 3

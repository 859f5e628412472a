"""Worker interceptors shared by every workflow.

An exception that is not a Temporal failure inside an update handler fails the workflow task,
which Temporal retries forever: the workflow is parked and the caller waits. Bad input or a broken
rule (`assert`, ValueError, ...; the names in `domain.errors.INPUT_ERRORS`) fails the update
instead, as a non-retryable ValidationFailed the API answers with a 4xx.
"""

from __future__ import annotations

from typing import Any

from temporalio import workflow
from temporalio.exceptions import ApplicationError
from temporalio.worker import (
    HandleUpdateInput,
    Interceptor,
    WorkflowInboundInterceptor,
    WorkflowInterceptorClassInput,
)

with workflow.unsafe.imports_passed_through():
    from domain.errors import INPUT_ERRORS, VALIDATION_FAILED


class _UpdateErrors(WorkflowInboundInterceptor):
    async def handle_update_handler(self, input: HandleUpdateInput) -> Any:
        try:
            return await super().handle_update_handler(input)
        except Exception as error:
            if type(error).__name__ not in INPUT_ERRORS:
                raise
            raise ApplicationError(
                f"{input.update} refused: {type(error).__name__}: {error}",
                type=VALIDATION_FAILED,
                non_retryable=True,
            ) from error


class WorkflowErrorsInterceptor(Interceptor):
    def workflow_interceptor_class(
        self, input: WorkflowInterceptorClassInput
    ) -> type[WorkflowInboundInterceptor] | None:
        return _UpdateErrors


WORKER_INTERCEPTORS = [WorkflowErrorsInterceptor()]

"""The worker's telemetry: the Temporal SDK's Prometheus metrics, and one interceptor that puts
workflow and activity ids on every log line and reports failures to Sentry with those ids as
tags.

- Metrics: `Runtime(telemetry=TelemetryConfig(metrics=PrometheusConfig(bind_address=...)))`;
  the SDK itself serves `/metrics` on WORKER_METRICS_PORT (9464; 0 turns it off). Every
  client connected with this runtime (and so every worker built on that client) reports there.
- Activities: the ids are bound to structlog's context for the activity's duration (sync
  activities run on the executor inside a copy of that context). A failed attempt is reported
  to Sentry when it is the first, when it reaches ACTIVITY_RETRY_ALERT_ATTEMPTS (the same
  threshold as the API's `worlddoor_workflows_retrying` gauge), and when no retry follows
  (non-retryable error or the last allowed attempt): a flapping provider makes three events,
  not one per retry.
- Workflows: a workflow that fails (not one continued as new or cancelled) is reported once,
  never while replaying; the workflow only hands the failure to the worker's event loop, which
  sends it from its executor.
- Workflow tasks: the SDK counts each failed workflow task in
  `temporal_workflow_task_execution_failed{failure_reason=...}` (NonDeterminismError among them;
  monitoring/alerts.yml pages on it). A workflow found stuck on them (activities/health.py) is
  reported here, one Sentry issue per workflow and cause (`report_workflow_task_failing`).
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

import sentry_sdk
import structlog
from temporalio import activity, workflow
from temporalio.exceptions import ApplicationError
from temporalio.runtime import PrometheusConfig, Runtime, TelemetryConfig
from temporalio.worker import (
    ActivityInboundInterceptor,
    ExecuteActivityInput,
    ExecuteWorkflowInput,
    Interceptor,
    WorkflowInboundInterceptor,
    WorkflowInterceptorClassInput,
)

from config import Settings
from domain.workflow_health import is_nondeterminism
from workflows.contracts.ops import WorkflowHealth


def metrics_runtime(settings: Settings) -> Runtime | None:
    """A runtime exporting the SDK's metrics for Prometheus, or None (WORKER_METRICS_PORT=0)."""
    if not settings.worker_metrics_port:
        return None
    address = f"{settings.worker_metrics_host}:{settings.worker_metrics_port}"
    return Runtime(telemetry=TelemetryConfig(metrics=PrometheusConfig(bind_address=address)))


def _final_attempt(error: BaseException, info: activity.Info) -> bool:
    if isinstance(error, ApplicationError) and error.non_retryable:
        return True
    policy = info.retry_policy
    if policy is None:
        return False
    if policy.maximum_attempts and info.attempt >= policy.maximum_attempts:
        return True
    names = {type(error).__name__}
    if isinstance(error, ApplicationError) and error.type:
        names.add(error.type)
    return bool(names & set(policy.non_retryable_error_types or ()))


class _ActivityInbound(ActivityInboundInterceptor):
    def __init__(self, next: ActivityInboundInterceptor, report_at: int) -> None:  # noqa: A002
        super().__init__(next)
        self.report_at = report_at

    async def execute_activity(self, input: ExecuteActivityInput) -> Any:  # noqa: A002
        info = activity.info()
        ids = {
            "workflow_id": info.workflow_id,
            "run_id": info.workflow_run_id,
            "workflow_type": info.workflow_type,
            "activity_id": info.activity_id,
            "activity_type": info.activity_type,
            "attempt": info.attempt,
        }
        with structlog.contextvars.bound_contextvars(**ids):
            try:
                return await super().execute_activity(input)
            except Exception as error:
                if activity.is_cancelled():
                    raise
                final = _final_attempt(error, info)
                if info.attempt in (1, self.report_at) or final:
                    _report(error, "activity", {**ids, "final_attempt": final})
                raise


class _WorkflowInbound(WorkflowInboundInterceptor):
    async def execute_workflow(self, input: ExecuteWorkflowInput) -> Any:  # noqa: A002
        try:
            return await super().execute_workflow(input)
        except Exception as error:  # continue-as-new and cancellation are BaseExceptions
            if not workflow.unsafe.is_replaying():
                info = workflow.info()
                tags = {
                    "workflow_id": info.workflow_id,
                    "run_id": info.run_id,
                    "workflow_type": info.workflow_type,
                    "task_queue": info.task_queue,
                }
                # Only hand the failure over: building and sending an event is I/O, which has
                # no place in a workflow task (and Sentry's lazy imports fail in the sandbox).
                with workflow.unsafe.sandbox_unrestricted():
                    self.hand_over(error, tags)
            raise

    @staticmethod
    def hand_over(error: BaseException, tags: dict[str, Any]) -> None:
        """Replaced per worker by `TelemetryInterceptor.workflow_interceptor_class`."""


def _report(error: BaseException, kind: str, tags: dict[str, Any]) -> None:
    if not sentry_sdk.get_client().is_active():
        return
    with sentry_sdk.new_scope() as scope:
        scope.set_tag("temporal.kind", kind)
        for key, value in tags.items():
            if value is not None:
                scope.set_tag(f"temporal.{key}", str(value))
        scope.set_context("temporal", tags)
        scope.capture_exception(error)


def report_workflow_task_failing(health: WorkflowHealth, about: str) -> None:
    """A workflow stuck on failing workflow tasks: one Sentry issue per workflow and cause
    (fingerprinted), `fatal` for nondeterminism (the code no longer replays its history)."""
    if not sentry_sdk.get_client().is_active():
        return
    nondeterminism = is_nondeterminism(health.cause, health.message)
    with sentry_sdk.new_scope() as scope:
        scope.set_tag("temporal.kind", "workflow_task")
        scope.set_tag("temporal.workflow_id", health.workflow_id)
        scope.set_tag("temporal.task_failure", health.cause or "timeout")
        scope.set_context("temporal", {**health.model_dump(), "about": about})
        scope.fingerprint = ["workflow-task-failing", health.workflow_id, health.cause]
        scope.level = "fatal" if nondeterminism else "error"
        scope.capture_message(f"{health.workflow_id} ({about}): {health.summary()}")


class TelemetryInterceptor(Interceptor):
    """Log context and Sentry reports for every activity and workflow of the worker."""

    def __init__(self, report_at_attempt: int) -> None:
        self.report_at_attempt = report_at_attempt

    def intercept_activity(self, next: ActivityInboundInterceptor) -> ActivityInboundInterceptor:  # noqa: A002
        return _ActivityInbound(next, self.report_at_attempt)

    def workflow_interceptor_class(
        self,
        input: WorkflowInterceptorClassInput,  # noqa: A002
    ) -> type[WorkflowInboundInterceptor] | None:
        loop = asyncio.get_running_loop()  # the worker's: failures are reported from there

        def hand_over(error: BaseException, tags: dict[str, Any]) -> None:
            def report() -> None:
                loop.run_in_executor(None, _report, error, "workflow", tags)

            with contextlib.suppress(RuntimeError):  # the loop is closing: the worker is gone
                loop.call_soon_threadsafe(report)

        return type(
            "_WorkflowInboundOfWorker", (_WorkflowInbound,), {"hand_over": staticmethod(hand_over)}
        )

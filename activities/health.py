"""Workflow health: is a running workflow stuck on its own code? Read from Temporal's describe
(the pending workflow task's attempt, as the console's stuck list reads it) and, when it is, the
last WorkflowTaskFailed event of its history for the cause; reported to Sentry once per sighting
the caller asks for. The rule itself is `domain.workflow_health`."""

from __future__ import annotations

from temporalio import activity
from temporalio.api.enums.v1 import EventType, WorkflowTaskFailedCause
from temporalio.api.failure.v1 import Failure
from temporalio.client import Client, WorkflowExecutionStatus

from config import Settings
from domain.workflow_health import failure_cause, workflow_task_failing
from telemetry import report_workflow_task_failing
from workflows.contracts.ops import (
    CHECK_WORKFLOW_HEALTH_ACTIVITY,
    WorkflowHealth,
    WorkflowHealthCheck,
)


async def _message(client: Client, failure: Failure) -> str:
    """The failure's own message (the codec may have encoded it: "Encoded failure")."""
    try:
        error = await client.data_converter.decode_failure(failure)
    except Exception:  # noqa: BLE001 - an unreadable failure still names its cause
        return failure.message[:300]
    message = getattr(error, "message", None) or str(error)
    return f"{type(error).__name__}: {message}"[:300] if message else failure.message[:300]


class HealthActivities:
    def __init__(self, settings: Settings, client: Client | None = None) -> None:
        self.settings = settings
        self.client = client

    async def _client(self) -> Client:
        if self.client is None:
            from temporal_client import connect

            self.client = await connect(self.settings)
        return self.client

    @activity.defn(name=CHECK_WORKFLOW_HEALTH_ACTIVITY)
    async def check_workflow_health(self, check: WorkflowHealthCheck) -> WorkflowHealth:
        client = await self._client()
        handle = client.get_workflow_handle(check.workflow_id)
        description = await handle.describe()
        health = WorkflowHealth(workflow_id=check.workflow_id)
        if description.status != WorkflowExecutionStatus.RUNNING:
            health.running = False
            return health
        raw = description.raw_description
        if raw.HasField("pending_workflow_task"):
            health.task_attempt = raw.pending_workflow_task.attempt
        health.failing = workflow_task_failing(
            health.task_attempt, self.settings.workflow_task_alert_attempts
        )
        if not health.failing:
            return health
        health.message = "timed out (no worker answered in time)"
        async for event in handle.fetch_history_events():
            if event.event_type == EventType.EVENT_TYPE_WORKFLOW_TASK_FAILED:
                attrs = event.workflow_task_failed_event_attributes
                health.cause = failure_cause(WorkflowTaskFailedCause.Name(attrs.cause))
                health.message = await _message(client, attrs.failure)
            elif event.event_type == EventType.EVENT_TYPE_WORKFLOW_TASK_TIMED_OUT:
                health.cause, health.message = "", "timed out (no worker answered in time)"
        if check.report:
            report_workflow_task_failing(health, check.about)
        return health

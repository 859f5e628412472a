"""Workflows stuck on a failure that keeps coming back: the running workflows (Temporal
visibility) whose pending activity has failed at least `ACTIVITY_ATTEMPTS` times, or whose
workflow task keeps failing (attempt above 1: a code error such as nondeterminism). Served as
GET /api/operations/stuck and shown on the console's Today page, each with the last error in
plain words and a link to the Temporal web UI. The running workflows' descriptions come from the
scan /metrics also reads (api/running.py: reused for WORKFLOW_SCAN_SECONDS)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any, Literal
from urllib.parse import quote

from pydantic import BaseModel
from temporalio.api.enums.v1 import EventType
from temporalio.client import Client, WorkflowExecutionDescription
from temporalio.exceptions import ApplicationError

from api.running import DESCRIBE_CONCURRENCY, RunningScan, describe_running
from config import Settings
from domain.workflow_health import workflow_task_failing

ACTIVITY_ATTEMPTS = 3  # an activity's third attempt: it failed twice and retries again
Reason = Literal[
    "service_unavailable", "rate_limited", "timeout", "refused", "nondeterminism", "code", "other"
]


class StuckWorkflow(BaseModel):
    workflow_id: str
    run_id: str
    workflow_type: str
    kind: Literal["activity", "workflow_task"]
    activity_type: str = ""  # the failing activity (kind "activity")
    attempt: int
    reason: Reason  # the last error, classified (the console words it in the page's language)
    last_error: str  # the error's own message, first line, shortened
    failed_at: datetime | None = None
    ui_url: str  # the workflow in the Temporal web UI


class StuckReport(BaseModel):
    workflows: list[StuckWorkflow]
    scanned: int  # running workflows looked at (at most `limit`)
    ui_url: str


def ui_base(settings: Settings) -> str:
    return (settings.temporal_ui_url or f"http://127.0.0.1:{settings.temporal_ui_port}").rstrip("/")


def ui_link(settings: Settings, workflow_id: str, run_id: str) -> str:
    namespace = quote(settings.temporal_namespace, safe="")
    path = f"/namespaces/{namespace}/workflows/{quote(workflow_id, safe='')}/{run_id}/history"
    return ui_base(settings) + path


def classify(message: str, error_type: str = "", status: int | None = None) -> Reason:
    """The kind of a failure, from the vendor's HTTP status (adapters put it in the error's
    details), its type (`RateLimitedError`, `PermanentError`, ...) and its message."""
    if status == 429:
        return "rate_limited"
    if status is not None and status >= 500:
        return "service_unavailable"
    if status is not None and status >= 400:
        return "refused"
    text = f"{error_type} {message}".lower()
    if "nondeterminism" in text or "tmprl1100" in text:
        return "nondeterminism"
    if any(k in text for k in ("429", "ratelimited", "rate limit", "too many requests")):
        return "rate_limited"
    if "timeout" in text or "timed out" in text:
        return "timeout"
    if any(k in text for k in ("500", "502", "503", "504", "unavailable", "connect")):
        return "service_unavailable"
    refusals = ("400", "401", "403", "404", "409", "422", "permanent", "refused", "invalid")
    if any(k in text for k in refusals):
        return "refused"
    if error_type in {"TypeError", "AttributeError", "KeyError", "ValueError", "AssertionError"}:
        return "code"
    return "other"


def nondeterminism_or_code(message: str, error_type: str) -> Reason:
    return "nondeterminism" if classify(message, error_type) == "nondeterminism" else "code"


def _first_line(message: str, limit: int = 300) -> str:
    line = message.strip().splitlines()[0] if message.strip() else ""
    return line if len(line) <= limit else line[: limit - 1] + "…"


def _failure_type(failure: Any) -> str:
    info = failure.application_failure_info
    return str(info.type) if info and info.type else ""


async def _read(client: Client, failure: Any) -> tuple[str, str, int | None]:
    """(message, error type, vendor HTTP status) of a failure. Messages and details go through
    the client's converter (the payload codec encrypts them: the raw message says only "Encoded
    failure"); adapter errors carry the vendor's status in their details."""
    try:
        error: BaseException | None = await client.data_converter.decode_failure(failure)
    except Exception:  # noqa: BLE001 - undecodable: what the raw failure says
        cause = failure.cause if failure.HasField("cause") else failure
        return cause.message or failure.message, _failure_type(cause), None
    while error is not None and not isinstance(error, ApplicationError):
        error = error.__cause__  # past the activity/child wrapper to what the code raised
    found = error
    if found is None:
        return failure.message, _failure_type(failure), None
    details = found.details
    status = details[0].get("status") if details and isinstance(details[0], dict) else None
    return found.message, found.type or "", status if isinstance(status, int) else None


def _when(stamp: Any) -> datetime | None:
    if stamp is None or not stamp.seconds:
        return None
    return datetime.fromtimestamp(stamp.seconds + stamp.nanos / 1e9, tz=UTC)


async def _last_task_failure(client: Client, workflow_id: str, run_id: str) -> tuple[str, str]:
    """The message and type of the workflow's last failed workflow task (the history keeps the
    first failure of a retried task)."""
    handle = client.get_workflow_handle(workflow_id, run_id=run_id)
    failure = None
    async for event in handle.fetch_history_events():
        if event.event_type == EventType.EVENT_TYPE_WORKFLOW_TASK_FAILED:
            failure = event.workflow_task_failed_event_attributes.failure
    if failure is None:
        return "", ""
    message, kind, _ = await _read(client, failure)
    return message, kind


async def _inspect(
    client: Client, settings: Settings, description: WorkflowExecutionDescription
) -> StuckWorkflow | None:
    workflow_id, run_id = description.id, description.run_id
    raw = description.raw_description
    common = {
        "workflow_id": workflow_id,
        "run_id": run_id,
        "workflow_type": description.workflow_type,
        "ui_url": ui_link(settings, workflow_id, run_id),
    }
    task = raw.pending_workflow_task if raw.HasField("pending_workflow_task") else None
    if task is not None and workflow_task_failing(
        task.attempt, settings.workflow_task_alert_attempts
    ):
        message, kind = await _last_task_failure(client, workflow_id, run_id)
        return StuckWorkflow(
            **common,
            kind="workflow_task",
            attempt=task.attempt,
            # a failing workflow task is the code's own error unless it says otherwise
            reason=nondeterminism_or_code(message, kind),
            last_error=_first_line(message),
            failed_at=_when(task.original_scheduled_time),
        )
    failing = [a for a in raw.pending_activities if a.attempt >= ACTIVITY_ATTEMPTS]
    if not failing:
        return None
    worst = max(failing, key=lambda a: a.attempt)
    message, kind, status = await _read(client, worst.last_failure)
    return StuckWorkflow(
        **common,
        kind="activity",
        activity_type=worst.activity_type.name,
        attempt=worst.attempt,
        reason=classify(message, kind, status),
        last_error=_first_line(f"HTTP {status}: {message}" if status else message),
        failed_at=_when(worst.last_attempt_complete_time),
    )


async def stuck_workflows(
    client: Client, settings: Settings, limit: int = 500, scan: RunningScan | None = None
) -> StuckReport:
    """The stuck ones among the running workflows (up to `limit`), most attempts first, from
    `scan` (the API's shared one, api/running.py) or a scan of their own."""
    if scan is None:
        scan = await describe_running(client, limit)
    gate = asyncio.Semaphore(DESCRIBE_CONCURRENCY)

    async def one(description: WorkflowExecutionDescription) -> StuckWorkflow | None:
        async with gate:  # the stuck ones read their last failure (a history for a task's)
            return await _inspect(client, settings, description)

    found = await asyncio.gather(*(one(d) for d in scan.descriptions))
    stuck = sorted((s for s in found if s), key=lambda s: (-s.attempt, s.workflow_id))
    return StuckReport(workflows=stuck, scanned=scan.scanned, ui_url=ui_base(settings))

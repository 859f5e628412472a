"""Starting, updating and querying workflows BY NAME with the contract models (the API never
imports workflow classes or activities). Starting twice returns the existing run."""

from __future__ import annotations

from typing import Any, TypeVar

from litestar.exceptions import HTTPException, NotFoundException
from litestar.status_codes import HTTP_409_CONFLICT, HTTP_422_UNPROCESSABLE_ENTITY
from pydantic import BaseModel
from temporalio.client import (
    Client,
    WorkflowExecutionStatus,
    WorkflowHandle,
    WorkflowQueryFailedError,
    WorkflowUpdateFailedError,
)
from temporalio.common import WorkflowIDConflictPolicy
from temporalio.exceptions import ApplicationError, WorkflowAlreadyStartedError
from temporalio.service import RPCError, RPCStatusCode

from api.temporal import TemporalGateway
from config import Settings
from domain.errors import CONFLICT, INVALID_STATE, MEDIA_MISSING, VALIDATION_FAILED
from workflows.contracts.policies import id_reuse_policy

R = TypeVar("R")


class Started(BaseModel):
    workflow_id: str
    run_id: str | None = None
    already_started: bool


class WorkflowState(BaseModel):
    workflow_id: str
    workflow_type: str
    status: str
    run_id: str
    start_time: str | None = None
    close_time: str | None = None
    detail: dict[str, Any] | None = None


async def start(
    client: Client, settings: Settings, workflow: str, arg: BaseModel, workflow_id: str
) -> Started:
    try:
        handle = await client.start_workflow(
            workflow,
            arg,
            id=workflow_id,
            task_queue=settings.temporal_task_queue,
            id_reuse_policy=id_reuse_policy(workflow),
            id_conflict_policy=WorkflowIDConflictPolicy.FAIL,
        )
    except WorkflowAlreadyStartedError:
        try:
            running = await client.get_workflow_handle(workflow_id).describe()
        except RPCError:
            return Started(workflow_id=workflow_id, already_started=True)
        return Started(workflow_id=workflow_id, run_id=running.run_id, already_started=True)
    except RPCError as exc:
        raise _rpc_to_http(exc, workflow_id) from exc
    return Started(workflow_id=workflow_id, run_id=handle.result_run_id, already_started=False)


async def update(
    client: Client, workflow_id: str, name: str, arg: BaseModel, result_type: type[R]
) -> R:
    handle: WorkflowHandle[Any, Any] = client.get_workflow_handle(workflow_id)
    try:
        return await handle.execute_update(name, arg, result_type=result_type)
    except WorkflowUpdateFailedError as exc:
        raise HTTPException(
            status_code=HTTP_409_CONFLICT
            if not _is_validation(exc.cause)
            else HTTP_422_UNPROCESSABLE_ENTITY,
            detail=_message(exc.cause) or "the workflow refused the update",
        ) from exc
    except RPCError as exc:
        raise _rpc_to_http(exc, workflow_id) from exc


async def query(client: Client, workflow_id: str, name: str, result_type: type[R]) -> R:
    handle: WorkflowHandle[Any, Any] = client.get_workflow_handle(workflow_id)
    try:
        return await handle.query(name, result_type=result_type)
    except WorkflowQueryFailedError as exc:
        raise HTTPException(status_code=HTTP_409_CONFLICT, detail=str(exc)) from exc
    except RPCError as exc:
        raise _rpc_to_http(exc, workflow_id) from exc


async def signal_if_running(client: Client, workflow_id: str, name: str) -> bool:
    """Signal the workflow when it is still running; False when it has finished or is gone
    (the caller's change is already in the database)."""
    handle: WorkflowHandle[Any, Any] = client.get_workflow_handle(workflow_id)
    try:
        await handle.signal(name)
    except RPCError as exc:
        if exc.status == RPCStatusCode.NOT_FOUND:
            return False
        raise _rpc_to_http(exc, workflow_id) from exc
    return True


async def describe(client: Client, workflow_id: str) -> WorkflowState:
    handle: WorkflowHandle[Any, Any] = client.get_workflow_handle(workflow_id)
    try:
        info = await handle.describe()
    except RPCError as exc:
        raise _rpc_to_http(exc, workflow_id) from exc
    status = info.status or WorkflowExecutionStatus.RUNNING
    return WorkflowState(
        workflow_id=info.id,
        workflow_type=info.workflow_type,
        status=status.name.lower(),
        run_id=info.run_id,
        start_time=info.start_time.isoformat() if info.start_time else None,
        close_time=info.close_time.isoformat() if info.close_time else None,
    )


async def live_status(
    temporal: TemporalGateway, workflow_id: str, name: str, result_type: type[R]
) -> R | None:
    """The live status for a detail page; None when Temporal or the workflow cannot answer,
    so the page still shows the database view."""
    try:
        return await query(await temporal.client(), workflow_id, name, result_type)
    except HTTPException:  # TemporalUnavailable, or the workflow is gone
        return None


def _is_validation(cause: BaseException | None) -> bool:
    if isinstance(cause, ApplicationError):
        return cause.type in {
            VALIDATION_FAILED,
            "ValueError",
            "ValidationError",
            MEDIA_MISSING,
        } or (cause.non_retryable and cause.type not in {INVALID_STATE, CONFLICT})
    return False


def _message(cause: BaseException | None) -> str:
    if cause is None:
        return ""
    return getattr(cause, "message", None) or str(cause)


def _rpc_to_http(exc: RPCError, workflow_id: str) -> HTTPException:
    if exc.status == RPCStatusCode.NOT_FOUND:
        if "completed" in exc.message:
            return HTTPException(
                status_code=HTTP_409_CONFLICT, detail=f"workflow {workflow_id} has already finished"
            )
        return NotFoundException(detail=f"workflow {workflow_id} not found")
    from api.temporal import TemporalUnavailable

    if exc.status in (RPCStatusCode.UNAVAILABLE, RPCStatusCode.DEADLINE_EXCEEDED):
        return TemporalUnavailable(detail="the workflow engine (Temporal) is not reachable")
    return HTTPException(status_code=HTTP_409_CONFLICT, detail=exc.message)

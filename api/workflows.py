"""Starting, updating, signalling and querying workflows BY NAME with the contract models (the
API never imports workflow classes or activities). Starting twice returns the existing run."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import timedelta
from typing import Any, Protocol, TypeVar

from litestar import Response
from litestar.exceptions import HTTPException, NotFoundException
from litestar.openapi.datastructures import ResponseSpec
from litestar.status_codes import (
    HTTP_200_OK,
    HTTP_202_ACCEPTED,
    HTTP_409_CONFLICT,
    HTTP_422_UNPROCESSABLE_ENTITY,
)
from pydantic import BaseModel
from temporalio.client import (
    Client,
    WorkflowExecutionStatus,
    WorkflowHandle,
    WorkflowQueryFailedError,
    WorkflowQueryRejectedError,
    WorkflowUpdateFailedError,
)
from temporalio.common import QueryRejectCondition, WorkflowIDConflictPolicy
from temporalio.exceptions import ApplicationError, WorkflowAlreadyStartedError
from temporalio.service import RPCError, RPCStatusCode

from api.temporal import TemporalGateway
from config import Settings
from domain.errors import CONFLICT, INVALID_STATE, MEDIA_MISSING, VALIDATION_FAILED
from workflows.contracts.common import STATUS_QUERY, StaffAnswer
from workflows.contracts.policies import id_reuse_policy

R = TypeVar("R")

ANSWER_WAIT_SECONDS = 10.0
"""How long a staff command waits for the workflow's answer before it is answered 202."""


class Started(BaseModel):
    workflow_id: str
    run_id: str | None = None
    already_started: bool


class CommandPending(BaseModel):
    """202: the workflow has the command (a signal, in its history) but has not answered within
    the wait (no worker up, a busy one): it applies its rule when it runs; the answer then shows in
    its status (`answers`, by `request_id`)."""

    request_id: str
    detail: str = "sent; the workflow has not answered yet"


class Answering(Protocol):
    """A status query result that carries the answers to signalled staff commands."""

    answers: list[StaffAnswer]


S = TypeVar("S", bound=Answering)


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


async def command(
    client: Client,
    workflow_id: str,
    signal: str,
    arg: BaseModel,
    request_id: str,
    status_type: type[S],
    refusal: Callable[[S], str | None],
    wait: float = ANSWER_WAIT_SECONDS,
) -> S | CommandPending:
    """A staff command sent as a signal and answered like an update was: the workflow's status
    first (409 when it has finished; 422 with the rule's message when `refusal` already says no,
    and nothing is sent), then the signal, then the answer to `request_id` in the status (the
    status when accepted, 422 with the workflow's reason when refused), or CommandPending after
    `wait` seconds. Signals, not updates: see docs/architecture.md ("Staff commands")."""
    handle: WorkflowHandle[Any, Any] = client.get_workflow_handle(workflow_id)
    try:
        before = await handle.query(
            STATUS_QUERY,
            result_type=status_type,
            reject_condition=QueryRejectCondition.NOT_OPEN,
            rpc_timeout=timedelta(seconds=3),
        )
    except WorkflowQueryRejectedError as exc:
        raise HTTPException(
            status_code=HTTP_409_CONFLICT, detail=f"workflow {workflow_id} has already finished"
        ) from exc
    except RPCError as exc:
        if exc.status == RPCStatusCode.NOT_FOUND:
            raise _rpc_to_http(exc, workflow_id) from exc
        before = None  # no worker answers queries now: the workflow applies the rule itself
    except WorkflowQueryFailedError:
        before = None
    if before is not None and (reason := refusal(before)) is not None:
        raise HTTPException(status_code=HTTP_422_UNPROCESSABLE_ENTITY, detail=reason)
    try:
        await handle.signal(signal, arg)
    except RPCError as exc:
        raise _rpc_to_http(exc, workflow_id) from exc
    loop = asyncio.get_running_loop()
    deadline = loop.time() + wait
    pause = 0.02  # the answer is usually there within the next workflow task: ask soon
    while (left := deadline - loop.time()) > 0:
        await asyncio.sleep(min(pause, left))
        pause = min(pause * 2, 0.25)
        try:
            status = await handle.query(
                STATUS_QUERY,
                result_type=status_type,
                rpc_timeout=timedelta(seconds=max(1.0, deadline - loop.time())),
            )
        except (RPCError, WorkflowQueryFailedError):
            continue  # a worker restarting: ask again until the wait is over
        answer = next((a for a in status.answers if a.request_id == request_id), None)
        if answer is None:
            continue
        if not answer.accepted:
            raise HTTPException(status_code=HTTP_422_UNPROCESSABLE_ENTITY, detail=answer.reason)
        return status
    return CommandPending(request_id=request_id)


def command_responses(status_type: type[BaseModel]) -> dict[int, ResponseSpec]:
    """The OpenAPI answers of a route that sends a staff command through `command`."""
    return {
        HTTP_200_OK: ResponseSpec(
            data_container=status_type, description="Accepted: the workflow's status after it"
        ),
        HTTP_202_ACCEPTED: ResponseSpec(
            data_container=CommandPending,
            description=f"Sent, not answered within {ANSWER_WAIT_SECONDS:g} s (no worker up): the"
            " workflow applies the same rules when it runs; its answer shows in its live status"
            " (`answers`, by `request_id`)",
        ),
    }


def command_response(answer: BaseModel) -> Response[Any]:
    """200 with the status, or 202 with the CommandPending."""
    pending = isinstance(answer, CommandPending)
    return Response(answer, status_code=HTTP_202_ACCEPTED if pending else HTTP_200_OK)


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

"""Operations: trigger the order sync, list/pause/unpause/trigger the schedules (admin), provider
health (admin), any workflow's status by id and the stuck workflows (admin, staff)."""

from __future__ import annotations

import re
from typing import Any

from litestar import Request, Response, Router, get, post
from litestar.di import NamedDependency
from litestar.exceptions import NotFoundException
from litestar.params import FromPath, FromQuery, JSONBody, Parameter
from litestar.security.jwt import Token
from litestar.status_codes import HTTP_200_OK, HTTP_202_ACCEPTED
from pydantic import Field
from temporalio.service import RPCError

import schedules
from api import workflows as wf
from api.fields import RequestBody
from api.provider_health import HealthReport, provider_health
from api.routes.products import STARTED_RESPONSES
from api.running import STUCK_LIMIT
from api.schedule_control import change_schedule
from api.security.guards import ADMIN, STAFF
from api.security.tokens import AuthUser
from api.stuck import StuckReport, stuck_workflows
from api.temporal import TemporalGateway
from config import Settings
from schedules import ScheduleView
from workflows.contracts.ops import ORDER_SYNC_WORKFLOW

AuthRequest = Request[AuthUser, Token, Any]
MANUAL_ORDER_SYNC_ID = "order-sync-manual"
WORKFLOW_ID = re.compile(r"^[A-Za-z0-9:._@-]{1,200}$")


class Note(RequestBody):
    note: str = Field(default="", max_length=500)


@post(
    "/order-sync",
    guards=[STAFF],
    summary="Run the eBay order sync now (one manual run at a time)",
    responses=STARTED_RESPONSES,
    status_code=HTTP_202_ACCEPTED,
)
async def trigger_order_sync(
    settings: NamedDependency[Settings], temporal: NamedDependency[TemporalGateway]
) -> Response[wf.Started]:
    client = await temporal.client()
    started = await wf.start(
        client,
        settings,
        ORDER_SYNC_WORKFLOW,
        schedules.order_sync_input(settings),
        MANUAL_ORDER_SYNC_ID,
    )
    return Response(
        started, status_code=HTTP_200_OK if started.already_started else HTTP_202_ACCEPTED
    )


@get("/schedules", guards=[ADMIN], summary="The periodic jobs and their state")
async def list_schedules(temporal: NamedDependency[TemporalGateway]) -> list[ScheduleView]:
    client = await temporal.client()
    try:
        return await schedules.list_schedules(client)
    except RPCError as exc:
        raise wf._rpc_to_http(exc, "schedules") from exc


@post(
    "/schedules/{schedule_id:str}/pause",
    guards=[ADMIN],
    status_code=HTTP_200_OK,
    summary="Pause a schedule (with a note)",
)
async def pause_schedule(
    schedule_id: FromPath[str],
    temporal: NamedDependency[TemporalGateway],
    data: JSONBody[Note | None] = None,
) -> ScheduleView:
    return await change_schedule(temporal, schedule_id, "pause", data.note if data else "")


@post(
    "/schedules/{schedule_id:str}/unpause",
    guards=[ADMIN],
    status_code=HTTP_200_OK,
    summary="Resume a paused schedule",
)
async def unpause_schedule(
    schedule_id: FromPath[str],
    temporal: NamedDependency[TemporalGateway],
    data: JSONBody[Note | None] = None,
) -> ScheduleView:
    return await change_schedule(temporal, schedule_id, "unpause", data.note if data else "")


@post(
    "/schedules/{schedule_id:str}/trigger",
    guards=[ADMIN],
    status_code=HTTP_200_OK,
    summary="Run a schedule's job now (skipped if the previous run is still going)",
)
async def trigger_schedule(
    schedule_id: FromPath[str], temporal: NamedDependency[TemporalGateway]
) -> ScheduleView:
    return await change_schedule(temporal, schedule_id, "trigger", "")


@get("/health", guards=[ADMIN], summary="Provider health (the doctor's checks, cached 30 s)")
async def health_report(
    request: AuthRequest,
    settings: NamedDependency[Settings],
    refresh: FromQuery[bool] = False,
) -> HealthReport:
    """`worlddoor doctor`'s checks run here with a short timeout each; `refresh=true` runs them
    again instead of answering from the cache."""
    return await provider_health(request.app.state, settings).report(refresh=refresh)


@get("/workflows/{workflow_id:str}", guards=[STAFF], summary="Any workflow's status by id")
async def workflow_status(
    workflow_id: FromPath[str], temporal: NamedDependency[TemporalGateway]
) -> wf.WorkflowState:
    if not WORKFLOW_ID.fullmatch(workflow_id):
        raise NotFoundException(f"workflow {workflow_id} not found")
    client = await temporal.client()
    return await wf.describe(client, workflow_id)


@get(
    "/stuck",
    guards=[STAFF],
    summary="Running workflows stuck on a failure that keeps coming back",
    description="Running workflows whose pending activity has failed at least 3 times, or whose "
    "workflow task keeps failing (attempt above 1, e.g. a nondeterminism error): the last error "
    "(`reason` classifies it, `last_error` is its first line) and a link to the Temporal web UI "
    "(`TEMPORAL_UI_URL`). Looks at up to `limit` running workflows, as described at most "
    "`WORKFLOW_SCAN_SECONDS` ago.",
)
async def stuck(
    settings: NamedDependency[Settings],
    temporal: NamedDependency[TemporalGateway],
    limit: int = Parameter(default=STUCK_LIMIT, ge=1, le=5000),
) -> StuckReport:
    client = await temporal.client()
    try:
        scan = await temporal.running.scan(client, limit)  # shared with /metrics
        return await stuck_workflows(client, settings, limit, scan)
    except RPCError as exc:
        raise wf._rpc_to_http(exc, "stuck") from exc


def routers() -> list[Router]:
    return [
        Router(
            path="/api/operations",
            guards=[STAFF],
            tags=["operations"],
            route_handlers=[
                trigger_order_sync,
                list_schedules,
                pause_schedule,
                unpause_schedule,
                trigger_schedule,
                health_report,
                workflow_status,
                stuck,
            ],
        )
    ]

"""Pausing, resuming and running the periodic jobs (Temporal schedules) by hand: one service
for the API's operations routes and the console's Operations page."""

from __future__ import annotations

from typing import Literal

from litestar.exceptions import ClientException, NotFoundException
from temporalio.service import RPCError, RPCStatusCode

import schedules
from api import workflows as wf
from api.temporal import TemporalGateway
from schedules import ScheduleView

ScheduleAction = Literal["pause", "unpause", "trigger"]
ACTIONS: tuple[ScheduleAction, ...] = ("pause", "unpause", "trigger")


async def change_schedule(
    temporal: TemporalGateway, schedule_id: str, action: ScheduleAction, note: str = ""
) -> ScheduleView:
    """Pause (with a note), resume, or trigger one schedule; returns its state afterwards.
    404 for a schedule we do not have, 409 when the worker has not created it yet."""
    if schedule_id not in schedules.SCHEDULE_IDS:
        known = ", ".join(schedules.SCHEDULE_IDS)
        raise NotFoundException(f"unknown schedule {schedule_id!r}; known: {known}")
    client = await temporal.client()
    try:
        if action == "pause":
            await schedules.pause_schedule(client, schedule_id, note or "paused by staff")
        elif action == "unpause":
            await schedules.unpause_schedule(client, schedule_id, note or "resumed by staff")
        else:
            await schedules.trigger_schedule(client, schedule_id)
    except RPCError as exc:
        if exc.status == RPCStatusCode.NOT_FOUND:
            raise ClientException(
                status_code=409,
                detail=f"schedule {schedule_id} does not exist yet (the worker creates it)",
            ) from exc
        raise wf._rpc_to_http(exc, schedule_id) from exc
    views = {v.schedule_id: v for v in await schedules.list_schedules(client)}
    return views[schedule_id]

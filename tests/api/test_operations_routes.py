"""Schedules through the API (admin): list, pause, unpause, trigger, on the real Temporal server."""

from __future__ import annotations

import asyncio
import uuid
from datetime import timedelta

from temporalio.client import (
    Schedule,
    ScheduleActionStartWorkflow,
    ScheduleAlreadyRunningError,
    ScheduleIntervalSpec,
    ScheduleSpec,
)

from tests.api.conftest import login
from workflows.contracts.ops import ORDER_SYNC_SCHEDULE, OrderSyncInput


async def test_schedules_pause_unpause_trigger(make_client, make_user, temporal_env):
    client = temporal_env.client
    created = False
    try:
        await client.create_schedule(
            ORDER_SYNC_SCHEDULE,
            Schedule(
                # A queue without a worker: a triggered run is recorded but does nothing here.
                action=ScheduleActionStartWorkflow(
                    "OrderSyncWorkflow",
                    OrderSyncInput(),
                    id=f"order-sync-test-{uuid.uuid4().hex[:6]}",
                    task_queue=f"idle-{uuid.uuid4().hex[:6]}",
                ),
                spec=ScheduleSpec(intervals=[ScheduleIntervalSpec(every=timedelta(hours=6))]),
            ),
        )
        created = True
    except ScheduleAlreadyRunningError:
        pass  # another test's schedule: use it and leave it as found
    before = (await client.get_schedule_handle(ORDER_SYNC_SCHEDULE).describe()).schedule.state
    try:
        async with make_client(temporal_client=client) as api:
            admin = await login(api, await make_user("admin"))
            staff = await login(api, await make_user("staff"))
            listed = await api.get("/api/operations/schedules", headers=admin.headers)
            assert listed.status_code == 200, listed.text
            views = {v["schedule_id"]: v for v in listed.json()}
            assert views[ORDER_SYNC_SCHEDULE]["workflow"] == "OrderSyncWorkflow"
            forbidden = await api.post(
                f"/api/operations/schedules/{ORDER_SYNC_SCHEDULE}/pause", headers=staff.headers
            )
            assert forbidden.status_code == 403
            paused = await api.post(
                f"/api/operations/schedules/{ORDER_SYNC_SCHEDULE}/pause",
                headers=admin.headers,
                json={"note": "eBay maintenance"},
            )
            assert paused.status_code == 200, paused.text
            assert paused.json()["paused"] is True and paused.json()["note"] == "eBay maintenance"
            unpaused = await api.post(
                f"/api/operations/schedules/{ORDER_SYNC_SCHEDULE}/unpause", headers=admin.headers
            )
            assert unpaused.json()["paused"] is False
            last_run = unpaused.json()["last_run"]
            triggered = await api.post(
                f"/api/operations/schedules/{ORDER_SYNC_SCHEDULE}/trigger", headers=admin.headers
            )
            assert triggered.status_code == 200, triggered.text
            for _ in range(50):
                again = await api.get("/api/operations/schedules", headers=admin.headers)
                mine = next(v for v in again.json() if v["schedule_id"] == ORDER_SYNC_SCHEDULE)
                if mine["last_run"] and mine["last_run"] != last_run:
                    break
                await asyncio.sleep(0.1)
            else:
                raise AssertionError("the trigger did not run the schedule's action")
            assert mine["last_workflow_id"].startswith(("order-sync-test-", "order-sync"))
            unknown = await api.post(
                "/api/operations/schedules/not-a-schedule/pause", headers=admin.headers
            )
            assert unknown.status_code == 404
    finally:
        handle = client.get_schedule_handle(ORDER_SYNC_SCHEDULE)
        if created:
            await handle.delete()
        elif before.paused:
            await handle.pause(note=before.note)
        else:
            await handle.unpause(note=before.note)

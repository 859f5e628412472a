"""Temporal Schedules on the real dev server: idempotent create-or-update with the exact IDs,
overlap SKIP, the intervals, state kept on update, pause/unpause/trigger helpers."""

from __future__ import annotations

import asyncio
import uuid
from datetime import timedelta

import pytest
from temporalio.client import ScheduleOverlapPolicy

from schedules import (
    SCHEDULE_IDS,
    delete_schedules,
    ensure_schedules,
    list_schedules,
    pause_schedule,
    trigger_schedule,
    unpause_schedule,
)
from workflows.contracts.ops import OrderSyncInput
from workflows.storage_cleanup import StorageCleanupWorkflow

pytestmark = pytest.mark.timeout(60)

EXPECTED = {
    "order-sync": ("OrderSyncWorkflow", timedelta(minutes=10)),
    "tracking-refresh": ("TrackingRefreshWorkflow", timedelta(minutes=30)),
    "inventory-sync": ("InventorySyncWorkflow", timedelta(hours=1)),
    "storage-cleanup": ("StorageCleanupWorkflow", timedelta(days=1)),
    "database-backup": ("DatabaseBackupWorkflow", timedelta(hours=1)),
}


@pytest.fixture(scope="module")
async def scheduling(temporal_env, settings, migrated_db, sandbox):
    """A worker on its own task queue, and settings pointing the schedules at it."""
    from worker import build_worker

    own = settings.model_copy(update={"temporal_task_queue": f"sched-{uuid.uuid4().hex[:8]}"})
    from adapters.s3 import Storage

    Storage(own).ensure_bucket()  # the triggered jobs list and write objects
    async with build_worker(temporal_env.client, own, task_queue=own.temporal_task_queue):
        yield temporal_env.client, own


@pytest.fixture
async def client(scheduling):
    """The schedules are removed before and after each test so they never fire into other
    tests (they are also created paused)."""
    client, _ = scheduling
    await delete_schedules(client)
    yield client
    await delete_schedules(client)


@pytest.fixture
def own_settings(scheduling):
    return scheduling[1]


async def test_ensure_is_idempotent_with_exact_ids(client, own_settings) -> None:
    settings = own_settings
    first = await ensure_schedules(client, settings, paused_on_create=True)
    assert first == dict.fromkeys(EXPECTED, "created")
    second = await ensure_schedules(client, settings)
    assert second == dict.fromkeys(EXPECTED, "updated")

    views = await list_schedules(client)
    assert tuple(v.schedule_id for v in views) == SCHEDULE_IDS == tuple(EXPECTED)
    for view in views:
        workflow, every = EXPECTED[view.schedule_id]
        assert view.workflow == workflow
        assert view.every_seconds == every.total_seconds()
        assert view.paused  # the update kept the state ops had (here: created paused)
    for schedule_id in SCHEDULE_IDS:
        desc = await client.get_schedule_handle(schedule_id).describe()
        assert desc.schedule.policy.overlap == ScheduleOverlapPolicy.SKIP
        assert desc.schedule.action.task_queue == settings.temporal_task_queue
    order_sync = await client.get_schedule_handle("order-sync").describe()
    raw = order_sync.schedule.action.args
    assert settings.staff_notification_email not in str(raw)  # encrypted at rest
    (arg,) = await client.data_converter.decode(raw, [OrderSyncInput])
    assert arg.staff_email == settings.staff_notification_email


async def test_pause_unpause_trigger(client, own_settings) -> None:
    settings = own_settings
    await ensure_schedules(client, settings, paused_on_create=True)
    await unpause_schedule(client, "tracking-refresh")
    await pause_schedule(client, "inventory-sync", note="eBay maintenance")
    views = {v.schedule_id: v for v in await list_schedules(client)}
    assert views["tracking-refresh"].paused is False
    assert views["tracking-refresh"].next_runs
    assert views["inventory-sync"].paused and views["inventory-sync"].note == "eBay maintenance"
    with pytest.raises(ValueError, match="unknown schedule"):
        await pause_schedule(client, "order-sync-typo")

    # Trigger the harmless one and watch it run to completion on the test worker.
    await trigger_schedule(client, "storage-cleanup")
    handle = client.get_schedule_handle("storage-cleanup")
    for _ in range(100):
        desc = await handle.describe()
        if desc.info.recent_actions:
            break
        await asyncio.sleep(0.1)
    action = desc.info.recent_actions[-1].action
    assert action.workflow_id.startswith("storage-cleanup")
    run = client.get_workflow_handle_for(StorageCleanupWorkflow.run, action.workflow_id)
    result = await asyncio.wait_for(run.result(), timeout=30)
    assert result.deleted >= 0
    views = {v.schedule_id: v for v in await list_schedules(client)}
    assert views["storage-cleanup"].last_workflow_id == action.workflow_id

"""Temporal Schedules for the periodic jobs (client side: the worker, the API and the CLI).

`ensure_schedules` is idempotent: it creates a missing schedule and updates an existing one to
the current definition while keeping its state (a schedule ops paused stays paused). Every
schedule skips a run while the previous one is still running (overlap SKIP) and catches up at
most one missed run after an outage.

| schedule id        | workflow                 | every                          |
|--------------------|--------------------------|--------------------------------|
| `order-sync`       | OrderSyncWorkflow        | 10 minutes                     |
| `tracking-refresh` | TrackingRefreshWorkflow  | 30 minutes                     |
| `inventory-sync`   | InventorySyncWorkflow    | 1 hour                         |
| `storage-cleanup`  | StorageCleanupWorkflow   | 1 day (at 18:00 UTC, 03:00 JST)|
| `database-backup`  | DatabaseBackupWorkflow   | BACKUP_INTERVAL_MINUTES (1 hour)|
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from pydantic import BaseModel
from temporalio.client import (
    Client,
    Schedule,
    ScheduleActionStartWorkflow,
    ScheduleAlreadyRunningError,
    ScheduleIntervalSpec,
    ScheduleOverlapPolicy,
    SchedulePolicy,
    ScheduleSpec,
    ScheduleState,
    ScheduleUpdate,
    ScheduleUpdateInput,
)
from temporalio.service import RPCError, RPCStatusCode

from config import Settings
from models.types import UTCDateTime
from workflows.contracts.backup import (
    DATABASE_BACKUP_SCHEDULE,
    DATABASE_BACKUP_WORKFLOW,
    DatabaseBackupInput,
)
from workflows.contracts.ops import (
    INVENTORY_SYNC_SCHEDULE,
    INVENTORY_SYNC_WORKFLOW,
    ORDER_SYNC_SCHEDULE,
    ORDER_SYNC_WORKFLOW,
    STORAGE_CLEANUP_SCHEDULE,
    STORAGE_CLEANUP_WORKFLOW,
    TRACKING_REFRESH_SCHEDULE,
    TRACKING_REFRESH_WORKFLOW,
    InventorySyncInput,
    OrderSyncInput,
    StorageCleanupInput,
    TrackingRefreshInput,
)


def order_sync_input(settings: Settings) -> OrderSyncInput:
    """The order sync's input from the settings (the schedule and the staff's manual sync)."""
    return OrderSyncInput(
        staff_email=settings.staff_notification_email,
        inspection_escalation_hours=settings.inspection_escalation_hours,
        max_transit_days=settings.max_transit_days,
        rate_choice_seconds=settings.rate_choice_minutes * 60,
    )


@dataclass(frozen=True)
class ScheduledJob:
    schedule_id: str
    workflow: str
    every: timedelta
    offset: timedelta
    arg: BaseModel
    summary: str


def scheduled_jobs(settings: Settings) -> list[ScheduledJob]:
    """The periodic jobs; the order sync carries the settings its fulfillment workflows need."""
    return [
        ScheduledJob(
            ORDER_SYNC_SCHEDULE,
            ORDER_SYNC_WORKFLOW,
            timedelta(minutes=10),
            timedelta(0),
            order_sync_input(settings),
            "import eBay orders modified since the watermark",
        ),
        ScheduledJob(
            TRACKING_REFRESH_SCHEDULE,
            TRACKING_REFRESH_WORKFLOW,
            timedelta(minutes=30),
            timedelta(0),
            TrackingRefreshInput(signals_carry_status=True),
            "refresh carrier tracking of shipments in transit",
        ),
        ScheduledJob(
            INVENTORY_SYNC_SCHEDULE,
            INVENTORY_SYNC_WORKFLOW,
            timedelta(hours=1),
            timedelta(0),
            InventorySyncInput(),
            "push price and quantity of listed products to eBay",
        ),
        ScheduledJob(
            STORAGE_CLEANUP_SCHEDULE,
            STORAGE_CLEANUP_WORKFLOW,
            timedelta(days=1),
            timedelta(hours=18),
            StorageCleanupInput(),
            "delete temp/ objects older than a day",
        ),
        ScheduledJob(
            DATABASE_BACKUP_SCHEDULE,
            DATABASE_BACKUP_WORKFLOW,
            timedelta(minutes=settings.backup_interval_minutes),
            timedelta(0),
            DatabaseBackupInput(
                keep_hourly_hours=settings.backup_keep_hourly_hours,
                keep_daily_days=settings.backup_keep_daily_days,
                keep_monthly_months=settings.backup_keep_monthly_months,
            ),
            "back up the database to S3 backups/ and apply the retention policy",
        ),
    ]


SCHEDULE_IDS = (
    ORDER_SYNC_SCHEDULE,
    TRACKING_REFRESH_SCHEDULE,
    INVENTORY_SYNC_SCHEDULE,
    STORAGE_CLEANUP_SCHEDULE,
    DATABASE_BACKUP_SCHEDULE,
)


def build_schedule(job: ScheduledJob, task_queue: str, paused: bool = False) -> Schedule:
    return Schedule(
        action=ScheduleActionStartWorkflow(
            job.workflow,
            job.arg,
            id=job.schedule_id,  # Temporal appends the run's timestamp
            task_queue=task_queue,
            static_summary=job.summary,
        ),
        spec=ScheduleSpec(intervals=[ScheduleIntervalSpec(every=job.every, offset=job.offset)]),
        policy=SchedulePolicy(overlap=ScheduleOverlapPolicy.SKIP, catchup_window=job.every),
        state=ScheduleState(paused=paused, note=job.summary if not paused else "created paused"),
    )


async def ensure_schedules(
    client: Client, settings: Settings, *, paused_on_create: bool = False
) -> dict[str, str]:
    """Create or update the schedules; returns {schedule_id: "created" | "updated"}."""
    outcome: dict[str, str] = {}
    for job in scheduled_jobs(settings):
        schedule = build_schedule(job, settings.temporal_task_queue, paused_on_create)
        try:
            await client.create_schedule(job.schedule_id, schedule)
            outcome[job.schedule_id] = "created"
        except ScheduleAlreadyRunningError:

            def keep_state(
                current: ScheduleUpdateInput, new: Schedule = schedule
            ) -> ScheduleUpdate:
                new.state = current.description.schedule.state
                return ScheduleUpdate(schedule=new)

            await client.get_schedule_handle(job.schedule_id).update(keep_state)
            outcome[job.schedule_id] = "updated"
    return outcome


class ScheduleView(BaseModel):
    schedule_id: str
    workflow: str
    paused: bool
    note: str = ""
    every_seconds: float | None = None
    next_runs: list[UTCDateTime] = []  # Temporal's protobuf times are naive UTC
    last_run: UTCDateTime | None = None
    last_workflow_id: str = ""


async def list_schedules(client: Client) -> list[ScheduleView]:
    """Our schedules, read by ID (not through eventually consistent visibility)."""
    found: list[ScheduleView] = []
    for schedule_id in SCHEDULE_IDS:
        try:
            desc = await client.get_schedule_handle(schedule_id).describe()
        except RPCError as error:
            if error.status == RPCStatusCode.NOT_FOUND:
                continue
            raise
        action: Any = desc.schedule.action
        intervals = desc.schedule.spec.intervals
        recent = desc.info.recent_actions[-1] if desc.info.recent_actions else None
        found.append(
            ScheduleView(
                schedule_id=schedule_id,
                workflow=getattr(action, "workflow", ""),
                paused=desc.schedule.state.paused,
                note=desc.schedule.state.note or "",
                every_seconds=intervals[0].every.total_seconds() if intervals else None,
                next_runs=list(desc.info.next_action_times[:3]),
                last_run=recent.started_at if recent else None,
                last_workflow_id=getattr(recent.action, "workflow_id", "") if recent else "",
            )
        )
    return found


def _check(schedule_id: str) -> str:
    if schedule_id not in SCHEDULE_IDS:
        raise ValueError(f"unknown schedule {schedule_id!r}; known: {', '.join(SCHEDULE_IDS)}")
    return schedule_id


async def pause_schedule(client: Client, schedule_id: str, note: str = "paused by staff") -> None:
    await client.get_schedule_handle(_check(schedule_id)).pause(note=note)


async def unpause_schedule(
    client: Client, schedule_id: str, note: str = "resumed by staff"
) -> None:
    await client.get_schedule_handle(_check(schedule_id)).unpause(note=note)


async def trigger_schedule(client: Client, schedule_id: str) -> None:
    """Run now (still skipped if the previous run is going)."""
    await client.get_schedule_handle(_check(schedule_id)).trigger(
        overlap=ScheduleOverlapPolicy.SKIP
    )


async def delete_schedules(client: Client) -> None:
    """Remove our schedules (tests and decommissioning)."""
    for schedule_id in SCHEDULE_IDS:
        try:
            await client.get_schedule_handle(schedule_id).delete()
        except RPCError as error:
            if error.status != RPCStatusCode.NOT_FOUND:
                raise

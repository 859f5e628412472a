"""Backup activities: thin wrappers over `ops/backup.py` with the worker's storage adapter."""

from __future__ import annotations

import contextvars
import threading

from temporalio import activity
from temporalio.exceptions import ApplicationError

from activities.base import external_call
from activities.deps import Dependencies
from adapters.backup_store import BackupStore
from ops.backup import BackupError, RetentionPolicy, apply_retention, create_backup
from workflows.contracts.backup import (
    APPLY_RETENTION_ACTIVITY,
    CREATE_BACKUP_ACTIVITY,
    ApplyRetention,
    BackupCreated,
    CreateBackup,
    RetentionApplied,
)

HEARTBEAT_SECONDS = 20


class BackupActivities:
    def __init__(self, deps: Dependencies) -> None:
        self.deps = deps

    @property
    def store(self) -> BackupStore:
        return BackupStore(self.deps.storage)

    @activity.defn(name=CREATE_BACKUP_ACTIVITY)
    @external_call
    def create_backup(self, request: CreateBackup) -> BackupCreated:
        done = threading.Event()
        context = contextvars.copy_context()  # the activity context lives in a contextvar
        beat = threading.Thread(target=context.run, args=(_heartbeat_until, done), daemon=True)
        beat.start()
        try:
            made = create_backup(self.deps.settings, self.store, request.taken_at)
        except BackupError as error:
            raise ApplicationError(str(error), type="BackupError") from error
        finally:
            done.set()
            beat.join()
        activity.logger.info("backup uploaded: %s (%s bytes)", made.key, made.size)
        return BackupCreated(
            key=made.key,
            size=made.size,
            sha256=made.sha256,
            engine=made.engine,
            revision=made.revision,
        )

    @activity.defn(name=APPLY_RETENTION_ACTIVITY)
    @external_call
    def apply_retention(self, request: ApplyRetention) -> RetentionApplied:
        policy = RetentionPolicy(
            request.keep_hourly_hours, request.keep_daily_days, request.keep_monthly_months
        )
        return RetentionApplied(deleted=apply_retention(self.store, request.now, policy))


def _heartbeat_until(done: threading.Event) -> None:
    """Heartbeat from a side thread while pg_dump runs (the activity context is copied)."""
    while not done.wait(HEARTBEAT_SECONDS):
        activity.heartbeat()

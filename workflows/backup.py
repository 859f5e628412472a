"""DatabaseBackupWorkflow: dump the database to S3 `backups/` with its checksum, then delete the
backups the retention policy no longer keeps. Started hourly by the `database-backup` schedule
(overlap SKIP) and by `worlddoor backup`."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from temporalio import workflow
from temporalio.common import RetryPolicy

with workflow.unsafe.imports_passed_through():
    from domain.errors import PERMANENT_ERRORS
    from workflows.contracts.backup import (
        APPLY_RETENTION_ACTIVITY,
        CREATE_BACKUP_ACTIVITY,
        DATABASE_BACKUP_WORKFLOW,
        ApplyRetention,
        BackupCreated,
        CreateBackup,
        DatabaseBackupInput,
        DatabaseBackupResult,
        RetentionApplied,
    )

DUMP: dict[str, Any] = {
    "start_to_close_timeout": timedelta(hours=1),
    "heartbeat_timeout": timedelta(minutes=2),
    "retry_policy": RetryPolicy(
        maximum_attempts=5,
        initial_interval=timedelta(seconds=30),
        non_retryable_error_types=PERMANENT_ERRORS,
    ),
}
"""A dump of a large database takes minutes; the activity heartbeats while pg_dump runs."""

RETENTION: dict[str, Any] = {
    "start_to_close_timeout": timedelta(minutes=5),
    "retry_policy": RetryPolicy(
        maximum_attempts=5,
        initial_interval=timedelta(seconds=10),
        non_retryable_error_types=PERMANENT_ERRORS,
    ),
}


@workflow.defn(name=DATABASE_BACKUP_WORKFLOW)
class DatabaseBackupWorkflow:
    @workflow.run
    async def run(self, request: DatabaseBackupInput) -> DatabaseBackupResult:
        now = workflow.now()
        workflow.set_current_details("dumping the database")
        backup = await workflow.execute_activity(
            CREATE_BACKUP_ACTIVITY,
            CreateBackup(taken_at=now),
            result_type=BackupCreated,
            summary="pg_dump / SQLite backup to S3 backups/",
            **DUMP,
        )
        # Retention runs only after a successful backup: a failing dump never thins the
        # backups that still exist.
        applied = await workflow.execute_activity(
            APPLY_RETENTION_ACTIVITY,
            ApplyRetention(
                now=now,
                keep_hourly_hours=request.keep_hourly_hours,
                keep_daily_days=request.keep_daily_days,
                keep_monthly_months=request.keep_monthly_months,
            ),
            result_type=RetentionApplied,
            **RETENTION,
        )
        workflow.set_current_details(
            f"{backup.key} ({backup.size} bytes); {len(applied.deleted)} old backups deleted"
        )
        return DatabaseBackupResult(backup=backup, deleted=applied.deleted)

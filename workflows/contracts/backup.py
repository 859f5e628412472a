"""Contract of the scheduled database backup (schedule `database-backup`, see schedules.py)."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

DATABASE_BACKUP_SCHEDULE = "database-backup"
DATABASE_BACKUP_WORKFLOW = "DatabaseBackupWorkflow"

CREATE_BACKUP_ACTIVITY = "backup.create"
APPLY_RETENTION_ACTIVITY = "backup.apply_retention"


class DatabaseBackupInput(BaseModel):
    """Retention numbers travel in the input, so a schedule update changes them."""

    keep_hourly_hours: int = Field(default=48, ge=1)
    keep_daily_days: int = Field(default=30, ge=1)
    keep_monthly_months: int = Field(default=12, ge=1)


class CreateBackup(BaseModel):
    taken_at: datetime  # the workflow's time: the key derives from it (retries overwrite)


class BackupCreated(BaseModel):
    key: str
    size: int
    sha256: str
    engine: str
    revision: str


class ApplyRetention(BaseModel):
    now: datetime
    keep_hourly_hours: int
    keep_daily_days: int
    keep_monthly_months: int


class RetentionApplied(BaseModel):
    deleted: list[str] = Field(default_factory=list)


class DatabaseBackupResult(BaseModel):
    backup: BackupCreated
    deleted: list[str] = Field(default_factory=list)

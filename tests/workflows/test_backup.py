"""DatabaseBackupWorkflow on the real dev server and worker: the dump lands in S3 backups/ with
its checksum, and the retention policy deletes what it no longer keeps (only after a backup)."""

from __future__ import annotations

import hashlib
import uuid
from datetime import UTC, datetime, timedelta

import pytest

from adapters.backup_store import BackupStore
from adapters.s3 import Storage
from ops.backup import backup_key
from workflows.backup import DatabaseBackupWorkflow
from workflows.contracts.backup import DatabaseBackupInput

pytestmark = pytest.mark.timeout(120)


async def test_backup_workflow_uploads_and_applies_retention(worker, settings, tmp_path) -> None:
    store = BackupStore(Storage(settings))
    Storage(settings).ensure_bucket()
    ancient = datetime.now(UTC) - timedelta(days=500)
    old_key = backup_key(ancient, "postgresql")
    store.client.put_object(Bucket=store.bucket, Key=old_key, Body=b"old")

    result = await worker.client.execute_workflow(
        DatabaseBackupWorkflow.run,
        DatabaseBackupInput(),
        id=f"database-backup-test-{uuid.uuid4().hex[:6]}",
        task_queue=worker.task_queue,
    )
    made = result.backup
    assert made.engine == ("sqlite" if settings.uses_sqlite else "postgresql")
    assert old_key in result.deleted
    assert made.key not in result.deleted
    head = store.head(made.key)
    assert head.metadata["sha256"] == made.sha256 and head.size == made.size
    path = tmp_path / "dump"
    store.download(made.key, path)
    assert hashlib.sha256(path.read_bytes()).hexdigest() == made.sha256
    assert old_key not in {item.key for item in store.list("backups/")}

"""The storage cleanup end to end on the real worker and S3: temp/ swept, nothing else."""

from __future__ import annotations

import asyncio
import uuid

import pytest
from temporalio.client import WorkflowFailureError

from workflows.contracts.ops import StorageCleanupInput
from workflows.storage_cleanup import StorageCleanupWorkflow

pytestmark = pytest.mark.timeout(90)


async def test_storage_cleanup_only_sweeps_temp(worker, clean_sandbox, settings) -> None:
    from adapters.s3 import Storage

    storage = Storage(settings)
    storage.ensure_bucket()
    temp_key = f"temp/upload-{uuid.uuid4().hex}.bin"
    kept_key = f"product-images/kept-{uuid.uuid4().hex}.jpg"
    storage.put_bytes(temp_key, b"scratch", "application/octet-stream")
    storage.put_bytes(kept_key, b"\xff\xd8\xff", "image/jpeg")
    await asyncio.sleep(2)
    result = await worker.client.execute_workflow(
        StorageCleanupWorkflow.run,
        StorageCleanupInput(max_age_hours=1 / 3600),
        id=f"storage-cleanup-test-{uuid.uuid4().hex[:8]}",
        task_queue=worker.task_queue,
    )
    assert result.deleted >= 1
    assert not storage.exists(temp_key) and storage.exists(kept_key)
    with pytest.raises(WorkflowFailureError) as refused:
        await worker.client.execute_workflow(
            StorageCleanupWorkflow.run,
            StorageCleanupInput(prefix="product-images/", max_age_hours=1 / 3600),
            id=f"storage-cleanup-test-{uuid.uuid4().hex[:8]}",
            task_queue=worker.task_queue,
        )
    assert "refusing to clean" in str(refused.value.cause.cause)
    assert storage.exists(kept_key)

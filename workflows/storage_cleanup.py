"""StorageCleanupWorkflow, started by the `storage-cleanup` schedule (overlap SKIP): deletes
temp/ objects older than a day."""

from __future__ import annotations

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from workflows.common import SLOW_EXTERNAL
    from workflows.contracts.ops import (
        CLEANUP_STORAGE_ACTIVITY,
        STORAGE_CLEANUP_WORKFLOW,
        StorageCleanupInput,
        StorageCleanupResult,
    )


@workflow.defn(name=STORAGE_CLEANUP_WORKFLOW)
class StorageCleanupWorkflow:
    @workflow.run
    async def run(self, request: StorageCleanupInput) -> StorageCleanupResult:
        result = await workflow.execute_activity(
            CLEANUP_STORAGE_ACTIVITY, request, result_type=StorageCleanupResult, **SLOW_EXTERNAL
        )
        workflow.set_current_details(f"{result.deleted} objects deleted under {request.prefix}")
        return result

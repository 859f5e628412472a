"""/metrics and the stuck list (GET /api/operations/stuck, the console's Today page) read one
describe-scan of the running workflows (api/running.py), reused for WORKFLOW_SCAN_SECONDS: the
second and third reader describe nothing; a reader asking for more than was scanned, or any
reader with the reuse off, scans again."""

from __future__ import annotations

import uuid
from collections import Counter
from typing import Any

import pytest

from tests.api.conftest import login

pytestmark = pytest.mark.timeout(120)


@pytest.fixture
def describes(monkeypatch) -> Counter[str]:
    """Workflow ids described through the Temporal client, counted."""
    from temporalio.client import WorkflowHandle

    counted: Counter[str] = Counter()
    original = WorkflowHandle.describe

    async def counting(self: WorkflowHandle[Any, Any], *args: Any, **kwargs: Any) -> Any:
        counted[self.id] += 1
        return await original(self, *args, **kwargs)

    monkeypatch.setattr(WorkflowHandle, "describe", counting)
    return counted


async def test_metrics_and_the_stuck_list_read_one_scan(
    make_client, make_user, temporal_env, describes
):
    # Running (no worker polls its queue: its first workflow task waits).
    handle = await temporal_env.client.start_workflow(
        "ScanTestWorkflow",
        id=f"scan-{uuid.uuid4().hex[:8]}",
        task_queue=f"scan-{uuid.uuid4().hex[:8]}",
    )
    try:
        shared = {"temporal_client": temporal_env.client, "metrics_cache_seconds": 0}
        async with make_client(workflow_scan_seconds=300, **shared) as client:
            staff = await login(client, await make_user("staff"))
            assert (await client.get("/metrics")).status_code == 200
            assert describes[handle.id] == 1
            scanned = sum(describes.values())
            stuck = await client.get("/api/operations/stuck", headers=staff.headers)
            assert stuck.status_code == 200 and stuck.json()["scanned"] >= 1
            assert (await client.get("/metrics")).status_code == 200
            assert sum(describes.values()) == scanned  # both read the first scan
            more = await client.get("/api/operations/stuck?limit=501", headers=staff.headers)
            assert more.status_code == 200
            assert describes[handle.id] == 2  # more than the scan covered: scanned again

        async with make_client(workflow_scan_seconds=0, **shared) as client:
            for _ in range(2):
                assert (await client.get("/metrics")).status_code == 200
            assert describes[handle.id] == 4  # reuse off: every reader scans
    finally:
        await handle.terminate("test over")

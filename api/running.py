"""One describe-scan of the running workflows, shared by every reader in the API process: the
"retrying" and "task failing" gauges of /metrics (api/metrics.py) and the stuck list
(GET /api/operations/stuck and the console's Today page, api/stuck.py).

Temporal's visibility does not index pending activities or workflow tasks, so a scan lists the
running workflows and describes each: one call per workflow. The metrics refresh and every
Today page load each made their own scan; now they share one.

The rule: a scan covers at least STUCK_LIMIT (500, the stuck list's default) or
METRICS_SCAN_LIMIT running workflows, whichever is more, and is reused for WORKFLOW_SCAN_SECONDS
(10 by default) by any reader asking for no more workflows than it covered (the gauges read
their first METRICS_SCAN_LIMIT); concurrent readers wait for the scan in progress instead of
starting their own. The gauges and the stuck list are thus at most that old, while a workflow
is listed as stuck only after failing for minutes (three attempts with backoff). 0 turns the
reuse off."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, replace

from temporalio.client import Client, WorkflowExecutionDescription

DESCRIBE_CONCURRENCY = 10
STUCK_LIMIT = 500
"""Running workflows the stuck list looks at unless asked otherwise (GET /api/operations/stuck,
the Today page)."""
RUNNING = 'ExecutionStatus = "Running"'


@dataclass(frozen=True)
class RunningScan:
    descriptions: list[WorkflowExecutionDescription]  # of the listed, still running when asked
    scanned: int  # running workflows listed (at most `limit`)
    limit: int
    taken_at: float  # time.monotonic()

    def first(self, limit: int) -> RunningScan:
        """The scan as if it had been asked for `limit` workflows."""
        if limit >= self.limit:
            return self
        return replace(
            self,
            descriptions=self.descriptions[:limit],
            scanned=min(self.scanned, limit),
            limit=limit,
        )


async def describe_running(client: Client, limit: int) -> RunningScan:
    """List up to `limit` running workflows and describe each (DESCRIBE_CONCURRENCY at once)."""
    running = [(e.id, e.run_id) async for e in client.list_workflows(RUNNING, limit=limit)]
    gate = asyncio.Semaphore(DESCRIBE_CONCURRENCY)

    async def one(workflow_id: str, run_id: str | None) -> WorkflowExecutionDescription | None:
        async with gate:
            try:
                return await client.get_workflow_handle(workflow_id, run_id=run_id).describe()
            except Exception:  # noqa: BLE001 - closed or deleted between the list and the describe
                return None

    found = await asyncio.gather(*(one(w, r) for w, r in running))
    return RunningScan(
        descriptions=[d for d in found if d is not None],
        scanned=len(running),
        limit=limit,
        taken_at=time.monotonic(),
    )


class RunningWorkflows:
    """The API process's shared scan (one per app, on its TemporalGateway)."""

    def __init__(self, reuse_seconds: float, least: int = STUCK_LIMIT) -> None:
        self.reuse_seconds = reuse_seconds
        self.least = least  # every scan covers at least this many, so each reader can reuse it
        self._last: RunningScan | None = None
        self._lock = asyncio.Lock()

    async def scan(self, client: Client, limit: int) -> RunningScan:
        async with self._lock:  # a reader arriving during a scan gets that scan
            last = self._last
            if (
                last is not None
                and last.limit >= limit
                and time.monotonic() - last.taken_at < self.reuse_seconds
            ):
                return last.first(limit)
            self._last = await describe_running(client, max(limit, self.least))
            return self._last.first(limit)

"""GET /api/operations/stuck on the real Temporal server and worker: a workflow whose eBay call
keeps failing (a fault injected in the eBay emulator) is listed with its error in plain words
and a link to the Temporal web UI."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
import pytest
from temporalio import workflow

from tests.api.conftest import Server, app_settings, free_port, login

pytestmark = pytest.mark.timeout(120)
EBAY_ORDERS = "/sell/fulfillment/v1/order"


@asynccontextmanager
async def failing_order_sync(client: Any, task_queue: str, sandbox_url: str) -> AsyncIterator[Any]:
    """An order sync whose eBay order fetch answers 503 every time, run until it has failed
    twice (its third attempt pending); terminated and the fault cleared afterwards."""
    from workflows.contracts.ops import OrderSyncInput

    async with httpx.AsyncClient() as http:
        fault = {"error_rate": 1.0, "error_status": 503, "path_contains": EBAY_ORDERS}
        (await http.post(f"{sandbox_url}/_sandbox/faults", json={"ebay": fault})).raise_for_status()
        handle = None
        try:
            handle = await client.start_workflow(
                "OrderSyncWorkflow",
                OrderSyncInput(state_name=f"stuck-{uuid.uuid4().hex[:8]}"),
                id=f"stuck-order-sync-{uuid.uuid4().hex[:8]}",
                task_queue=task_queue,
            )
            for _ in range(600):
                pending = (await handle.describe()).raw_description.pending_activities
                if pending and pending[0].attempt >= 3:
                    break
                await asyncio.sleep(0.05)
            else:
                raise AssertionError("the eBay fetch never reached its third attempt")
            yield handle
        finally:
            if handle is not None:
                await handle.terminate("test over")
            await http.delete(f"{sandbox_url}/_sandbox/faults")


async def test_a_workflow_whose_activity_keeps_failing_is_listed_with_its_error(
    make_user, worker, temporal_env, sandbox, settings
):
    from api.app import create_app

    app = create_app(
        app_settings(
            settings,
            temporal_address=temporal_env.client.service_client.config.target_host,
            temporal_task_queue=worker.task_queue,
            temporal_ui_url="http://temporal-ui.example:8080/",
        )
    )
    port = free_port()
    async with failing_order_sync(worker.client, worker.task_queue, sandbox.base_url) as handle:
        with Server(app, port):
            async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=30) as api:
                inspector = await login(api, await make_user("inspector"))
                refused = await api.get("/api/operations/stuck", headers=inspector.headers)
                assert refused.status_code == 403
                staff = await login(api, await make_user("staff"))
                answer = await api.get("/api/operations/stuck", headers=staff.headers)
                assert answer.status_code == 200, answer.text
                bad = await api.get("/api/operations/stuck?limit=0", headers=staff.headers)
                assert bad.status_code == 400
    report = answer.json()
    mine = [w for w in report["workflows"] if w["workflow_id"] == handle.id]
    assert len(mine) == 1, report
    stuck = mine[0]
    assert stuck["kind"] == "activity" and stuck["activity_type"] == "sync.fetch_orders"
    assert stuck["attempt"] >= 3 and stuck["workflow_type"] == "OrderSyncWorkflow"
    assert stuck["reason"] == "service_unavailable"
    # the emulator's own words, decrypted (the payload codec hides them in the raw failure)
    assert stuck["last_error"].startswith("HTTP 503: "), stuck["last_error"]
    assert "Injected fault" in stuck["last_error"], stuck["last_error"]
    assert stuck["ui_url"] == (
        f"http://temporal-ui.example:8080/namespaces/default/workflows/{handle.id}"
        f"/{handle.result_run_id}/history"
    )
    assert report["scanned"] >= 1


def test_errors_are_classified_in_plain_kinds():
    from api.stuck import classify, nondeterminism_or_code

    assert classify("[TMPRL1100] Nondeterminism error: Update machine") == "nondeterminism"
    assert classify("eBay answered 429 Too Many Requests") == "rate_limited"
    assert classify("eBay answered 503: Service Unavailable") == "service_unavailable"
    assert classify("activity StartToClose timeout") == "timeout"
    assert classify("FedEx answered 422: invalid postal code") == "refused"
    assert classify("Internal error", "RetryableError", 503) == "service_unavailable"
    assert classify("Too many", "RateLimitedError", 429) == "rate_limited"
    assert classify("'NoneType' object has no attribute 'x'", "AttributeError") == "code"
    assert classify("something else") == "other"
    assert nondeterminism_or_code("[TMPRL1100] Nondeterminism error", "") == "nondeterminism"
    assert nondeterminism_or_code("list index out of range", "IndexError") == "code"


@workflow.defn(name="StuckTestBrokenWorkflow")
class BrokenWorkflow:
    """Its code fails every workflow task (as a nondeterministic change would)."""

    @workflow.run
    async def run(self) -> None:
        raise RuntimeError("the workflow code is broken: list index out of range")


async def test_a_workflow_whose_workflow_task_keeps_failing_is_listed(temporal_env, settings):
    from temporalio.worker import UnsandboxedWorkflowRunner, Worker

    from api.stuck import stuck_workflows

    client = temporal_env.client
    queue = f"stuck-broken-{uuid.uuid4().hex[:8]}"
    async with Worker(
        client,
        task_queue=queue,
        workflows=[BrokenWorkflow],
        workflow_runner=UnsandboxedWorkflowRunner(),
        # Activations inline, without the SDK's 2-second deadlock timer: on a loaded CI box a
        # stalled event loop let that timer fire first, and the task failed as a "potential
        # deadlock" instead of with the code's own error, which is what this test reads.
        debug_mode=True,
    ):
        handle = await client.start_workflow(
            BrokenWorkflow.run, id=f"stuck-broken-{uuid.uuid4().hex[:8]}", task_queue=queue
        )
        try:
            for _ in range(600):
                raw = (await handle.describe()).raw_description
                if raw.HasField("pending_workflow_task") and raw.pending_workflow_task.attempt > 1:
                    break
                await asyncio.sleep(0.05)
            else:
                raise AssertionError("the workflow task was never retried")
            # The failed task's event may reach the history a moment after the retry shows.
            # The alert threshold (WORKFLOW_TASK_ALERT_ATTEMPTS, 3 by default) at this test's
            # second attempt, so the test need not wait out the server's retry backoff.
            alerting = settings.model_copy(update={"workflow_task_alert_attempts": 2})
            for _ in range(100):
                report = await stuck_workflows(client, alerting)
                mine = [w for w in report.workflows if w.workflow_id == handle.id]
                if mine and mine[0].last_error:
                    break
                await asyncio.sleep(0.05)
        finally:
            await handle.terminate("test over")
    assert len(mine) == 1, report
    assert mine[0].kind == "workflow_task" and mine[0].attempt >= 2
    assert mine[0].workflow_type == "StuckTestBrokenWorkflow"
    assert mine[0].last_error == "the workflow code is broken: list index out of range"
    assert mine[0].reason == "code"

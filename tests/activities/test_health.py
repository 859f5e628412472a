"""A workflow whose code no longer replays its history (nondeterminism): the SDK counts the failed
workflow task by kind for Prometheus (`temporal_workflow_task_execution_failed`, which
monitoring/alerts.yml pages on), and the health check finds the workflow stuck with its cause."""

from __future__ import annotations

import asyncio
import socket
import uuid
from datetime import timedelta

import httpx
import pytest
from temporalio import workflow
from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.worker import Worker

from activities.health import HealthActivities
from telemetry import metrics_runtime
from workflows.contracts.ops import WorkflowHealthCheck

pytestmark = [pytest.mark.integration, pytest.mark.timeout(120)]

CODE = {"version": 1}
"""Stands for the deployed code: changed between the first run and the replay."""


@workflow.defn(name="HealthTestChangedCode", sandboxed=False)
class ChangedCode:
    @workflow.run
    async def run(self) -> None:
        if CODE["version"] == 1:
            await workflow.sleep(timedelta(seconds=1))
        else:  # the new code starts with another command: the history no longer matches
            await workflow.execute_activity(
                "health_test_new_step", start_to_close_timeout=timedelta(seconds=5)
            )
        await workflow.wait_condition(lambda: False)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


async def test_nondeterminism_is_counted_by_kind_and_found_stuck(settings, temporal_env) -> None:
    port = free_port()
    runtime = metrics_runtime(settings.model_copy(update={"worker_metrics_port": port}))
    config = temporal_env.client.config()
    client = await Client.connect(
        config["service_client"].config.target_host,
        namespace=config["namespace"],
        data_converter=pydantic_data_converter,
        runtime=runtime,
    )
    task_queue = f"health-{uuid.uuid4().hex[:8]}"
    health = HealthActivities(
        settings.model_copy(update={"workflow_task_alert_attempts": 2}), client
    )
    CODE["version"] = 1
    async with Worker(
        client, task_queue=task_queue, workflows=[ChangedCode], max_cached_workflows=0
    ):
        handle = await client.start_workflow(
            ChangedCode.run, id=f"changed-{uuid.uuid4().hex[:8]}", task_queue=task_queue
        )
        for _ in range(200):  # the first task (a timer) is done with the old code
            events = [e.event_type async for e in handle.fetch_history_events()]
            if len(events) >= 5:
                break
            await asyncio.sleep(0.05)
        CODE["version"] = 2  # deployed while the timer runs: the next task replays
        found = None
        for _ in range(300):
            found = await health.check_workflow_health(
                WorkflowHealthCheck(workflow_id=handle.id, report=False)
            )
            if found.failing:
                break
            await asyncio.sleep(0.1)
        async with httpx.AsyncClient() as http:
            scrape = (await http.get(f"http://127.0.0.1:{port}/metrics")).text
    description = await handle.describe()
    assert found is not None and found.failing, (found, description.status)
    assert found.cause == "NON_DETERMINISTIC_ERROR" and "TMPRL1100" in found.message
    failed = [
        line
        for line in scrape.splitlines()
        if line.startswith("temporal_workflow_task_execution_failed")
        and f'task_queue="{task_queue}"' in line
    ]
    print("\n".join(failed))
    assert any('failure_reason="NonDeterminismError"' in line for line in failed)

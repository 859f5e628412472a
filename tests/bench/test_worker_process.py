"""The benchmarks' worker process (bench/worker_process.py): its quota-load workflow passes the
sandbox's validation, which re-imports the module (an import the sandbox refuses, such as httpx
at the top, failed every bulk and quota bench while the test suite stayed green)."""

from __future__ import annotations

import uuid
from concurrent.futures import ThreadPoolExecutor

from temporalio.worker import Worker

from bench.worker_process import QuotaLoadWorkflow


async def test_the_quota_load_workflow_validates_in_the_sandbox(temporal_env) -> None:
    # Building the worker validates each workflow by running its module in the sandbox.
    worker = Worker(
        temporal_env.client,
        task_queue=f"quota-{uuid.uuid4().hex[:6]}",
        workflows=[QuotaLoadWorkflow],
        activity_executor=ThreadPoolExecutor(1),
    )
    assert worker.task_queue.startswith("quota-")

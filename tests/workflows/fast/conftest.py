"""The fast tier: the real workflows on the time-skipping Temporal dev server, every activity a
fake registered under the real name (see fakes.py) but the health check, which only describes
workflows on the same server. No database, emulator, S3 or Redis."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass

import pytest
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from activities.health import HealthActivities
from tests.workflows.fast.fakes import FakeActivities
from workflows import all_workflows
from workflows.interceptors import WORKER_INTERCEPTORS


@dataclass
class FakeWorld:
    env: WorkflowEnvironment
    client: Client
    task_queue: str
    activities: FakeActivities


@pytest.fixture
async def world(time_skipping_env, settings) -> AsyncIterator[FakeWorld]:
    fakes = FakeActivities()
    task_queue = f"fast-{uuid.uuid4().hex[:8]}"
    health = HealthActivities(settings, time_skipping_env.client)
    async with Worker(
        time_skipping_env.client,
        task_queue=task_queue,
        workflows=all_workflows(),
        activities=[*fakes.all(), health.check_workflow_health],
        interceptors=WORKER_INTERCEPTORS,
    ):
        yield FakeWorld(time_skipping_env, time_skipping_env.client, task_queue, fakes)

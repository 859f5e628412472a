"""The fulfillment bench's count of the Temporal server's requests, read from a real dev server."""

from __future__ import annotations

from datetime import timedelta

import pytest

from bench.server_requests import differences, requests_into, served
from bench.util import free_port


@pytest.mark.integration
async def test_requests_into_counts_what_the_server_served_inside_the_block() -> None:
    from temporalio.api.workflowservice.v1 import GetSystemInfoRequest
    from temporalio.testing import WorkflowEnvironment

    from temporal_client import temporal_binary

    port = free_port()
    env = await WorkflowEnvironment.start_local(
        dev_server_existing_path=temporal_binary(),
        dev_server_startup_timeout=timedelta(seconds=60),
        dev_server_extra_args=["--metrics-port", str(port)],
    )
    url = f"http://127.0.0.1:{port}/metrics"
    try:
        counted: dict[str, float] = {}
        async with requests_into(counted, url):
            for _ in range(3):
                await env.client.workflow_service.get_system_info(GetSystemInfoRequest())
        assert counted["frontend.GetSystemInfo"] == 3
        assert served(url)["frontend.GetSystemInfo"] >= 3  # and those before the block
    finally:
        await env.shutdown()


def test_differences_lists_one_service_largest_gap_first() -> None:
    ours = {"frontend.QueryWorkflow": 30.0, "frontend.StartWorkflowExecution": 2.0, "history.X": 9}
    ceiling = {"frontend.QueryWorkflow": 25.0, "frontend.PollWorkflowTaskQueue": 1.0}
    assert differences(ours, ceiling) == [
        ("QueryWorkflow", 30.0, 25.0),
        ("StartWorkflowExecution", 2.0, 0.0),
        ("PollWorkflowTaskQueue", 0.0, 1.0),
    ]


async def test_requests_into_without_a_metrics_url_counts_nothing() -> None:
    counted: dict[str, float] = {}
    async with requests_into(counted, ""):
        pass
    assert counted == {}

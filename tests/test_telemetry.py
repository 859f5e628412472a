"""The worker's telemetry on the real dev server, with a sandboxed workflow like ours: the SDK's
Prometheus endpoint scraped over HTTP, workflow/activity ids in the activity's log context, and
failed activities and workflows reported to a local Sentry endpoint with their ids as tags (and
without buyers' data)."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime

import httpx
import pytest
import structlog
from prometheus_client.parser import text_string_to_metric_families
from temporalio import activity
from temporalio.client import Client, WorkflowFailureError
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.exceptions import ApplicationError
from temporalio.worker import Worker

from telemetry import TelemetryInterceptor, metrics_runtime
from tests.sentry_relay import sentry_relay, sentry_reporting_to
from tests.telemetry_workflows import LabelWorkflow, Shipment

BUYER_EMAIL = "mirela.okonkwo@example.com"
BUYER_NAME = "Mirela Okonkwo"


@activity.defn(name="telemetry_test_log_context")
def log_context(_: Shipment) -> dict[str, str]:
    """A sync activity (on the worker's thread pool, like ours): what a log line would carry."""
    return {k: str(v) for k, v in structlog.contextvars.get_contextvars().items()}


@activity.defn(name="telemetry_test_buy_label")
def buy_label(shipment: Shipment) -> None:
    raise ApplicationError(
        f"carrier refused the address of {shipment.buyer_email}", non_retryable=True
    )


def worker_for(client: Client, task_queue: str, settings) -> Worker:
    from concurrent.futures import ThreadPoolExecutor

    return Worker(
        client,
        task_queue=task_queue,
        workflows=[LabelWorkflow],
        activities=[log_context, buy_label],
        activity_executor=ThreadPoolExecutor(4),
        interceptors=[TelemetryInterceptor(settings.activity_retry_alert_attempts)],
    )


@pytest.fixture(scope="module")
def metrics_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


async def test_worker_exports_sdk_metrics_and_ids_reach_the_log_context(
    settings, temporal_env, metrics_port
) -> None:
    """The worker's client runs on the Prometheus runtime: after a workflow, the SDK's own
    series are on http://WORKER_METRICS_HOST:WORKER_METRICS_PORT/metrics."""
    configured = settings.model_copy(update={"worker_metrics_port": metrics_port})
    runtime = metrics_runtime(configured)
    assert runtime is not None
    assert metrics_runtime(settings.model_copy(update={"worker_metrics_port": 0})) is None
    config = temporal_env.client.config()
    client = await Client.connect(
        config["service_client"].config.target_host,
        namespace=config["namespace"],
        data_converter=pydantic_data_converter,
        runtime=runtime,
    )
    task_queue = f"telemetry-{uuid.uuid4().hex[:8]}"
    workflow_id = f"telemetry-ok-{uuid.uuid4().hex[:8]}"
    async with worker_for(client, task_queue, settings):
        context = await client.execute_workflow(
            LabelWorkflow.run,
            Shipment(order_id="ok-1", buyer_name=BUYER_NAME, buyer_email=BUYER_EMAIL),
            id=workflow_id,
            task_queue=task_queue,
        )
        async with httpx.AsyncClient() as http:
            scrape = await http.get(f"http://127.0.0.1:{metrics_port}/metrics")
    assert context["workflow_id"] == workflow_id
    assert context["activity_type"] == "telemetry_test_log_context"
    assert context["attempt"] == "1" and context["activity_id"] and context["run_id"]

    assert scrape.status_code == 200
    names = {family.name for family in text_string_to_metric_families(scrape.text)}
    completed = [
        line
        for line in scrape.text.splitlines()
        if line.startswith("temporal_workflow_completed") and f'task_queue="{task_queue}"' in line
    ]
    print("\n".join(completed + [n for n in sorted(names) if n.startswith("temporal_")][:25]))
    assert completed and float(completed[0].rsplit(" ", 1)[1]) == 1
    assert {"temporal_activity_execution_latency", "temporal_workflow_task_queue_poll_succeed"} & {
        name.removesuffix("_total") for name in names
    }


async def test_failed_activity_and_workflow_reach_sentry_with_their_ids(
    settings, temporal_env
) -> None:
    task_queue = f"telemetry-{uuid.uuid4().hex[:8]}"
    workflow_id = f"telemetry-fail-{uuid.uuid4().hex[:8]}"
    with sentry_relay() as relay, sentry_reporting_to(relay, settings, "worker"):
        async with worker_for(temporal_env.client, task_queue, settings):
            with pytest.raises(WorkflowFailureError):
                await temporal_env.client.execute_workflow(
                    LabelWorkflow.run,
                    Shipment(order_id="fail-1", buyer_name=BUYER_NAME, buyer_email=BUYER_EMAIL),
                    id=workflow_id,
                    task_queue=task_queue,
                )
        events = relay.wait_for_events(2, "activity and workflow events")
        raw = relay.raw().decode()

    by_kind = {event["tags"]["temporal.kind"]: event for event in events}
    assert set(by_kind) == {"activity", "workflow"}, [e["tags"] for e in events]
    act, wf = by_kind["activity"]["tags"], by_kind["workflow"]["tags"]
    assert act["temporal.workflow_id"] == workflow_id == wf["temporal.workflow_id"]
    assert act["temporal.activity_type"] == "telemetry_test_buy_label"
    assert act["temporal.attempt"] == "1" and act["temporal.final_attempt"] == "True"
    assert act["temporal.activity_id"] and act["temporal.run_id"] == wf["temporal.run_id"]
    assert wf["temporal.workflow_type"] == "TelemetryTestLabel"
    assert act["service"] == "worker"
    assert BUYER_EMAIL not in raw and BUYER_NAME not in raw
    print(by_kind["activity"]["tags"], by_kind["workflow"]["tags"])

    # The README's saved query "failures today" finds it.
    today = datetime.now(UTC).strftime("%Y-%m-%dT00:00:00Z")
    query = f'ExecutionStatus = "Failed" AND CloseTime >= "{today}"'
    found: set[str] = set()
    for _ in range(200):
        found = {w.id async for w in temporal_env.client.list_workflows(query)}
        if workflow_id in found:
            break
        await asyncio.sleep(0.05)
    assert workflow_id in found

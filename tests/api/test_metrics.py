"""GET /metrics scraped over real HTTP (uvicorn) like Prometheus does: the scrape token, the
request metrics with the status each client got, and the business gauges moving with the
database and with a real workflow whose activity keeps failing on the dev server."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta

import httpx
from prometheus_client.parser import text_string_to_metric_families
from pydantic import SecretStr
from temporalio import activity, workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ApplicationError
from temporalio.worker import Worker

from tests.api.conftest import Server, app_settings, free_port

TOKEN = "scrape-token-0123456789abcdef"


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    found = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            found[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return found


def value(scrape: dict, name: str, **labels: str) -> float:
    return scrape.get((name, tuple(sorted(labels.items()))), 0.0)


def requests_total(scrape: dict, path: str, status: int) -> float:
    return sum(
        v
        for (name, labels), v in scrape.items()
        if name == "worlddoor_api_requests_total"
        and ("path", path) in labels
        and ("status_code", str(status)) in labels
    )


@activity.defn(name="metrics_test_provider_down")
async def provider_down() -> None:
    raise ApplicationError("provider down")


@workflow.defn(name="MetricsTestRetrying", sandboxed=False)
class RetryingWorkflow:
    @workflow.run
    async def run(self) -> None:
        await workflow.execute_activity(
            provider_down,
            start_to_close_timeout=timedelta(seconds=5),
            retry_policy=RetryPolicy(
                initial_interval=timedelta(milliseconds=50),
                backoff_coefficient=1.0,
                maximum_interval=timedelta(milliseconds=50),
            ),
        )


def add_business_rows(settings) -> None:
    from models import EmailMessage, Inspection, LabelPurchase, Order, OrderStatus, Shipment
    from models.db import session_scope

    with session_scope(settings) as session:
        order = Order(ebay_order_id=f"MT-{uuid.uuid4().hex[:10]}", status=OrderStatus.labelling)
        session.add(order)
        session.flush()
        shipment = Shipment(order_id=order.id)
        session.add(shipment)
        session.add(Inspection(order_id=order.id))
        session.flush()
        session.add(
            LabelPurchase(
                shipment_id=shipment.id,
                idempotency_key=f"mt-{uuid.uuid4().hex}",
                carrier="fedex",
                status="bought",
            )
        )
        session.add(
            EmailMessage(
                dedupe_key=f"mt-{uuid.uuid4().hex}",
                template="order_confirmation",
                recipient="someone@example.com",
                status="bounced",
            )
        )


async def test_metrics_over_http(settings, migrated_db, temporal_env) -> None:
    from api.app import create_app

    configured = app_settings(
        settings,
        metrics_token=SecretStr(TOKEN),
        metrics_cache_seconds=0,
        workflow_scan_seconds=0,  # the second scrape must see the retrying activity
        activity_retry_alert_attempts=2,
    )
    app = create_app(configured, temporal_client=temporal_env.client)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    task_queue = f"metrics-{uuid.uuid4().hex[:8]}"
    worker = Worker(
        temporal_env.client,
        task_queue=task_queue,
        workflows=[RetryingWorkflow],
        activities=[provider_down],
    )
    with Server(app, port):
        async with httpx.AsyncClient(base_url=base, timeout=30) as http, worker:
            # The token: missing or wrong -> 401, right -> Prometheus text.
            assert (await http.get("/metrics")).status_code == 401
            wrong = await http.get("/metrics", headers={"Authorization": "Bearer nope"})
            assert wrong.status_code == 401
            scrape_headers = {"Authorization": f"Bearer {TOKEN}"}
            first = await http.get("/metrics", headers=scrape_headers)
            assert first.status_code == 200
            assert first.headers["content-type"].startswith("text/plain")
            before = samples(first.text)

            # Requests with the status their clients got (a 401 from auth is not a 200/500).
            assert (await http.get("/api/health")).status_code == 200
            assert (await http.get("/api/orders")).status_code == 401
            add_business_rows(configured)
            handle = await temporal_env.client.start_workflow(
                RetryingWorkflow.run,
                id=f"metrics-retrying-{uuid.uuid4().hex[:8]}",
                task_queue=task_queue,
            )
            for _ in range(400):
                pending = (await handle.describe()).raw_description.pending_activities
                if pending and pending[0].attempt > 2:
                    break
                await asyncio.sleep(0.05)
            else:
                raise AssertionError("the activity never reached its third attempt")

            second = await http.get("/metrics", headers=scrape_headers)
            after = samples(second.text)
            # The README's "stuck" query: running since before a cut-off (here: now).
            cutoff = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
            stuck_query = f'ExecutionStatus = "Running" AND StartTime < "{cutoff}"'
            stuck: set[str] = set()
            for _ in range(200):
                stuck = {w.id async for w in temporal_env.client.list_workflows(stuck_query)}
                if handle.id in stuck:
                    break
                await asyncio.sleep(0.05)
            await handle.terminate("test over")
    assert handle.id in stuck

    business = [line for line in second.text.splitlines() if line.startswith("worlddoor_")]
    print("\n".join(line for line in business if not line.startswith("worlddoor_api_")))
    assert (
        requests_total(after, "/api/health", 200) - requests_total(before, "/api/health", 200) == 1
    )
    assert (
        requests_total(after, "/api/orders", 401) - requests_total(before, "/api/orders", 401) == 1
    )
    assert requests_total(after, "/api/orders", 200) == requests_total(before, "/api/orders", 200)
    assert requests_total(after, "/api/orders", 500) == requests_total(before, "/api/orders", 500)

    def delta(name: str, **labels: str) -> float:
        return value(after, name, **labels) - value(before, name, **labels)

    assert delta("worlddoor_orders", status="labelling") == 1
    assert delta("worlddoor_inspections_waiting") == 1
    assert delta("worlddoor_labels_bought_today") == 1
    assert delta("worlddoor_emails_failed", status="bounced") == 1
    assert value(after, "worlddoor_workflows_retrying") >= 1
    assert value(after, "worlddoor_activity_max_attempt") >= 3
    assert value(after, "worlddoor_workflows_scanned") >= 1
    assert value(after, "worlddoor_metrics_source_up", source="database") == 1
    assert value(after, "worlddoor_metrics_source_up", source="temporal") == 1
    # eBay's daily budget (adapters/quota.py): 2,000,000 less the 5% reserve
    assert value(after, "worlddoor_vendor_calls_budget", vendor="ebay", api="sell.inventory") == (
        1_900_000
    )


async def test_a_failing_source_is_reported_not_a_500(make_client) -> None:
    """Temporal unreachable: the scrape still answers, and says which source is down."""
    async with make_client(metrics_cache_seconds=0) as client:
        response = await client.get("/metrics")
    assert response.status_code == 200
    scrape = samples(response.text)
    assert value(scrape, "worlddoor_metrics_source_up", source="temporal") == 0
    assert value(scrape, "worlddoor_metrics_source_up", source="database") == 1

"""GET /metrics for Prometheus: the request metrics of Litestar's Prometheus integration
(`worlddoor_api_requests_total`, `..._request_duration_seconds`, `..._requests_in_progress`,
`..._requests_error_total`, by method, route template and status) and the business gauges ops
alert on.

The gauges are computed at scrape time from the database and Temporal, at most once per
METRICS_CACHE_SECONDS (concurrent scrapes share one refresh) and within a time bound: a scrape
never waits more than REFRESH_TIMEOUT_SECONDS, and a failing source keeps its last values and
reports `worlddoor_metrics_source_up{source=...} 0`. "Retrying" workflows (a pending activity past
ACTIVITY_RETRY_ALERT_ATTEMPTS) and "task failing" ones (the pending workflow task at
WORKFLOW_TASK_ALERT_ATTEMPTS, `domain.workflow_health`) come from describing at most
METRICS_SCAN_LIMIT running workflows (Temporal's visibility does not index pending activities or
tasks), so `worlddoor_workflows_scanned` says how many were looked at. That scan is the one the
stuck list also reads (api/running.py: reused for WORKFLOW_SCAN_SECONDS).

Protection: with METRICS_TOKEN set (required in production) the scraper must send
`Authorization: Bearer <METRICS_TOKEN>`; staff JWTs are not accepted here and the route is
outside the rate limits. Several API processes (`--workers N`) share their request metrics
through PROMETHEUS_MULTIPROC_DIR, which `worlddoor api` empties on start.
"""

from __future__ import annotations

import asyncio
import hmac
import os
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from litestar import Response, get
from litestar.connection import ASGIConnection
from litestar.exceptions import NotAuthorizedException
from litestar.handlers import BaseRouteHandler
from litestar.plugins.prometheus import PrometheusConfig
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    generate_latest,
    multiprocess,
)
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector
from sqlmodel import Session, col, func, select
from temporalio.client import WorkflowExecutionDescription

from adapters.quota import DailyUsageCollector, ebay_daily_budget
from api.db import in_session
from api.temporal import TemporalGateway
from config import Settings
from domain.workflow_health import workflow_task_failing
from models import EmailMessage, Inspection, InspectionResult, LabelPurchase, Order, OrderStatus
from observability import get_logger

log = get_logger(__name__)

METRICS_PATH = "/metrics"
REFRESH_TIMEOUT_SECONDS = 10.0
FAILED_EMAIL_STATUSES = ("failed", "bounced", "dropped", "spamreport")
EMAIL_FAILURE_WINDOW = timedelta(hours=24)


def request_metrics_config() -> PrometheusConfig:
    """Litestar's request metrics, by route template (bounded label values), not raw path."""
    return PrometheusConfig(
        app_name="worlddoor-api",
        prefix="worlddoor_api",
        group_path=True,
        exclude=[f"^{METRICS_PATH}$"],
    )


@dataclass
class Snapshot:
    orders_by_status: dict[str, int] = field(default_factory=dict)
    inspections_waiting: int = 0
    oldest_inspection_waiting_seconds: float = 0.0
    labels_bought_today: int = 0
    emails_failed: dict[str, int] = field(default_factory=dict)
    workflows_retrying: int = 0
    workflows_task_failing: int = 0
    max_activity_attempt: int = 0
    workflows_scanned: int = 0
    workflows_failed_today: int = 0
    source_up: dict[str, bool] = field(default_factory=dict)
    refreshed_at: float = 0.0


def _start_of_day(now: datetime) -> datetime:
    return now.replace(hour=0, minute=0, second=0, microsecond=0)


def _database_figures(session: Session, now: datetime) -> dict[str, Any]:
    by_status = {status.value: 0 for status in OrderStatus}
    for status, count in session.exec(
        select(Order.status, func.count()).group_by(Order.status)
    ).all():
        by_status[str(status)] = count
    waiting, oldest = session.exec(
        select(func.count(), func.min(Inspection.created_at)).where(
            Inspection.result == InspectionResult.pending
        )
    ).one()
    if oldest is not None and oldest.tzinfo is None:  # SQLite returns naive UTC
        oldest = oldest.replace(tzinfo=UTC)
    labels = session.exec(
        select(func.count()).where(
            LabelPurchase.status == "bought", LabelPurchase.updated_at >= _start_of_day(now)
        )
    ).one()
    emails = {status: 0 for status in FAILED_EMAIL_STATUSES}
    for status, count in session.exec(
        select(EmailMessage.status, func.count())
        .where(
            col(EmailMessage.status).in_(FAILED_EMAIL_STATUSES),
            EmailMessage.updated_at >= now - EMAIL_FAILURE_WINDOW,
        )
        .group_by(EmailMessage.status)
    ).all():
        emails[status] = count
    return {
        "orders_by_status": by_status,
        "inspections_waiting": waiting,
        "oldest_inspection_waiting_seconds": (now - oldest).total_seconds() if oldest else 0.0,
        "labels_bought_today": labels,
        "emails_failed": emails,
    }


class BusinessMetrics(Collector):
    """The business gauges: refreshed (bounded, cached) by `refresh`, exported by `collect`."""

    def __init__(self, settings: Settings, temporal: TemporalGateway) -> None:
        self.settings = settings
        self.temporal = temporal
        self.snapshot = Snapshot()
        self._lock = asyncio.Lock()

    async def refresh(self) -> Snapshot:
        async with self._lock:  # concurrent scrapes share one refresh
            if time.monotonic() - self.snapshot.refreshed_at < self.settings.metrics_cache_seconds:
                return self.snapshot
            now = datetime.now(UTC)
            database, temporal = await asyncio.gather(
                self._bounded(
                    "database", in_session(self.settings, lambda s: _database_figures(s, now))
                ),
                self._bounded("temporal", self._temporal_figures(now)),
            )
            for figures in (database, temporal):
                for name, value in (figures or {}).items():
                    setattr(self.snapshot, name, value)
            self.snapshot.source_up = {
                "database": database is not None,
                "temporal": temporal is not None,
            }
            self.snapshot.refreshed_at = time.monotonic()
            return self.snapshot

    async def _bounded(self, source: str, work: Any) -> dict[str, Any] | None:
        try:
            return await asyncio.wait_for(work, timeout=REFRESH_TIMEOUT_SECONDS)
        except Exception as exc:  # noqa: BLE001 - a failing source is a metric, not a 500
            log.warning("metrics source failing", source=source, error=type(exc).__name__)
            return None

    async def _temporal_figures(self, now: datetime) -> dict[str, Any]:
        client = await self.temporal.client()
        threshold = self.settings.activity_retry_alert_attempts
        since = _start_of_day(now).strftime("%Y-%m-%dT%H:%M:%SZ")
        failed = await client.count_workflows(
            f'ExecutionStatus = "Failed" AND CloseTime >= "{since}"'
        )
        scan = await self.temporal.running.scan(client, self.settings.metrics_scan_limit)

        def max_attempt(description: WorkflowExecutionDescription) -> tuple[int, int]:
            """(the highest pending activity attempt, the pending workflow task's attempt)"""
            raw = description.raw_description
            pending = raw.pending_activities
            task = raw.pending_workflow_task.attempt if raw.HasField("pending_workflow_task") else 0
            return max((activity.attempt for activity in pending), default=0), task

        found = [max_attempt(description) for description in scan.descriptions]
        attempts = [activity for activity, _ in found]
        task_alert = self.settings.workflow_task_alert_attempts
        return {
            "workflows_failed_today": failed.count,
            "workflows_retrying": sum(1 for attempt in attempts if attempt > threshold),
            "workflows_task_failing": sum(
                1 for _, task in found if workflow_task_failing(task, task_alert)
            ),
            "max_activity_attempt": max(attempts, default=0),
            "workflows_scanned": scan.scanned,
        }

    def collect(self) -> Iterator[GaugeMetricFamily]:
        snap = self.snapshot
        orders = GaugeMetricFamily(
            "worlddoor_orders", "Orders by status (the API's projection)", labels=["status"]
        )
        for status, count in sorted(snap.orders_by_status.items()):
            orders.add_metric([status], count)
        yield orders
        yield GaugeMetricFamily(
            "worlddoor_inspections_waiting",
            "Inspections waiting for an inspector's verdict",
            value=snap.inspections_waiting,
        )
        yield GaugeMetricFamily(
            "worlddoor_inspection_oldest_waiting_seconds",
            "Age of the oldest inspection still waiting",
            value=snap.oldest_inspection_waiting_seconds,
        )
        yield GaugeMetricFamily(
            "worlddoor_labels_bought_today",
            "Shipping labels bought since 00:00 UTC",
            value=snap.labels_bought_today,
        )
        emails = GaugeMetricFamily(
            "worlddoor_emails_failed",
            "Emails failed, bounced, dropped or reported as spam in the last 24 hours",
            labels=["status"],
        )
        for status, count in sorted(snap.emails_failed.items()):
            emails.add_metric([status], count)
        yield emails
        yield GaugeMetricFamily(
            "worlddoor_workflows_retrying",
            "Running workflows with a pending activity past ACTIVITY_RETRY_ALERT_ATTEMPTS",
            value=snap.workflows_retrying,
        )
        yield GaugeMetricFamily(
            "worlddoor_workflows_task_failing",
            "Running workflows whose workflow task failed or timed out on every attempt up to "
            "WORKFLOW_TASK_ALERT_ATTEMPTS (stuck on their own code, e.g. nondeterminism)",
            value=snap.workflows_task_failing,
        )
        yield GaugeMetricFamily(
            "worlddoor_activity_max_attempt",
            "Highest attempt number among pending activities of the scanned workflows",
            value=snap.max_activity_attempt,
        )
        yield GaugeMetricFamily(
            "worlddoor_workflows_scanned",
            "Running workflows described for the retrying gauge (capped by METRICS_SCAN_LIMIT)",
            value=snap.workflows_scanned,
        )
        yield GaugeMetricFamily(
            "worlddoor_workflows_failed_today",
            "Workflows closed as failed since 00:00 UTC (Temporal visibility)",
            value=snap.workflows_failed_today,
        )
        up = GaugeMetricFamily(
            "worlddoor_metrics_source_up",
            "1 when the last refresh from this source succeeded",
            labels=["source"],
        )
        for source, ok in sorted(snap.source_up.items()):
            up.add_metric([source], 1 if ok else 0)
        yield up


def _request_metrics_registry() -> CollectorRegistry:
    """The process's own registry, or all API processes' when PROMETHEUS_MULTIPROC_DIR is set
    (the same choice Litestar's PrometheusController makes)."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
        return registry
    return REGISTRY


def build_metrics_handler(settings: Settings, temporal: TemporalGateway) -> Any:
    business = BusinessMetrics(settings, temporal)
    business_registry = CollectorRegistry(auto_describe=False)
    business_registry.register(business)
    business_registry.register(DailyUsageCollector([ebay_daily_budget(settings)]))
    token = settings.metrics_token.get_secret_value()

    def scraper_only(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
        if not token:
            return  # development and tests; production refuses to start without METRICS_TOKEN
        sent = connection.headers.get("authorization", "")
        if not hmac.compare_digest(sent.encode(), f"Bearer {token}".encode()):
            raise NotAuthorizedException(
                detail="send the METRICS_TOKEN as a bearer token",
                headers={"WWW-Authenticate": 'Bearer realm="metrics"'},
            )

    @get(
        METRICS_PATH,
        exclude_from_auth=True,
        guards=[scraper_only],
        include_in_schema=False,
    )
    async def metrics() -> Response[bytes]:
        await business.refresh()
        body = generate_latest(_request_metrics_registry()) + generate_latest(business_registry)
        return Response(body, media_type=CONTENT_TYPE_LATEST)

    return metrics

"""The Temporal client for the API: connected lazily so the API starts (and answers /api/health)
before Temporal is up; routes that need it answer 503 until it is reachable."""

from __future__ import annotations

import asyncio
import contextlib
import time

from litestar.exceptions import HTTPException
from litestar.status_codes import HTTP_503_SERVICE_UNAVAILABLE
from temporalio.client import Client

import temporal_client
from api.running import STUCK_LIMIT, RunningWorkflows
from config import Settings
from observability import get_logger

log = get_logger(__name__)

UNAVAILABLE = "the workflow engine (Temporal) is not reachable; try again shortly"
RETRY_SECONDS = 2.0


class TemporalUnavailable(HTTPException):
    status_code = HTTP_503_SERVICE_UNAVAILABLE


class TemporalGateway:
    def __init__(self, settings: Settings, client: Client | None = None) -> None:
        self.settings = settings
        self._client = client
        self._lock = asyncio.Lock()
        self._retry_at = 0.0
        self.running = RunningWorkflows(  # the shared scan
            settings.workflow_scan_seconds, max(STUCK_LIMIT, settings.metrics_scan_limit)
        )

    async def client(self) -> Client:
        if self._client is not None:
            return self._client
        if time.monotonic() < self._retry_at:  # don't make every request wait on a dead server
            raise TemporalUnavailable(detail=UNAVAILABLE)
        async with self._lock:
            if self._client is None:
                try:
                    self._client = await asyncio.wait_for(
                        temporal_client.connect(self.settings), timeout=5
                    )
                except Exception as exc:  # noqa: BLE001 - any connect failure means "not yet"
                    log.warning("temporal not reachable", error=str(exc))
                    self._retry_at = time.monotonic() + RETRY_SECONDS
                    raise TemporalUnavailable(detail=UNAVAILABLE) from exc
        return self._client

    async def healthy(self) -> bool:
        try:
            client = await self.client()
            await asyncio.wait_for(client.service_client.check_health(), timeout=3)
        except Exception:  # noqa: BLE001 - readiness reports, it does not raise
            return False
        return True

    async def warm_up(self) -> None:
        with contextlib.suppress(TemporalUnavailable):
            await self.client()

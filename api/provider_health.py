"""Provider health for admins (`GET /api/operations/health` and the console's Operations page):
`worlddoor doctor`'s checks run in the API process, all at once with a short timeout each, and
the report is kept for CACHE_SECONDS so a reloaded page does not hammer the providers."""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel

from config import Settings
from models.types import UTCDateTime
from ops.doctor import run_checks

CACHE_SECONDS = 30.0
CHECK_TIMEOUT_SECONDS = 5.0
STATE_KEY = "provider_health"


class HealthCheck(BaseModel):
    name: str
    ok: bool
    detail: str


class HealthReport(BaseModel):
    checked_at: UTCDateTime
    checks: list[HealthCheck]

    @property
    def all_ok(self) -> bool:
        return all(c.ok for c in self.checks)


class ProviderHealth:
    """One cached report per app; concurrent callers share one run."""

    def __init__(
        self,
        settings: Settings,
        ttl: float = CACHE_SECONDS,
        timeout: float = CHECK_TIMEOUT_SECONDS,
    ) -> None:
        self.settings = settings
        self.ttl = ttl
        self.timeout = timeout
        self._report: HealthReport | None = None
        self._taken = 0.0
        self._lock = asyncio.Lock()

    async def report(self, refresh: bool = False) -> HealthReport:
        async with self._lock:
            fresh = self._report is not None and time.monotonic() - self._taken < self.ttl
            if self._report is None or refresh or not fresh:
                results = await run_checks(self.settings, fix=False, check_seconds=self.timeout)
                self._report = HealthReport(
                    checked_at=datetime.now(UTC),
                    checks=[HealthCheck(name=r.name, ok=r.ok, detail=r.detail) for r in results],
                )
                self._taken = time.monotonic()
            return self._report


def provider_health(state: Any, settings: Settings) -> ProviderHealth:
    """The app's instance (created on first use; `state` is the app state)."""
    found = state.get(STATE_KEY)
    if not isinstance(found, ProviderHealth):
        found = ProviderHealth(settings)
        state[STATE_KEY] = found
    return found

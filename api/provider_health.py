"""Provider health for admins (`GET /api/operations/health` and the console's Operations page):
`worlddoor doctor`'s checks run in the API process with a short timeout each, and the report is
kept for CACHE_SECONDS so a reloaded page does not hammer the providers.

Several checks make blocking calls (client constructors, boto3, psycopg), so each one runs on
its own thread with its own event loop: the API's loop never waits on a provider, and a hung
check costs only its thread while the report comes back within the timeout."""

from __future__ import annotations

import asyncio
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel

from config import Settings
from models.types import UTCDateTime
from ops.doctor import CHECKS, Check, CheckResult, run_check

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


def _in_thread(settings: Settings, name: str, check: Check, seconds: float) -> CheckResult:
    return asyncio.run(run_check(settings, name, check, fix=False, check_seconds=seconds))


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
        self._pool = ThreadPoolExecutor(max_workers=len(CHECKS), thread_name_prefix="health")

    async def _one(self, name: str, check: Check) -> HealthCheck:
        loop = asyncio.get_running_loop()
        future = loop.run_in_executor(
            self._pool, _in_thread, self.settings, name, check, self.timeout
        )
        try:
            # The check bounds itself; this bounds a thread that never gets to start it.
            result = await asyncio.wait_for(future, timeout=self.timeout + 1)
        except TimeoutError:
            result = CheckResult(name, False, f"no answer within {self.timeout:g} s")
        return HealthCheck(name=result.name, ok=result.ok, detail=result.detail)

    async def report(self, refresh: bool = False) -> HealthReport:
        async with self._lock:
            fresh = self._report is not None and time.monotonic() - self._taken < self.ttl
            if self._report is None or refresh or not fresh:
                checks = await asyncio.gather(*(self._one(n, c) for n, c in CHECKS))
                self._report = HealthReport(checked_at=datetime.now(UTC), checks=list(checks))
                self._taken = time.monotonic()
            return self._report


def provider_health(state: Any, settings: Settings) -> ProviderHealth:
    """The app's instance (created on first use; `state` is the app state)."""
    found = state.get(STATE_KEY)
    if not isinstance(found, ProviderHealth):
        found = ProviderHealth(settings)
        state[STATE_KEY] = found
    return found

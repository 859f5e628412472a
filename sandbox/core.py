"""What every emulator shares: the side-effect ledger, fault injection and bearer tokens.

Faults are set per service through `POST /_sandbox/faults` and applied by `FaultMiddleware`
before the emulator sees the request (errors, 429, latency) or after it has committed
("lost response": the change is kept, the connection is cut before the answer arrives).
"""

from __future__ import annotations

import asyncio
import math
import random
import secrets
import threading
import time
from collections import defaultdict, deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from litestar.enums import ScopeType
from litestar.types import ASGIApp, Message, Receive, Scope, Send

from config import Settings

ErrorBody = Callable[[int, str], dict[str, Any]]


class Ledger:
    """Counts of side effects per service, kind and business key (thread-safe)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._counts: dict[str, dict[str, dict[str, int]]] = defaultdict(
            lambda: defaultdict(lambda: defaultdict(int))
        )

    def record(self, service: str, kind: str, key: str) -> None:
        with self._lock:
            self._counts[service][kind][key] += 1

    def count(self, service: str, kind: str, key: str | None = None) -> int:
        with self._lock:
            by_key = self._counts.get(service, {}).get(kind, {})
            return by_key.get(key, 0) if key is not None else sum(by_key.values())

    def snapshot(self) -> dict[str, dict[str, dict[str, Any]]]:
        with self._lock:
            return {
                service: {
                    kind: {"total": sum(by_key.values()), "by_key": dict(by_key)}
                    for kind, by_key in kinds.items()
                }
                for service, kinds in self._counts.items()
            }

    def duplicates(self) -> dict[str, dict[str, dict[str, int]]]:
        """Keys recorded more than once, per service and kind."""
        return {
            service: {
                kind: {k: n for k, n in data["by_key"].items() if n > 1}
                for kind, data in kinds.items()
                if any(n > 1 for n in data["by_key"].values())
            }
            for service, kinds in self.snapshot().items()
        }

    def reset(self) -> None:
        with self._lock:
            self._counts.clear()


@dataclass
class FaultRule:
    """One service's faults. `times` limits a rule to the next N matching requests."""

    error_rate: float = 0.0
    error_status: int = 500
    rate_limit_rate: float = 0.0
    retry_after: int = 1
    latency_ms: int = 0
    lost_response_rate: float = 0.0
    times: int | None = None
    path_contains: str = ""
    method: str = ""

    def matches(self, method: str, path: str) -> bool:
        if self.times is not None and self.times <= 0:
            return False
        if self.method and self.method.upper() != method.upper():
            return False
        return not self.path_contains or self.path_contains in path


@dataclass
class Quota:
    """A vendor's rate limit as the emulator enforces it: at most `per_second` requests in any
    one-second window; the rest answer 429 with Retry-After (whole seconds, at least 1)."""

    per_second: int


PACIFIC = ZoneInfo("America/Los_Angeles")
"""eBay's call-limit day starts at 00:00 Pacific time (its Analytics getRateLimits' `reset`)."""


def pacific_day(now: float) -> tuple[str, float]:
    """(the Pacific date of `now`, the seconds until the next Pacific midnight)."""
    local = datetime.fromtimestamp(now, PACIFIC)
    midnight = datetime.combine(local.date() + timedelta(days=1), datetime.min.time(), PACIFIC)
    return local.date().isoformat(), midnight.timestamp() - now


class RequestMeter:
    """Requests per service and wall-clock second, served and refused with 429 by a quota; and
    per API family (`sell.inventory`: the path's first two segments) and Pacific day, refused
    past a daily quota (eBay's daily call limits) with Retry-After up to the next day."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._window: dict[str, deque[float]] = defaultdict(deque)
        self._seconds: dict[str, dict[int, list[int]]] = defaultdict(
            lambda: defaultdict(lambda: [0, 0])
        )
        self._days: dict[str, dict[tuple[str, str], list[int]]] = defaultdict(
            lambda: defaultdict(lambda: [0, 0])
        )

    def admit(
        self,
        service: str,
        quota: Quota | None,
        path: str = "/",
        daily: dict[str, int] | None = None,
    ) -> float | None:
        """Count one request; None when served, else the seconds to wait (429)."""
        now = time.time()
        family = ".".join([p for p in path.split("/") if p][:2])
        day, day_left = pacific_day(now)
        with self._lock:
            today = self._days[service][(family, day)]
            limit = (daily or {}).get(family)
            if limit is not None and today[0] >= limit:
                today[1] += 1
                self._seconds[service][int(now)][1] += 1
                return day_left
            window = self._window[service]
            while window and window[0] <= now - 1:
                window.popleft()
            refused = quota is not None and len(window) >= quota.per_second
            if not refused:
                window.append(now)
                today[0] += 1
            self._seconds[service][int(now)][1 if refused else 0] += 1
            return 1 - (now - window[0]) if refused else None

    def per_day(self, service: str) -> list[list[Any]]:
        """[[API family, Pacific date, served, refused]]."""
        with self._lock:
            return [[f, d, *n] for (f, d), n in sorted(self._days[service].items())]

    def per_second(self, service: str) -> dict[int, list[int]]:
        """{unix second: [served, refused]}."""
        with self._lock:
            return {second: list(n) for second, n in sorted(self._seconds[service].items())}

    def reset(self) -> None:
        with self._lock:
            self._window.clear()
            self._seconds.clear()
            self._days.clear()


class TokenBook:
    """Bearer tokens an emulator issued, with expiry; tests can expire them all at once."""

    def __init__(self) -> None:
        self._tokens: dict[str, float] = {}
        self._scopes: dict[str, frozenset[str]] = {}
        self._lock = threading.Lock()

    def issue(
        self, ttl_seconds: int, prefix: str = "", scopes: frozenset[str] = frozenset()
    ) -> str:
        token = prefix + secrets.token_urlsafe(32)
        with self._lock:
            self._tokens[token] = time.time() + ttl_seconds
            self._scopes[token] = scopes
        return token

    def scopes(self, authorization: str | None) -> frozenset[str]:
        """The scopes granted with the bearer token in `authorization` (empty if unknown)."""
        token = (authorization or "").split(" ", 1)[-1].strip()
        with self._lock:
            return self._scopes.get(token, frozenset())

    def valid(self, authorization: str | None) -> bool:
        if not authorization or not authorization.lower().startswith("bearer "):
            return False
        token = authorization.split(" ", 1)[1].strip()
        with self._lock:
            expiry = self._tokens.get(token)
        return expiry is not None and expiry > time.time()

    def expire_all(self) -> None:
        with self._lock:
            self._tokens = {t: 0.0 for t in self._tokens}

    def reset(self) -> None:
        with self._lock:
            self._tokens.clear()
            self._scopes.clear()


@dataclass
class SandboxContext:
    """State shared by all emulators in one sandbox process."""

    settings: Settings
    ledger: Ledger = field(default_factory=Ledger)
    faults: dict[str, FaultRule] = field(default_factory=dict)
    tokens: dict[str, TokenBook] = field(default_factory=lambda: defaultdict(TokenBook))
    reset_hooks: list[Callable[[], None]] = field(default_factory=list)
    quotas: dict[str, Quota] = field(default_factory=dict)
    daily_quotas: dict[str, dict[str, int]] = field(default_factory=dict)
    meter: RequestMeter = field(default_factory=RequestMeter)
    rng: random.Random = field(default_factory=random.Random)
    fault_lock: threading.Lock = field(default_factory=threading.Lock)

    def reset(self) -> None:
        self.ledger.reset()
        self.faults.clear()
        self.quotas.clear()
        self.daily_quotas.clear()
        self.meter.reset()
        for book in self.tokens.values():
            book.reset()
        for hook in self.reset_hooks:
            hook()

    def take_fault(self, service: str, method: str, path: str) -> tuple[str, FaultRule] | None:
        """Decide, atomically, which fault (if any) this request gets."""
        with self.fault_lock:
            rule = self.faults.get(service)
            if rule is None or not rule.matches(method, path):
                return None
            roll = self.rng.random()
            kind = ""
            if roll < rule.error_rate:
                kind = "error"
            elif roll < rule.error_rate + rule.rate_limit_rate:
                kind = "rate_limit"
            elif roll < rule.error_rate + rule.rate_limit_rate + rule.lost_response_rate:
                kind = "lost_response"
            elif rule.latency_ms:
                kind = "latency"
            if kind and rule.times is not None:
                rule.times -= 1
            return (kind, rule) if kind else None


class FaultMiddleware:
    """ASGI wrapper applying the service's fault rule around an emulator app."""

    def __init__(
        self, app: ASGIApp, ctx: SandboxContext, service: str, error_body: ErrorBody
    ) -> None:
        self.app, self.ctx, self.service, self.error_body = app, ctx, service, error_body

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != ScopeType.HTTP:
            await self.app(scope, receive, send)
            return
        if not scope["path"].startswith("/_sandbox"):
            wait = self.ctx.meter.admit(
                self.service,
                self.ctx.quotas.get(self.service),
                scope["path"],
                self.ctx.daily_quotas.get(self.service),
            )
            if wait is not None:
                retry = str(max(1, math.ceil(wait))).encode()
                body = self.error_body(429, "Too many requests: quota exceeded")
                await send_json(send, 429, body, [(b"retry-after", retry)])
                return
        decision = self.ctx.take_fault(self.service, scope["method"], scope["path"])
        if decision is None:
            await self.app(scope, receive, send)
            return
        kind, rule = decision
        if rule.latency_ms:
            await asyncio.sleep(rule.latency_ms / 1000)
        if kind == "error":
            await send_json(
                send, rule.error_status, self.error_body(rule.error_status, "Injected fault")
            )
        elif kind == "rate_limit":
            await send_json(
                send,
                429,
                self.error_body(429, "Too many requests"),
                [(b"retry-after", str(rule.retry_after).encode())],
            )
        elif kind == "lost_response":
            await self._commit_then_drop(scope, receive, send)
        else:
            await self.app(scope, receive, send)

    async def _commit_then_drop(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Run the request to completion, discard its answer and cut the connection."""

        async def swallow(_message: Message) -> None:
            return None

        await self.app(scope, receive, swallow)
        # Promise a body that never comes: the server aborts the connection mid-response,
        # which the client sees as a dropped connection (RemoteProtocolError / ReadError).
        await send(
            {
                "type": "http.response.start",
                "status": 200,
                "headers": [(b"content-type", b"application/json"), (b"content-length", b"4096")],
            }
        )
        await send({"type": "http.response.body", "body": b'{"lost', "more_body": False})


async def send_json(
    send: Send, status: int, body: dict[str, Any], headers: list[tuple[bytes, bytes]] | None = None
) -> None:
    import json

    payload = json.dumps(body).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(payload)).encode()),
                *(headers or []),
            ],
        }
    )
    await send({"type": "http.response.body", "body": payload, "more_body": False})

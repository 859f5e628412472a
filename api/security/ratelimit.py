"""Fixed-window rate limits on Litestar's RateLimitMiddleware, with any window length (Litestar
only knows second/minute/hour/day; public routes allow 100 requests per 15 minutes per client),
counted atomically in Redis (one count per client across every API process), Retry-After on
429, and the client identified by the socket peer unless that peer is a trusted proxy."""

from __future__ import annotations

import ipaddress
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from time import time
from typing import TYPE_CHECKING, Any

from litestar import Request
from litestar.exceptions import TooManyRequestsException
from litestar.middleware.rate_limit import RateLimitConfig, RateLimitMiddleware
from litestar.serialization import decode_json, encode_json
from litestar.stores.base import Store
from litestar.stores.redis import RedisStore
from litestar.types import ASGIApp, Message, Receive, Scope, Send

from api.redis_batch import batcher
from api.stores import RL_PUBLIC, RL_TWO_FACTOR

if TYPE_CHECKING:
    from config import Settings

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def _networks(trusted: Sequence[str]) -> list[Network]:
    return [ipaddress.ip_network(item.strip(), strict=False) for item in trusted if item.strip()]


def _in(address: str, networks: list[Network]) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in net for net in networks)


def client_identifier(trusted_proxies: Sequence[str]) -> Callable[[Request], str]:
    """The socket peer; behind a trusted proxy, the right-most X-Forwarded-For hop that is not
    itself a trusted proxy (left-most entries are client-supplied and can be forged)."""
    networks = _networks(trusted_proxies)

    def identify(request: Request) -> str:
        peer = request.client.host if request.client else "unknown"
        if not networks or not _in(peer, networks):
            return peer
        hops = [h.strip() for h in request.headers.get("x-forwarded-for", "").split(",")]
        for hop in reversed([h for h in hops if h]):
            if not _in(hop, networks):
                return hop
        return peer

    return identify


@dataclass
class WindowRateLimitConfig(RateLimitConfig):
    window_seconds: int = 60
    middleware_class: type[RateLimitMiddleware] = field(default_factory=lambda: WindowRateLimit)


# One atomic step per request, however many API processes share the Redis: count this request,
# start the window on the first, answer (count, seconds left in the window).
_COUNT = """
local count = redis.call('INCR', KEYS[1])
local ttl = redis.call('TTL', KEYS[1])
if ttl < 0 then
  redis.call('EXPIRE', KEYS[1], ARGV[1])
  ttl = tonumber(ARGV[1])
end
return {count, ttl}
"""


@dataclass(frozen=True)
class Window:
    count: int
    """Requests counted in this window, this one included."""
    reset: int
    """When the window ends (epoch seconds)."""


class WindowRateLimit(RateLimitMiddleware):
    """A fixed window per client: one Redis round trip (an atomic INCR) per request with Redis,
    so every process counts into the same window and nothing waits on a lock; the file store
    (one development process) reads and writes under a lock."""

    def __init__(self, app: ASGIApp, config: RateLimitConfig) -> None:
        super().__init__(app, config)
        self.window = getattr(config, "window_seconds", 60)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        app = scope["litestar_app"]
        request: Request[Any, Any, Any] = app.request_class(scope)
        store = self.config.get_store_from_app(app)
        if await self.should_check_request(request=request):
            window = await self.count(f"count::{self.cache_key_from_request(request)}", store)
            if window.count > self.max_requests:
                headers = self.window_headers(window)
                headers["Retry-After"] = str(max(window.reset - int(time()), 1))
                raise TooManyRequestsException(
                    detail="too many requests: try again after the Retry-After seconds",
                    headers=headers,
                )
            if self.config.set_rate_limit_headers:
                send = self._with_headers(send, window)
        await self.app(scope, receive, send)

    async def count(self, key: str, store: Store) -> Window:
        if isinstance(store, RedisStore):
            redis: Any = store._redis  # noqa: SLF001 - Litestar's store has no increment
            count, ttl = await batcher(redis).execute(
                "EVAL",
                _COUNT,
                1,
                store._make_key(key),  # noqa: SLF001
                self.window,
            )
            return Window(count=int(count), reset=int(time()) + int(ttl))
        async with self._lock:
            now = int(time())
            cached = await store.get(key)
            window = Window(**decode_json(value=cached)) if cached else None
            if window is None or window.reset <= now:
                window = Window(count=0, reset=now + self.window)
            window = Window(count=window.count + 1, reset=window.reset)
            await store.set(key, encode_json(asdict(window)), expires_in=max(window.reset - now, 1))
            return window

    def _with_headers(self, send: Send, window: Window) -> Send:
        """Add RateLimit-* headers, keeping whichever limiter has the fewest requests left.

        On the raw header list: one scan for an earlier limiter's count, then an append (or a
        replacement). Litestar's MutableScopeHeaders scans the list again for every header it
        reads or sets, which cost more than the rest of this middleware."""
        remaining_key = self.config.rate_limit_remaining_header_key.lower().encode("latin-1")

        async def wrapped(message: Message) -> None:
            if message["type"] == "http.response.start":
                mine = [
                    (key.lower().encode("latin-1"), value.encode("latin-1"))
                    for key, value in self.window_headers(window).items()
                ]
                headers: list[tuple[bytes, bytes]] = list(message.get("headers", ()))
                current = next((v for k, v in headers if k.lower() == remaining_key), None)
                remaining = next(v for k, v in mine if k == remaining_key)
                if current is None:
                    message["headers"] = headers + mine
                elif int(remaining) < int(current):
                    names = {k for k, _ in mine}
                    message["headers"] = [h for h in headers if h[0].lower() not in names] + mine
            await send(message)

        return wrapped

    def window_headers(self, window: Window) -> dict[str, str]:
        remaining = max(self.max_requests - window.count, 0)
        return {
            self.config.rate_limit_policy_header_key: f"{self.max_requests}; w={self.window}",
            self.config.rate_limit_limit_header_key: str(self.max_requests),
            self.config.rate_limit_remaining_header_key: str(remaining),
            self.config.rate_limit_reset_header_key: str(max(window.reset - int(time()), 0)),
        }


def limiter(
    max_requests: int,
    window_seconds: int,
    store: str,
    trusted_proxies: Sequence[str],
    exclude: list[str] | None = None,
) -> WindowRateLimitConfig:
    return WindowRateLimitConfig(
        rate_limit=("second", max_requests),  # unit unused: the window comes from window_seconds
        window_seconds=window_seconds,
        store=store,
        identifier_for_request=client_identifier(trusted_proxies),
        exclude=exclude,
    )


def public_limiter(settings: Settings) -> WindowRateLimitConfig:
    """Every public route's per-client limit (RATE_LIMIT_PUBLIC per RATE_LIMIT_PUBLIC_WINDOW)."""
    return limiter(
        settings.rate_limit_public,
        settings.rate_limit_public_window,
        RL_PUBLIC,
        settings.trusted_proxies,
    )


def two_factor_limiter(settings: Settings) -> WindowRateLimitConfig:
    """The per-client limit on routes that check a one-time code (RATE_LIMIT_TWO_FACTOR)."""
    return limiter(
        settings.rate_limit_two_factor,
        settings.rate_limit_two_factor_window,
        RL_TWO_FACTOR,
        settings.trusted_proxies,
    )

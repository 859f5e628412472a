"""Fixed-window rate limits on Litestar's RateLimitMiddleware, with any window length (Litestar
only knows second/minute/hour/day; public routes allow 100 requests per 15 minutes per client),
Retry-After on 429, and the client identified by the socket peer unless that peer is a trusted
proxy."""

from __future__ import annotations

import ipaddress
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from time import time
from typing import Any

from litestar import Request
from litestar.datastructures import MutableScopeHeaders
from litestar.exceptions import TooManyRequestsException
from litestar.middleware.rate_limit import CacheObject, RateLimitConfig, RateLimitMiddleware
from litestar.serialization import decode_json, encode_json
from litestar.stores.base import Store
from litestar.types import ASGIApp, Message, Receive, Scope, Send

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


class WindowRateLimit(RateLimitMiddleware):
    def __init__(self, app: ASGIApp, config: RateLimitConfig) -> None:
        super().__init__(app, config)
        self.window = getattr(config, "window_seconds", 60)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        app = scope["litestar_app"]
        request: Request[Any, Any, Any] = app.request_class(scope)
        store = self.config.get_store_from_app(app)
        if await self.should_check_request(request=request):
            key = self.cache_key_from_request(request)
            async with self._lock:
                cache = await self.retrieve_cached_history(key, store)
                if len(cache.history) >= self.max_requests:
                    headers = self.create_response_headers(cache)
                    headers["Retry-After"] = str(max(cache.reset - int(time()), 1))
                    raise TooManyRequestsException(
                        detail="too many requests: try again after the Retry-After seconds",
                        headers=headers,
                    )
                await self.set_cached_history(key=key, cache_object=cache, store=store)
            if self.config.set_rate_limit_headers:
                send = self._with_headers(send, cache)
        await self.app(scope, receive, send)

    def _with_headers(self, send: Send, cache: CacheObject) -> Send:
        """Add RateLimit-* headers, keeping whichever limiter has the fewest requests left."""

        async def wrapped(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableScopeHeaders(message)
                mine = self.create_response_headers(cache)
                current = headers.get(self.config.rate_limit_remaining_header_key)
                remaining = mine[self.config.rate_limit_remaining_header_key]
                if current is None or int(remaining) < int(current):
                    for key, value in mine.items():
                        headers[key] = value
            await send(message)

        return wrapped

    async def retrieve_cached_history(self, key: str, store: Store) -> CacheObject:
        now = int(time())
        cached = await store.get(key)
        if cached:
            cache = CacheObject(**decode_json(value=cached))
            if cache.reset > now:
                return cache
        return CacheObject(history=[], reset=now + self.window)

    async def set_cached_history(self, key: str, cache_object: CacheObject, store: Store) -> None:
        cache_object.history = [int(time()), *cache_object.history][: self.max_requests]
        ttl = max(cache_object.reset - int(time()), 1)
        await store.set(key, encode_json(cache_object), expires_in=ttl)

    def create_response_headers(self, cache_object: CacheObject) -> dict[str, str]:
        remaining = max(self.max_requests - len(cache_object.history), 0)
        return {
            self.config.rate_limit_policy_header_key: f"{self.max_requests}; w={self.window}",
            self.config.rate_limit_limit_header_key: str(self.max_requests),
            self.config.rate_limit_remaining_header_key: str(remaining),
            self.config.rate_limit_reset_header_key: str(max(cache_object.reset - int(time()), 0)),
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

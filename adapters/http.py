"""Shared HTTP plumbing for the REST adapters: a thread-safe OAuth token cache and a JSON call
that classifies failures and refreshes an expired token once."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx

from adapters.errors import (
    AdapterError,
    RateLimitedError,
    classify_status,
    from_transport_error,
    retry_after_seconds,
)
from adapters.quota import MAX_WAIT_SECONDS, QuotaWait, VendorQuota

DEFAULT_TIMEOUT = httpx.Timeout(30.0, connect=5.0)
RATE_LIMIT_RETRIES = 5
"""429s absorbed per call (each after the vendor's Retry-After); the next one fails the call
with a retryable error carrying the Retry-After."""


@dataclass
class Token:
    value: str
    expires_at: float


class TokenCache:
    """Holds one bearer token; `get()` refreshes it `margin` seconds before expiry.

    Under concurrency exactly one thread fetches a new token; the others wait for it.
    """

    def __init__(self, fetch: Callable[[], tuple[str, float]], margin: float = 300) -> None:
        self._fetch = fetch
        self._margin = margin
        self._token: Token | None = None
        self._lock = threading.Lock()
        self.refresh_count = 0

    def get(self) -> str:
        token = self._token
        if token and token.expires_at - self._margin > time.time():
            return token.value
        with self._lock:
            token = self._token
            if token and token.expires_at - self._margin > time.time():
                return token.value
            return self._refresh_locked()

    def invalidate(self, stale: str) -> None:
        """Forget `stale` so the next `get()` fetches a new one (unless already replaced)."""
        with self._lock:
            if self._token and self._token.value == stale:
                self._token = None

    def _refresh_locked(self) -> str:
        value, expires_in = self._fetch()
        self._token = Token(value, time.time() + expires_in)
        self.refresh_count += 1
        return value


ErrorParser = Callable[[httpx.Response], tuple[str, str | None, Any]]
"""Extracts (message, code, details) from a vendor's error body."""


def call_json(
    client: httpx.Client,
    service: str,
    method: str,
    url: str,
    *,
    tokens: TokenCache | None,
    parse_error: ErrorParser,
    json: Any = None,
    data: dict[str, str] | None = None,
    params: dict[str, Any] | None = None,
    headers: dict[str, str] | None = None,
    expected: tuple[int, ...] = (200, 201, 204, 207),
    quota: VendorQuota | None = None,
) -> httpx.Response:
    """One API call. With a `quota`, a token of the vendor's shared bucket is taken first and a
    429 pauses the bucket for its Retry-After and tries again (up to RATE_LIMIT_RETRIES times).
    A 401 refreshes the token once and retries; other failures raise `AdapterError` subclasses
    (retryable or permanent)."""
    refreshed = False
    limited = 0
    while True:
        # the bearer token first: a thread that took its quota token and then waited for
        # another thread's token refresh would send late, bunched with the next second's calls
        token = tokens.get() if tokens else None
        _take(quota, service)
        request_headers = dict(headers or {})
        if token:
            request_headers["Authorization"] = f"Bearer {token}"
        try:
            response = client.request(
                method, url, json=json, data=data, params=params, headers=request_headers
            )
        except httpx.TransportError as exc:
            raise from_transport_error(service, exc) from exc
        if response.status_code in expected:
            return response
        if response.status_code == 401 and tokens and token and not refreshed:
            tokens.invalidate(token)
            refreshed = True
            continue
        retry_after = retry_after_seconds(response)
        # a pause longer than any activity waits (eBay's daily limit: hours) is not shared:
        # it would stop every call to the vendor, not only those to the spent API
        if (
            response.status_code == 429
            and quota is not None
            and limited < RATE_LIMIT_RETRIES
            and (retry_after or 0) <= MAX_WAIT_SECONDS
        ):
            limited += 1
            quota.pause(retry_after if retry_after is not None else 1.0)
            continue
        message, code, details = _safe_parse(parse_error, response)
        raise classify_status(
            service,
            response.status_code,
            message,
            code=code,
            retry_after=retry_after,
            details=details,
        )


def _take(quota: VendorQuota | None, service: str) -> None:
    if quota is None:
        return
    try:
        quota.acquire()
    except QuotaWait as wait:
        raise RateLimitedError(service, str(wait), retry_after=wait.wait) from wait


def _safe_parse(parse_error: ErrorParser, response: httpx.Response) -> tuple[str, str | None, Any]:
    try:
        return parse_error(response)
    except (ValueError, KeyError, TypeError, IndexError):
        return (response.text[:500] or f"HTTP {response.status_code}", None, None)


__all__ = ["AdapterError", "DEFAULT_TIMEOUT", "TokenCache", "call_json"]

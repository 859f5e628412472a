"""How adapters report failures: retryable (try again later) versus permanent (do not retry).

Activities turn these into Temporal `ApplicationError`s: permanent -> non-retryable, retryable
-> retried, honouring `retry_after` (the vendor's Retry-After) as the next retry delay.
"""

from __future__ import annotations

from typing import Any

import httpx


class AdapterError(Exception):
    """A failed call to an outside service, with the vendor's own message kept."""

    retryable: bool = False

    def __init__(
        self,
        service: str,
        message: str,
        *,
        status: int | None = None,
        code: str | None = None,
        retry_after: float | None = None,
        details: Any = None,
    ) -> None:
        super().__init__(f"{service}: {message}")
        self.service = service
        self.message = message
        self.status = status
        self.code = code
        self.retry_after = retry_after
        self.details = details

    @property
    def type_name(self) -> str:
        """Stable name for Temporal's `non_retryable_error_types` and for logs."""
        return type(self).__name__


class RetryableError(AdapterError):
    """Timeouts, connection errors, 5xx, 429: the same call may succeed later."""

    retryable = True


class RateLimitedError(RetryableError):
    """429: retry after `retry_after` seconds."""


class PermanentError(AdapterError):
    """Validation and business errors: retrying the same call cannot succeed."""


class AuthenticationError(PermanentError):
    """Credentials refused even after one token refresh."""


class NotFoundError(PermanentError):
    """The vendor has no such resource."""


def retry_after_seconds(response: httpx.Response) -> float | None:
    value = response.headers.get("retry-after")
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        return None


def classify_status(
    service: str,
    status: int,
    message: str,
    *,
    code: str | None = None,
    retry_after: float | None = None,
    details: Any = None,
) -> AdapterError:
    """Map an HTTP status to the right error class."""
    kwargs: dict[str, Any] = {"status": status, "code": code, "details": details}
    if status == 429:
        return RateLimitedError(service, message, retry_after=retry_after, **kwargs)
    if status >= 500 or status == 408:
        return RetryableError(service, message, retry_after=retry_after, **kwargs)
    if status in (401, 403):
        return AuthenticationError(service, message, **kwargs)
    if status == 404:
        return NotFoundError(service, message, **kwargs)
    return PermanentError(service, message, **kwargs)


def from_transport_error(service: str, exc: httpx.TransportError) -> RetryableError:
    """Timeouts, refused connections and dropped responses are all worth retrying."""
    return RetryableError(service, f"{type(exc).__name__}: {exc}")

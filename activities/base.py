"""Turning adapter failures into Temporal errors, the same way in every activity."""

from __future__ import annotations

import functools
from collections.abc import Callable
from datetime import timedelta
from typing import Any, TypeVar

from temporalio import activity
from temporalio.exceptions import ApplicationError, ApplicationErrorCategory

from adapters.errors import AdapterError, RateLimitedError

F = TypeVar("F", bound=Callable[..., Any])


def to_application_error(error: AdapterError) -> ApplicationError:
    """Permanent -> non-retryable; retryable keeps the vendor's Retry-After as the next delay.

    A vendor's quota (429 beyond what the adapter absorbs, eBay's daily budget spent) is flow
    control, not a fault: BENIGN, so the SDK logs the attempt at DEBUG without a traceback and
    counts no `temporal_activity_execution_failed`; our one-line warning still says why."""
    delay = timedelta(seconds=error.retry_after) if error.retry_after else None
    return ApplicationError(
        str(error),
        {"service": error.service, "status": error.status, "code": error.code},
        type=error.type_name,
        non_retryable=not error.retryable,
        next_retry_delay=delay,
        category=(
            ApplicationErrorCategory.BENIGN
            if isinstance(error, RateLimitedError)
            else ApplicationErrorCategory.UNSPECIFIED
        ),
    )


def external_call(fn: F) -> F:
    """Decorator for activities that call an adapter: classify its errors for Temporal."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except AdapterError as error:
            activity.logger.warning("adapter call failed: %s", error)
            raise to_application_error(error) from error

    return wrapper  # type: ignore[return-value]


def idempotency_key(*parts: str) -> str:
    """A key built from business ids, stable across retries, resets and continue-as-new."""
    return ":".join(p for p in parts if p)

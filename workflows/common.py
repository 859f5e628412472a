"""Activity options shared by the workflows: every call has a timeout and an explicit policy."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from temporalio.common import RetryPolicy

from domain.errors import PERMANENT_ERRORS

EXTERNAL_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=1),
    backoff_coefficient=2.0,
    maximum_interval=timedelta(minutes=2),
    maximum_attempts=25,
    non_retryable_error_types=PERMANENT_ERRORS,
)
"""Outside services: back off up to two minutes, about half an hour of trying in all."""

DATABASE_RETRY = RetryPolicy(
    initial_interval=timedelta(milliseconds=200),
    backoff_coefficient=2.0,
    maximum_interval=timedelta(seconds=30),
    maximum_attempts=50,
    non_retryable_error_types=PERMANENT_ERRORS,
)

EXTERNAL: dict[str, Any] = {
    "start_to_close_timeout": timedelta(seconds=60),
    "retry_policy": EXTERNAL_RETRY,
}
"""Options for one call to an outside service."""

DATABASE: dict[str, Any] = {
    "start_to_close_timeout": timedelta(seconds=15),
    "retry_policy": DATABASE_RETRY,
}
"""Options for a projection write to our own database."""

LONG_EXTERNAL: dict[str, Any] = {
    **EXTERNAL,
    "start_to_close_timeout": timedelta(minutes=10),
    "heartbeat_timeout": timedelta(minutes=2),
}
"""Paging through many orders or shipments: long, but heartbeating."""

SLOW_EXTERNAL: dict[str, Any] = {**EXTERNAL, "start_to_close_timeout": timedelta(minutes=10)}
"""A few bulk calls in one activity (no heartbeat in between)."""

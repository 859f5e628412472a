"""How adapter failures reach Temporal (activities/base.py): retryable or not, the vendor's
delay, and throttling as flow control rather than a fault."""

from __future__ import annotations

from datetime import timedelta

import pytest
from temporalio.exceptions import ApplicationError, ApplicationErrorCategory

from activities.base import external_call, to_application_error
from adapters.errors import PermanentError, RateLimitedError, RetryableError
from adapters.quota import DailyQuotaSpent


def test_permanent_is_not_retried_and_counts_as_a_failure() -> None:
    error = to_application_error(PermanentError("fedex", "address refused", status=400))
    assert error.non_retryable and error.type == "PermanentError"
    assert error.category == ApplicationErrorCategory.UNSPECIFIED


def test_a_vendor_fault_is_retried_and_counts_as_a_failure() -> None:
    error = to_application_error(RetryableError("ebay", "bad gateway", status=502))
    assert not error.non_retryable and error.next_retry_delay is None
    assert error.category == ApplicationErrorCategory.UNSPECIFIED


@pytest.mark.parametrize(
    "throttled",
    [
        RateLimitedError("fedex", "too many requests", status=429, retry_after=7),
        DailyQuotaSpent("ebay", "sell.inventory", 45, "2026-12-04", 3600),
    ],
)
def test_throttling_waits_for_the_vendor_and_is_benign(throttled: RateLimitedError) -> None:
    error = to_application_error(throttled)
    assert not error.non_retryable
    assert error.next_retry_delay == timedelta(seconds=throttled.retry_after or 0)
    assert error.category == ApplicationErrorCategory.BENIGN


def test_external_call_raises_the_classified_error() -> None:
    @external_call
    def call() -> None:
        raise RateLimitedError("fedex", "too many requests", status=429, retry_after=2)

    with pytest.raises(ApplicationError) as raised:
        call()
    assert raised.value.category == ApplicationErrorCategory.BENIGN
    assert isinstance(raised.value.__cause__, RateLimitedError)

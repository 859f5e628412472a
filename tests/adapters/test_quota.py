"""The vendor quota's token bucket in real Redis: every client (every worker) draws from the same
bucket, and a vendor's 429 pauses all of them."""

from __future__ import annotations

import uuid

import pytest
import redis

from adapters.quota import QuotaWait, RedisBucket, VendorQuota, vendor_quota

pytestmark = pytest.mark.timeout(30)


@pytest.fixture
def two_workers(settings) -> tuple[RedisBucket, RedisBucket]:
    """Two buckets for one vendor over two separate Redis connections, as two workers have."""
    if not settings.redis_url:
        pytest.skip("needs Redis (REDIS_URL)")
    vendor = f"test-{uuid.uuid4().hex[:8]}"
    first, second = (redis.Redis.from_url(settings.redis_url) for _ in range(2))
    # refill is negligible over the test: the burst is all there is
    return (
        RedisBucket(first, vendor, per_second=0.01, burst=5),
        RedisBucket(second, vendor, per_second=0.01, burst=5),
    )


def test_two_clients_share_one_bucket(two_workers) -> None:
    a, b = two_workers
    taken = [bucket.take() == 0 for _ in range(5) for bucket in (a, b)]
    assert sum(taken) == 5  # 10 asks, 5 tokens between both: not 5 each
    assert taken[:5] == [True] * 5 and not any(taken[5:])
    assert a.take() > 10 and b.take() > 10  # the next token is ~100 s away at 0.01/s


def test_a_429_pauses_every_client(two_workers) -> None:
    a, b = two_workers
    assert b.take() == 0
    a.pause(5)  # the vendor said Retry-After: 5 to one worker
    assert 4 < b.take() <= 5
    assert 4 < a.take() <= 5


def test_acquire_gives_up_rather_than_outwait_the_activity(two_workers) -> None:
    a, _ = two_workers
    quota = VendorQuota("test", a)
    for _ in range(5):
        quota.acquire()
    with pytest.raises(QuotaWait) as wait:
        quota.acquire(max_wait=1)
    assert wait.value.wait > 1


def test_zero_calls_per_second_means_no_quota(settings) -> None:
    assert vendor_quota("ebay", 0, 10, settings.redis_url) is None

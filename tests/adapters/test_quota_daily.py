"""eBay's daily call budget: the day as eBay counts it (from 00:00 Pacific), the budget less the
reserve, a retryable error carrying the wait to the next day, and one count in Redis for every
process."""

from __future__ import annotations

import multiprocessing
import uuid
from datetime import UTC, datetime

import pytest
import redis

from adapters.errors import RateLimitedError
from adapters.quota import (
    DailyBudget,
    DailyQuotaSpent,
    DailyUsageCollector,
    LocalDayCounter,
    RedisDayCounter,
    api_family,
    day_window,
)

pytestmark = pytest.mark.timeout(60)


def ts(text: str) -> float:
    return datetime.fromisoformat(text).replace(tzinfo=UTC).timestamp()


class FakeClock:
    def __init__(self, now: float) -> None:
        self.now = now
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


def budget(clock: FakeClock, limit: int = 10, reserve: float = 0.2) -> DailyBudget:
    return DailyBudget(
        "ebay",
        {"sell.inventory": limit},
        reserve,
        LocalDayCounter(),
        clock=clock,
        sleep=clock.sleep,
    )


def test_the_day_turns_at_pacific_midnight_with_daylight_saving() -> None:
    # summer (PDT, UTC-7): 06:59Z is still the 14th in California, 07:00Z the 15th
    assert day_window(ts("2026-07-15T06:59:59")) == ("2026-07-14", ts("2026-07-15T07:00:00"))
    assert day_window(ts("2026-07-15T07:00:00"))[0] == "2026-07-15"
    # winter (PST, UTC-8)
    assert day_window(ts("2026-12-02T07:30:00")) == ("2026-12-01", ts("2026-12-02T08:00:00"))
    # the day the clocks go back is 25 hours long
    day, ends = day_window(ts("2026-11-01T12:00:00"))
    assert day == "2026-11-01" and ends - ts("2026-11-01T07:00:00") == 25 * 3600


def test_api_family_is_the_get_rate_limits_resource_name() -> None:
    assert api_family("/sell/inventory/v1/offer/1/publish") == "sell.inventory"
    assert api_family("/sell/fulfillment/v1/order") == "sell.fulfillment"


def test_the_budget_keeps_the_reserve_back_and_says_when_calls_resume() -> None:
    clock = FakeClock(ts("2026-12-02T20:00:00"))  # 12:00 PST: 12 h to the next day
    daily = budget(clock)
    for _ in range(8):  # 10 a day less 20%
        daily.spend("sell.inventory")
    with pytest.raises(DailyQuotaSpent) as spent:
        daily.spend("sell.inventory")
    assert isinstance(spent.value, RateLimitedError) and spent.value.retryable
    assert spent.value.retry_after == 12 * 3600
    assert "sell.inventory" in str(spent.value) and "2026-12-02" in str(spent.value)
    assert [(u.family, u.used, u.budget, u.limit) for u in daily.usage()] == [
        ("sell.inventory", 8, 8, 10)
    ]
    daily.spend("sell.fulfillment")  # not listed: not counted, never refused


def test_a_new_pacific_day_starts_a_new_count() -> None:
    clock = FakeClock(ts("2026-12-02T07:59:00"))  # 23:59 PST
    daily = budget(clock, limit=2, reserve=0)
    daily.spend("sell.inventory")
    daily.spend("sell.inventory")
    clock.now = ts("2026-12-02T08:00:01")  # 00:00:01 PST: eBay's new day, the same UTC day
    daily.spend("sell.inventory")
    assert daily.usage()[0].used == 1 and daily.usage()[0].day == "2026-12-02"


def test_spent_shortly_before_midnight_waits_for_the_new_day() -> None:
    clock = FakeClock(ts("2026-12-02T07:59:50"))  # 10 s before the day turns
    daily = budget(clock, limit=1, reserve=0)
    daily.spend("sell.inventory")
    daily.spend("sell.inventory", max_wait=30)  # waits the 10 s, counts on the new day
    assert clock.slept == [10]
    assert daily.usage()[0].used == 1


def test_the_gauges_show_the_days_count() -> None:
    clock = FakeClock(ts("2026-12-02T20:00:00"))
    daily = budget(clock)
    for _ in range(3):
        daily.spend("sell.inventory")
    samples = {
        (s.name, s.labels["api"]): s.value
        for family in DailyUsageCollector([daily]).collect()
        for s in family.samples
    }
    assert samples == {
        ("worlddoor_vendor_calls_today", "sell.inventory"): 3,
        ("worlddoor_vendor_calls_budget", "sell.inventory"): 8,
    }


def _spend_all(redis_url: str, namespace: str, calls: int, answers: multiprocessing.Queue) -> None:
    daily = DailyBudget(
        "ebay",
        {"sell.inventory": 50},
        0.1,
        RedisDayCounter(redis.Redis.from_url(redis_url)),
        namespace,
    )
    spent = 0
    for _ in range(calls):
        try:
            daily.spend("sell.inventory", max_wait=0)
            spent += 1
        except DailyQuotaSpent:
            pass
    answers.put(spent)


def test_two_processes_share_one_daily_count(settings) -> None:
    if not settings.redis_url:
        pytest.skip("needs Redis (REDIS_URL)")
    namespace = f"test-{uuid.uuid4().hex[:8]}"
    answers: multiprocessing.Queue = multiprocessing.get_context("spawn").Queue()
    processes = [
        multiprocessing.get_context("spawn").Process(
            target=_spend_all, args=(settings.redis_url, namespace, 40, answers)
        )
        for _ in range(2)
    ]
    for p in processes:
        p.start()
    for p in processes:
        p.join(30)
    counts = [answers.get(timeout=5) for _ in processes]
    assert sum(counts) == 45  # 80 asked, 50 a day less 10%: 45 between both, not 45 each
    assert all(c > 0 for c in counts)  # both took a share (the count is shared, not first-wins)
    shared = DailyBudget(
        "ebay",
        {"sell.inventory": 50},
        0.1,
        RedisDayCounter(redis.Redis.from_url(settings.redis_url)),
        namespace,
    )
    assert shared.usage()[0].used == 45


def _ebay(settings, **update):
    from adapters.ebay import EbayClient

    namespace = f"test-{uuid.uuid4().hex[:8]}"  # a fresh day's count
    return EbayClient(settings.model_copy(update={"store_namespace": namespace, **update}))


def _inventory_calls_today(sandbox) -> tuple[int, int]:
    from sandbox.core import pacific_day

    today, _ = pacific_day(datetime.now(UTC).timestamp())
    days = sandbox.ctx.meter.per_day("ebay")
    return next(((s, r) for f, d, s, r in days if (f, d) == ("sell.inventory", today)), (0, 0))


def test_the_ebay_adapter_stops_at_the_budget_before_ebay_refuses(clean_sandbox, settings) -> None:
    ebay = _ebay(settings, ebay_daily_calls={"sell.inventory": 3}, ebay_daily_reserve=0)
    ebay.ensure_inventory_location()  # GET (404) and POST: 2 calls
    ebay.ensure_inventory_location()  # GET: the 3rd
    with pytest.raises(DailyQuotaSpent) as spent:
        ebay.ensure_inventory_location()
    assert spent.value.retry_after and spent.value.retry_after > 0
    assert _inventory_calls_today(clean_sandbox) == (3, 0)  # nothing sent past the budget
    list(ebay.iter_orders_modified(datetime(2026, 1, 1, tzinfo=UTC), datetime.now(UTC)))
    assert ebay.api_calls["get_orders"] == 1  # sell.fulfillment has its own count


def test_ebays_daily_429_is_retryable_and_not_a_shared_pause(clean_sandbox, settings) -> None:
    clean_sandbox.ctx.daily_quotas["ebay"] = {"sell.inventory": 1}
    ebay = _ebay(settings, ebay_calls_per_second=10.0)
    started = datetime.now(UTC)
    with pytest.raises(RateLimitedError) as refused:
        ebay.ensure_inventory_location()  # GET 404 served, the POST refused for the day
    assert (datetime.now(UTC) - started).total_seconds() < 5
    assert refused.value.retry_after and refused.value.retry_after > 60
    assert not isinstance(refused.value, DailyQuotaSpent)  # eBay's refusal, not our budget
    assert ebay.quota is not None and ebay.quota.bucket.take() == 0  # not paused
    list(ebay.iter_orders_modified(datetime(2026, 1, 1, tzinfo=UTC), datetime.now(UTC)))
    clean_sandbox.ctx.daily_quotas.clear()

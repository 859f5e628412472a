"""Vendor call quotas held across every worker: one token bucket per vendor in Redis.

eBay's daily call limits and FedEx's transaction rate are per application, not per process, so
the bucket lives in Redis (`REDIS_URL`) and every adapter instance in every worker takes its
token there before a call (one Lua script: refill by elapsed Redis time, take one, or answer how
long to wait). A 429 from the vendor pauses the bucket for its Retry-After for everyone, and the
call is tried again after it instead of failing the activity. Without Redis (local development)
the bucket is per process, which holds the limit for one worker only.

Settings: `{VENDOR}_CALLS_PER_SECOND` (0 turns the bucket off) and `{VENDOR}_CALL_BURST` (the
most calls at once after a quiet spell); see config.py for the defaults and their reasons.

A per-second bucket cannot hold a limit counted per day, so eBay also has a `DailyBudget`: one
counter per API family (`sell.inventory`, `sell.fulfillment`: the resource names of eBay's
Analytics getRateLimits) and per eBay day, which starts at 00:00 Pacific time (US/Pacific, so
07:00 or 08:00 UTC). Every HTTP request to the family counts once in Redis for all workers;
when the day's budget (eBay's limit less EBAY_DAILY_RESERVE) is spent, calls fail with the
retryable `DailyQuotaSpent` whose Retry-After is the next Pacific midnight, instead of being
refused by eBay. `DailyUsageCollector` shows the day's counts on /metrics.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol
from zoneinfo import ZoneInfo

from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from adapters.errors import RateLimitedError

MAX_WAIT_SECONDS = 30.0
"""Longer than this for a token (or a vendor's pause) and the call gives up with a retryable
error: the activity's own retry takes over rather than its start-to-close timeout."""

_TAKE = """
local now_parts = redis.call('TIME')
local now = tonumber(now_parts[1]) + tonumber(now_parts[2]) / 1000000
local rate, burst = tonumber(ARGV[1]), tonumber(ARGV[2])
local paused = tonumber(redis.call('GET', KEYS[2]) or '0')
if paused > now then return tostring(paused - now) end
local tokens = tonumber(redis.call('HGET', KEYS[1], 'tokens') or burst)
local stamp = tonumber(redis.call('HGET', KEYS[1], 'stamp') or now)
tokens = math.min(burst, tokens + math.max(0, now - stamp) * rate)
local wait = 0
if tokens >= 1 then tokens = tokens - 1 else wait = (1 - tokens) / rate end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'stamp', tostring(now))
redis.call('EXPIRE', KEYS[1], math.ceil(burst / rate) + 60)
return tostring(wait)
"""

_PAUSE = """
local now_parts = redis.call('TIME')
local now = tonumber(now_parts[1]) + tonumber(now_parts[2]) / 1000000
local until_ = now + tonumber(ARGV[1])
local paused = tonumber(redis.call('GET', KEYS[1]) or '0')
if until_ > paused then
  redis.call('SET', KEYS[1], tostring(until_), 'PX', math.ceil(tonumber(ARGV[1]) * 1000) + 1000)
end
return tostring(math.max(until_, paused) - now)
"""


class Bucket(Protocol):
    def take(self) -> float:
        """Take one token: 0 when taken, else the seconds to wait before asking again."""
        ...

    def pause(self, seconds: float) -> None:
        """Nobody calls the vendor for `seconds` (it answered 429 with this Retry-After)."""
        ...


class RedisBucket:
    """The vendor's bucket shared by every process using the same Redis."""

    def __init__(
        self, client: Any, vendor: str, per_second: float, burst: int, namespace: str = "worlddoor"
    ) -> None:
        self.keys = [f"{namespace}:quota:{vendor}", f"{namespace}:quota:{vendor}:paused"]
        self.per_second, self.burst = per_second, burst
        self._take = client.register_script(_TAKE)
        self._pause = client.register_script(_PAUSE)

    def take(self) -> float:
        return float(self._take(keys=self.keys, args=[self.per_second, self.burst]))

    def pause(self, seconds: float) -> None:
        self._pause(keys=self.keys[1:], args=[seconds])


class LocalBucket:
    """The same bucket for one process (no Redis configured)."""

    def __init__(self, per_second: float, burst: int) -> None:
        self.per_second, self.burst = per_second, burst
        self._tokens, self._stamp, self._paused = float(burst), time.monotonic(), 0.0
        self._lock = threading.Lock()

    def take(self) -> float:
        with self._lock:
            now = time.monotonic()
            if self._paused > now:
                return self._paused - now
            elapsed = max(0.0, now - self._stamp)
            self._tokens = min(self.burst, self._tokens + elapsed * self.per_second)
            self._stamp = now
            if self._tokens >= 1:
                self._tokens -= 1
                return 0.0
            return (1 - self._tokens) / self.per_second

    def pause(self, seconds: float) -> None:
        with self._lock:
            self._paused = max(self._paused, time.monotonic() + seconds)


class VendorQuota:
    """Calls to one vendor: `acquire()` before each, `pause()` on its 429. Counts what it did
    (waits and 429s absorbed) for the benchmark and the logs."""

    def __init__(self, vendor: str, bucket: Bucket) -> None:
        self.vendor = vendor
        self.bucket = bucket
        self.waited_seconds = 0.0
        self.absorbed_429 = 0
        self._lock = threading.Lock()

    def acquire(self, max_wait: float = MAX_WAIT_SECONDS) -> None:
        """Block until a token is taken; QuotaWait when that would take over `max_wait`."""
        waited = 0.0
        while (wait := self.bucket.take()) > 0:
            if waited + wait > max_wait:
                raise QuotaWait(self.vendor, wait)
            time.sleep(wait)
            waited += wait
        if waited:
            with self._lock:
                self.waited_seconds += waited

    def pause(self, seconds: float) -> None:
        with self._lock:
            self.absorbed_429 += 1
        self.bucket.pause(seconds)


class QuotaWait(Exception):
    """The vendor's bucket will not have a token within the wait an activity allows."""

    def __init__(self, vendor: str, wait: float) -> None:
        super().__init__(f"{vendor}: call quota exhausted, next token in {wait:.1f} s")
        self.vendor = vendor
        self.wait = wait


# Daily budgets ------------------------------------------------------------------------------

EBAY_DAY_ZONE = ZoneInfo("America/Los_Angeles")
"""eBay's call-limit day: "the day starts at midnight, 00:00:00 PST (not GMT)" (GetApiAccessRules);
getRateLimits' `reset` is 07:00Z in summer, i.e. Pacific midnight with daylight saving."""


def api_family(path: str) -> str:
    """The API a request path counts against: `/sell/inventory/v1/offer` -> `sell.inventory`."""
    parts = [p for p in path.split("/") if p]
    return ".".join(parts[:2])


def day_window(now: float, zone: ZoneInfo = EBAY_DAY_ZONE) -> tuple[str, float]:
    """The day `now` (Unix seconds) falls in, in `zone`: (its date, the Unix time it ends)."""
    local = datetime.fromtimestamp(now, zone)
    midnight = datetime.combine(local.date() + timedelta(days=1), datetime.min.time(), zone)
    return local.date().isoformat(), midnight.timestamp()


class DayCounter(Protocol):
    def spend(self, key: str, budget: int, expire_at: float) -> bool:
        """Count one call under `key` unless `budget` are counted already (then False)."""
        ...

    def counts(self, keys: list[str]) -> list[int]: ...


_SPEND = """
local n = tonumber(redis.call('GET', KEYS[1]) or '0')
if n >= tonumber(ARGV[1]) then return 0 end
if redis.call('INCR', KEYS[1]) == 1 then redis.call('EXPIREAT', KEYS[1], ARGV[2]) end
return 1
"""


class RedisDayCounter:
    """The counts every worker shares (check and count in one script: no two take the last)."""

    def __init__(self, client: Any) -> None:
        self._client = client
        self._spend = client.register_script(_SPEND)

    def spend(self, key: str, budget: int, expire_at: float) -> bool:
        return bool(self._spend(keys=[key], args=[budget, math.ceil(expire_at)]))

    def counts(self, keys: list[str]) -> list[int]:
        return [int(v or 0) for v in self._client.mget(keys)] if keys else []


class LocalDayCounter:
    """The same counts for one process (no Redis configured)."""

    def __init__(self) -> None:
        self._counts: dict[str, int] = {}
        self._lock = threading.Lock()

    def spend(self, key: str, budget: int, expire_at: float) -> bool:
        with self._lock:
            if self._counts.get(key, 0) >= budget:
                return False
            self._counts[key] = self._counts.get(key, 0) + 1
            return True

    def counts(self, keys: list[str]) -> list[int]:
        with self._lock:
            return [self._counts.get(k, 0) for k in keys]


@dataclass(frozen=True)
class DailyUsage:
    vendor: str
    family: str
    day: str
    used: int
    budget: int
    limit: int


class DailyBudget:
    """A vendor's daily call limits per API family, counted for every worker at once.

    `limits` are the vendor's own (calls a day per family; a family not listed is not
    counted); the budget keeps `reserve` of each back for what this count cannot see (the
    developer portal's API explorer, a script with the same keys)."""

    def __init__(
        self,
        vendor: str,
        limits: Mapping[str, int],
        reserve: float,
        counter: DayCounter,
        namespace: str = "worlddoor",
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], None] = time.sleep,
        zone: ZoneInfo = EBAY_DAY_ZONE,
    ) -> None:
        self.vendor, self.limits, self.reserve = vendor, dict(limits), reserve
        self.counter, self.namespace, self.zone = counter, namespace, zone
        self.clock, self.sleep = clock, sleep

    def budget(self, family: str) -> int | None:
        limit = self.limits.get(family)
        return None if limit is None else math.floor(limit * (1 - self.reserve))

    def key(self, family: str, day: str) -> str:
        return f"{self.namespace}:quota:{self.vendor}:day:{family}:{day}"

    def spend(self, family: str, max_wait: float = MAX_WAIT_SECONDS) -> None:
        """Count one call to `family` today; when the day's budget is spent, wait for the next
        day if it starts within `max_wait`, else raise the retryable `DailyQuotaSpent`."""
        budget = self.budget(family)
        if budget is None:
            return
        while True:
            now = self.clock()
            day, ends = day_window(now, self.zone)
            # keep the count a day past its end: the metrics read yesterday's total meanwhile
            if self.counter.spend(self.key(family, day), budget, ends + 86_400):
                return
            if ends - now > max_wait:
                raise DailyQuotaSpent(self.vendor, family, budget, day, ends - now)
            self.sleep(ends - now)
            max_wait -= ends - now

    def usage(self) -> list[DailyUsage]:
        """Today's count per family (today as the vendor counts days)."""
        day, _ = day_window(self.clock(), self.zone)
        families = sorted(self.limits)
        counts = self.counter.counts([self.key(f, day) for f in families])
        return [
            DailyUsage(self.vendor, f, day, n, self.budget(f) or 0, self.limits[f])
            for f, n in zip(families, counts, strict=True)
        ]


class DailyQuotaSpent(RateLimitedError):
    """Today's budget for an API family is spent: retry once the vendor's day turns."""

    def __init__(self, vendor: str, family: str, budget: int, day: str, wait: float) -> None:
        super().__init__(
            vendor,
            f"daily call budget for {family} spent ({budget} calls on {day}, the vendor's day); "
            f"calls resume at its midnight, in {wait / 3600:.1f} h",
            code="DAILY_BUDGET_SPENT",
            retry_after=wait,
        )
        self.family = family


class DailyUsageCollector(Collector):
    """Prometheus gauges of today's calls and budget per vendor API family (read at scrape)."""

    def __init__(self, budgets: list[DailyBudget]) -> None:
        self.budgets = budgets

    def collect(self) -> Iterator[GaugeMetricFamily]:
        used = GaugeMetricFamily(
            "worlddoor_vendor_calls_today",
            "Calls to the vendor API family in the vendor's current day (eBay: since 00:00 "
            "Pacific), counted by every worker",
            labels=["vendor", "api"],
        )
        budget = GaugeMetricFamily(
            "worlddoor_vendor_calls_budget",
            "The day's budget of calls (the vendor's daily limit less EBAY_DAILY_RESERVE)",
            labels=["vendor", "api"],
        )
        for daily in self.budgets:
            try:
                rows = daily.usage()
            except Exception:  # Redis down: no figure rather than no scrape
                logging.getLogger(__name__).warning("daily usage of %s unreadable", daily.vendor)
                continue
            for row in rows:
                used.add_metric([row.vendor, row.family], row.used)
                budget.add_metric([row.vendor, row.family], row.budget)
        yield used
        yield budget


_redis_clients: dict[str, Any] = {}
_local: dict[str, LocalBucket] = {}
_local_days: dict[str, LocalDayCounter] = {}
_lock = threading.Lock()


def _redis(redis_url: str) -> Any:
    import redis

    with _lock:
        client = _redis_clients.get(redis_url)
        if client is None:
            client = _redis_clients[redis_url] = redis.Redis.from_url(redis_url)
    return client


def daily_budget(
    vendor: str,
    limits: Mapping[str, int],
    reserve: float,
    redis_url: str = "",
    namespace: str = "worlddoor",
) -> DailyBudget:
    """The daily budget for `vendor`, in Redis when `redis_url` is set (per process without)."""
    if redis_url:
        counter: DayCounter = RedisDayCounter(_redis(redis_url))
    else:
        with _lock:
            counter = _local_days.setdefault(vendor, LocalDayCounter())
    return DailyBudget(vendor, limits, reserve, counter, namespace)


def ebay_daily_budget(settings: Any) -> DailyBudget:
    """eBay's daily budget from the settings (EBAY_DAILY_CALLS, EBAY_DAILY_RESERVE)."""
    return daily_budget(
        "ebay",
        settings.ebay_daily_calls,
        settings.ebay_daily_reserve,
        settings.redis_url,
        settings.store_namespace,
    )


def vendor_quota(
    vendor: str, per_second: float, burst: int, redis_url: str = "", namespace: str = "worlddoor"
) -> VendorQuota | None:
    """The quota for `vendor` (None when `per_second` is 0: no limit); the Redis keys live under
    `namespace` (STORE_NAMESPACE), so deployments sharing a Redis keep their own buckets."""
    if per_second <= 0:
        return None
    burst = max(1, burst)
    if not redis_url:
        with _lock:
            bucket = _local.setdefault(vendor, LocalBucket(per_second, burst))
        return VendorQuota(vendor, bucket)
    return VendorQuota(vendor, RedisBucket(_redis(redis_url), vendor, per_second, burst, namespace))

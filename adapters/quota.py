"""Vendor call quotas held across every worker: one token bucket per vendor in Redis.

eBay's daily call limits and FedEx's transaction rate are per application, not per process, so
the bucket lives in Redis (`REDIS_URL`) and every adapter instance in every worker takes its
token there before a call (one Lua script: refill by elapsed Redis time, take one, or answer how
long to wait). A 429 from the vendor pauses the bucket for its Retry-After for everyone, and the
call is tried again after it instead of failing the activity. Without Redis (local development)
the bucket is per process, which holds the limit for one worker only.

Settings: `{VENDOR}_CALLS_PER_SECOND` (0 turns the bucket off) and `{VENDOR}_CALL_BURST` (the
most calls at once after a quiet spell); see config.py for the defaults and their reasons.
"""

from __future__ import annotations

import threading
import time
from typing import Any, Protocol

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


_redis_clients: dict[str, Any] = {}
_local: dict[str, LocalBucket] = {}
_lock = threading.Lock()


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
    import redis

    with _lock:
        client = _redis_clients.get(redis_url)
        if client is None:
            client = _redis_clients[redis_url] = redis.Redis.from_url(redis_url)
    return VendorQuota(vendor, RedisBucket(client, vendor, per_second, burst, namespace))

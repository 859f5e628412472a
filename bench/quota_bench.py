"""Vendor quotas held across workers: two worker processes call FedEx (Track) and eBay (a GET of
our inventory location) through the real adapters while the emulator counts requests per second
and per day.

Per vendor, two phases:
1. held: our bucket ({VENDOR}_CALLS_PER_SECOND) is under the emulator's quota: the busiest
   second stays at the bucket's limit (rate + burst), the emulator refuses nothing;
2. absorbed: our bucket above the quota: the emulator answers 429 with Retry-After, the adapters
   pause the shared bucket and try again, and no activity fails.
And eBay's daily limit: the emulator allows DAY_QUOTA calls to sell.inventory for the rest of
the Pacific day, our budget (EBAY_DAILY_CALLS less EBAY_DAILY_RESERVE) is under it; two workers
make DAY_CALLS calls: exactly the budget is served, the emulator refuses none, the rest fail
retryably with DailyQuotaSpent (their activities are given one attempt: a retry would wait for
the Pacific midnight).
The buckets and budgets are shared in Redis: REDIS_URL, else the local Redis when one answers
(redis://127.0.0.1:6379/0, as the API bench does), under a namespace of this run's own. With no
Redis each process has its own bucket and budget, and the figures show the limits doubled, which
is what the bench then prints.
"""

from __future__ import annotations

import asyncio
import json
import os
import time
import uuid
from pathlib import Path
from typing import Any

import httpx
from temporalio.api.enums.v1 import EventType

from bench.worker_process import spawn, stop

CALLS = 240
QUOTA = 20  # the emulator's quota per vendor, requests per second (429 above)
HELD = (15, 3)  # our bucket under it: 15 a second, 3 at once (18 in any second < 20)
OVER = (40, 5)  # our bucket above it: the emulator refuses, we absorb
DAY_QUOTA = 50  # the emulator's eBay sell.inventory calls for the rest of the day
DAY_RESERVE = 0.1  # our budget: 45 of them
DAY_CALLS = 80
RESULTS = Path(__file__).parent / "results"
VENDORS = {  # vendor: (emulator service, activity, bucket settings' prefix)
    "fedex": ("fedex", "bench.fedex_track", "FEDEX"),
    "ebay": ("ebay", "bench.ebay_location", "EBAY"),
}


async def run(env: Any, sandbox: Any, settings: Any) -> dict[str, float]:
    from adapters.carriers.fedex import FedexCarrier
    from adapters.ebay import EbayClient

    unlimited = settings.model_copy(
        update={"fedex_calls_per_second": 0, "ebay_calls_per_second": 0}
    )
    arguments = {"fedex": FedexCarrier(unlimited).ship(_request()).tracking_number, "ebay": "-"}
    with EbayClient(unlimited) as ebay:
        ebay.ensure_inventory_location()  # so each bench call is the one GET
    address = env.client.service_client.config.target_host
    redis_url = shared_redis()
    shared = bool(redis_url)
    in_redis = (
        {"REDIS_URL": redis_url, "STORE_NAMESPACE": f"bench-quota-{uuid.uuid4().hex[:8]}"}
        if shared
        else {}
    )
    limit = HELD[0] + HELD[1]
    figures: dict[str, float] = {}
    report: dict[str, Any] = {"shared": shared}
    async with httpx.AsyncClient(base_url=sandbox.base_url, timeout=30) as http:
        for vendor, (service, activity, prefix) in VENDORS.items():
            (await http.post("/_sandbox/quotas", json={service: QUOTA})).raise_for_status()
            phases = [
                await _phase(
                    env.client,
                    http,
                    address,
                    service,
                    activity,
                    [arguments[vendor]] * CALLS,
                    {
                        **in_redis,
                        f"{prefix}_CALLS_PER_SECOND": str(rate),
                        f"{prefix}_CALL_BURST": str(burst),
                    },
                )
                for rate, burst in (HELD, OVER)
            ]
            (await http.post("/_sandbox/quotas", json={service: 10_000})).raise_for_status()
            held, over = phases
            report[vendor] = {"held": held, "over": over}
            # FedEx's keys are the bench's first ones (quota_*), kept as they were
            key = "quota" if vendor == "fedex" else f"quota_{vendor}"
            figures |= {
                f"{key}_peak_over_limit": held["peak"] / limit,
                f"{key}_refused_when_held": held["refused"],
                f"{key}_429_absorbed": over["refused"],
                f"{key}_failed_activities": held["failed"] + over["failed"],
            }
            print(
                f"quotas       {vendor:<5} 2 worker processes x 16 threads, {CALLS} calls, bucket "
                f"{HELD[0]}/s + {HELD[1]} {'in Redis' if shared else 'PER PROCESS (no Redis)'}"
                f": busiest second {held['peak']} calls (limit {limit}, ratio "
                f"{held['peak'] / limit:.2f}), mean {held['mean']:.1f}/s, "
                f"{held['refused']} refused by the emulator's {QUOTA}/s quota"
            )
            print(
                f"quotas       {vendor:<5} bucket {OVER[0]}/s over the emulator's {QUOTA}/s: "
                f"{over['refused']} answered 429 and absorbed (Retry-After, shared pause), "
                f"busiest second {over['peak']} served, {over['failed']} activity attempts "
                f"failed, {over['seconds']:.1f} s for {CALLS} calls"
            )
        day = await _daily(env.client, http, address, redis_url)
    budget = int(DAY_QUOTA * (1 - DAY_RESERVE))
    report["ebay_daily"] = day
    figures |= {
        "quota_ebay_day_served_over_budget": day["served"] / budget,
        "quota_ebay_day_refused_by_emulator": day["refused"],
    }
    print(
        f"quotas       ebay  daily: emulator allows {DAY_QUOTA} sell.inventory calls today, our "
        f"budget {budget} ({DAY_QUOTA} less {DAY_RESERVE:.0%}) "
        f"{'in Redis' if shared else 'PER PROCESS (no Redis)'}; 2 workers asked {DAY_CALLS}: "
        f"{day['served']} served (ratio to budget {day['served'] / budget:.2f}), "
        f"{day['refused']} refused by the emulator, {day['ended'].get('DailyQuotaSpent', 0)} "
        f"stopped by our budget (retryable DailyQuotaSpent), activities {day['ended']}"
    )
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "quota.json").write_text(json.dumps({**figures, **report}, indent=2))
    return figures


def shared_redis() -> str:
    """REDIS_URL, else the local Redis if it answers, else "" (each process on its own)."""
    from bench.api_bench import DEFAULT_REDIS, Skip, check_redis

    if url := os.environ.get("REDIS_URL", ""):
        return url
    try:
        check_redis(DEFAULT_REDIS)
    except Skip:
        return ""
    return DEFAULT_REDIS


async def _phase(
    client: Any,
    http: httpx.AsyncClient,
    address: str,
    service: str,
    activity: str,
    args: list[str],
    env: dict[str, str],
) -> dict[str, Any]:
    queue = f"quota-{uuid.uuid4().hex[:6]}"
    workers = [spawn(queue, address, **env) for _ in range(2)]
    try:
        before = await _meter(http, service)
        started = asyncio.get_running_loop().time()
        handle = await client.start_workflow(
            "QuotaLoadWorkflow", args=[activity, args], id=queue, task_queue=f"{queue}-quota"
        )
        await handle.result()
        seconds = asyncio.get_running_loop().time() - started
        after = await _meter(http, service)
    finally:
        for process in workers:
            stop(process)
    per_second = {
        t: (served - before.get(t, (0, 0))[0], refused - before.get(t, (0, 0))[1])
        for t, (served, refused) in after.items()
    }
    busy = [served for served, _ in per_second.values() if served]
    failed = sum(
        1
        for e in (await handle.fetch_history()).events
        if e.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_FAILED
    )
    return {
        "peak": max(busy),
        "mean": sum(busy) / seconds,
        "refused": sum(refused for _, refused in per_second.values()),
        "failed": failed,
        "seconds": seconds,
        "per_second": sorted(per_second.items()),
    }


async def _daily(
    client: Any, http: httpx.AsyncClient, address: str, redis_url: str
) -> dict[str, Any]:
    """eBay's daily limit across two workers: a fresh budget (its own Redis namespace), the
    emulator's day quota DAY_QUOTA calls above what this run already made today."""
    family = "sell.inventory"
    done = await _today(http, family)
    (
        await http.post("/_sandbox/daily_quotas", json={"ebay": {family: done[0] + DAY_QUOTA}})
    ).raise_for_status()
    queue = f"quota-day-{uuid.uuid4().hex[:6]}"
    env = {
        "EBAY_DAILY_CALLS": json.dumps({family: DAY_QUOTA}),
        "EBAY_DAILY_RESERVE": str(DAY_RESERVE),
        "STORE_NAMESPACE": f"bench-{queue}",
        **({"REDIS_URL": redis_url} if redis_url else {}),
    }
    workers = [spawn(queue, address, **env) for _ in range(2)]
    try:
        ended = await client.execute_workflow(
            "QuotaLoadWorkflow",
            args=["bench.ebay_location", ["-"] * DAY_CALLS, 1],
            id=queue,
            task_queue=f"{queue}-quota",
        )
    finally:
        for process in workers:
            stop(process)
        (await http.post("/_sandbox/daily_quotas", json={"ebay": {}})).raise_for_status()
    after = await _today(http, family)
    return {"served": after[0] - done[0], "refused": after[1] - done[1], "ended": ended}


async def _today(http: httpx.AsyncClient, family: str) -> tuple[int, int]:
    """(served, refused) calls to the eBay API `family` on the emulator's current day."""
    from sandbox.core import pacific_day

    today, _ = pacific_day(time.time())
    days = (await http.get("/_sandbox/meter", params={"service": "ebay"})).json()["days"]
    return next(((s, r) for f, d, s, r in days if (f, d) == (family, today)), (0, 0))


async def _meter(http: httpx.AsyncClient, service: str) -> dict[int, tuple[int, int]]:
    answer = (await http.get("/_sandbox/meter", params={"service": service})).json()
    return {t: (served, refused) for t, served, refused in answer["seconds"]}


def _request() -> Any:
    from adapters.carriers import Address, Commodity, Customs, Parcel, ShipmentRequest

    return ShipmentRequest(
        reference=f"label:{uuid.uuid4()}",
        shipper=Address(
            name="The World Door",
            phone="0312345678",
            line1="1-1 Chiyoda",
            city="Chiyoda-ku",
            postal_code="1000001",
            country_code="JP",
        ),
        recipient=Address(
            name="Jane Buyer",
            phone="4155550100",
            line1="1 Market St",
            city="San Francisco",
            state="CA",
            postal_code="94105",
            country_code="US",
        ),
        parcel=Parcel(weight_g=800, length_cm=20, width_cm=15, height_cm=10),
        customs=Customs(
            commodities=[Commodity(description="Lens", quantity=1, unit_value="90", weight_g=800)]
        ),
    )


async def _alone() -> dict[str, float]:
    """This section of `make bench` by itself: the same sandbox, dev server and settings."""
    from datetime import timedelta

    from temporalio.testing import WorkflowEnvironment

    from config import Settings
    from models.migrate import upgrade
    from observability import configure_logging
    from sandbox.server import start_sandbox_in_thread
    from temporal_client import data_converter, search_attribute_flags, temporal_binary

    settings = Settings()
    configure_logging(settings, "bench")
    upgrade(settings)
    sandbox = start_sandbox_in_thread(settings)
    env = await WorkflowEnvironment.start_local(
        dev_server_existing_path=temporal_binary(),
        dev_server_startup_timeout=timedelta(seconds=60),
        data_converter=data_converter(settings),
        dev_server_extra_args=search_attribute_flags(),
    )
    try:
        return await run(env, sandbox, settings)
    finally:
        await env.shutdown()
        sandbox.stop()


if __name__ == "__main__":  # python -m bench.quota_bench (REDIS_URL=... for the shared limits)
    import tempfile

    from bench.__main__ import _environment

    with tempfile.TemporaryDirectory(prefix="worlddoor-bench-") as var_dir:
        _environment(var_dir)
        print(asyncio.run(_alone()))

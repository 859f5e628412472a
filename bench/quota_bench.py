"""Vendor quotas held across workers: two worker processes hammer FedEx's Track endpoint through
the real adapter while the emulator counts requests per second.

1. held: our bucket (FEDEX_CALLS_PER_SECOND) is under the emulator's quota: the busiest second
   stays at the bucket's limit (rate + burst), the emulator refuses nothing;
2. absorbed: our bucket above the quota: the emulator answers 429 with Retry-After, the adapters
   pause the shared bucket and try again, and no activity fails.
Needs REDIS_URL: without it each process has its own bucket and the first phase shows the limit
doubled, which is what the bench then prints.
"""

from __future__ import annotations

import asyncio
import json
import os
import uuid
from pathlib import Path
from typing import Any

import httpx
from temporalio.api.enums.v1 import EventType

from bench.worker_process import spawn, stop

CALLS = 240
QUOTA = 20  # the emulator's FedEx quota, requests per second (429 above)
HELD = (15, 3)  # our bucket under it: 15 a second, 3 at once (18 in any second < 20)
OVER = (40, 5)  # our bucket above it: the emulator refuses, we absorb
RESULTS = Path(__file__).parent / "results"


async def run(env: Any, sandbox: Any, settings: Any) -> dict[str, float]:
    from adapters.carriers.fedex import FedexCarrier

    number = (
        FedexCarrier(settings.model_copy(update={"fedex_calls_per_second": 0}))
        .ship(_request())
        .tracking_number
    )
    address = env.client.service_client.config.target_host
    shared = bool(os.environ.get("REDIS_URL"))
    async with httpx.AsyncClient(base_url=sandbox.base_url, timeout=30) as http:
        (await http.post("/_sandbox/quotas", json={"fedex": QUOTA})).raise_for_status()
        held = await _phase(env.client, http, address, number, HELD)
        over = await _phase(env.client, http, address, number, OVER)
        (await http.post("/_sandbox/quotas", json={"fedex": 10_000})).raise_for_status()
    limit = HELD[0] + HELD[1]
    figures = {
        "quota_peak_over_limit": held["peak"] / limit,
        "quota_refused_when_held": held["refused"],
        "quota_429_absorbed": over["refused"],
        "quota_failed_activities": held["failed"] + over["failed"],
    }
    print(
        f"quotas       2 worker processes x 16 threads, {CALLS} FedEx track calls, bucket "
        f"{HELD[0]}/s + {HELD[1]} {'in Redis' if shared else 'PER PROCESS (no REDIS_URL)'}: "
        f"busiest second {held['peak']} calls (limit {limit}, ratio "
        f"{figures['quota_peak_over_limit']:.2f}), mean {held['mean']:.1f}/s, "
        f"{held['refused']} refused by the emulator's {QUOTA}/s quota"
    )
    print(
        f"quotas       bucket {OVER[0]}/s over the emulator's {QUOTA}/s: {over['refused']} "
        f"answered 429 and absorbed (Retry-After, shared pause), busiest second "
        f"{over['peak']} served, {over['failed']} activity attempts failed, "
        f"{over['seconds']:.1f} s for {CALLS} calls"
    )
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "quota.json").write_text(
        json.dumps({**figures, "held": held, "over": over, "shared": shared}, indent=2)
    )
    return figures


async def _phase(
    client: Any, http: httpx.AsyncClient, address: str, number: str, bucket: tuple[int, int]
) -> dict[str, Any]:
    queue = f"quota-{uuid.uuid4().hex[:6]}"
    env = {"FEDEX_CALLS_PER_SECOND": str(bucket[0]), "FEDEX_CALL_BURST": str(bucket[1])}
    workers = [spawn(queue, address, **env) for _ in range(2)]
    try:
        before = await _meter(http)
        started = asyncio.get_running_loop().time()
        handle = await client.start_workflow(
            "QuotaLoadWorkflow", [number] * CALLS, id=queue, task_queue=f"{queue}-quota"
        )
        await handle.result()
        seconds = asyncio.get_running_loop().time() - started
        after = await _meter(http)
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


async def _meter(http: httpx.AsyncClient) -> dict[int, tuple[int, int]]:
    answer = (await http.get("/_sandbox/meter", params={"service": "fedex"})).json()
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

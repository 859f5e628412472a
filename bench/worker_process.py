"""A worker in its own process, for the benchmarks that measure one (its peak memory) or need
several (the vendor quota held across workers): `python -m bench.worker_process TASK_QUEUE`,
with the bench's environment (TEMPORAL_ADDRESS, the sandbox ports, DATABASE_URL, REDIS_URL,
FEDEX_CALLS_PER_SECOND...). It runs the real worker (`worker.build_worker`) on TASK_QUEUE and
the quota load (FedEx track calls or eBay inventory-location reads through the real adapters,
many threads at once) on TASK_QUEUE-quota; `spawn()` starts one and `peak_rss_mib()` reads its
peak memory."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from pathlib import Path

from temporalio import activity, workflow
from temporalio.common import RetryPolicy
from temporalio.worker import Worker

with workflow.unsafe.imports_passed_through():  # the sandbox re-imports this module
    from bench.util import stop_process  # httpx, which the sandbox refuses to import afresh

THREADS = 16


@workflow.defn(name="QuotaLoadWorkflow")
class QuotaLoadWorkflow:
    """One vendor call per argument, all at once: the workers' threads are the limit. Answers
    how the activities ended: {"ok": n, <error type>: n} (with `attempts` 1, a retryable
    failure ends the activity instead of waiting out its Retry-After)."""

    @workflow.run
    async def run(self, name: str, args: list[str], attempts: int = 10) -> dict[str, int]:
        ended = await asyncio.gather(
            *(
                workflow.execute_activity(
                    name,
                    arg,
                    start_to_close_timeout=timedelta(seconds=60),
                    retry_policy=RetryPolicy(maximum_attempts=attempts),
                )
                for arg in args
            ),
            return_exceptions=True,
        )
        counts: dict[str, int] = {}
        for end in ended:
            cause = getattr(end, "cause", None)
            kind = "ok" if not isinstance(end, BaseException) else getattr(cause, "type", "")
            counts[kind or type(end).__name__] = counts.get(kind or type(end).__name__, 0) + 1
        return counts


def vendor_calls() -> list[Callable[[str], None]]:
    from activities.base import external_call
    from adapters.carriers.fedex import FedexCarrier
    from adapters.ebay import EbayClient
    from config import Settings

    fedex, ebay = FedexCarrier(Settings()), EbayClient(Settings())
    ebay.check_credentials()  # the token now, not in the bench's first second

    @activity.defn(name="bench.fedex_track")
    @external_call
    def track(number: str) -> None:
        fedex.track(number)

    @activity.defn(name="bench.ebay_location")
    @external_call
    def location(_: str) -> None:
        ebay.ensure_inventory_location()  # one GET: the bench created the location

    return [track, location]


async def main(task_queue: str) -> None:
    from config import Settings
    from temporal_client import connect
    from worker import build_worker

    settings = Settings()
    client = await connect(settings)
    async with (
        build_worker(client, settings, task_queue=task_queue),
        Worker(
            client,
            task_queue=f"{task_queue}-quota",
            workflows=[QuotaLoadWorkflow],
            activities=vendor_calls(),
            activity_executor=ThreadPoolExecutor(THREADS),
            max_concurrent_activities=THREADS,
        ),
    ):
        print("ready", flush=True)
        await asyncio.Event().wait()  # until the bench terminates the process


def spawn(task_queue: str, address: str, **env: str) -> subprocess.Popen[str]:
    """A worker process on `task_queue` against the Temporal server at `address`; returns once
    it polls."""
    process = subprocess.Popen(
        [sys.executable, "-m", "bench.worker_process", task_queue],
        env={**os.environ, "TEMPORAL_ADDRESS": address, "LOG_LEVEL": "WARNING", **env},
        stdout=subprocess.PIPE,
        text=True,
        cwd=Path(__file__).parent.parent,
    )
    assert process.stdout is not None
    if process.stdout.readline().strip() != "ready":
        process.kill()
        raise RuntimeError(f"worker process for {task_queue} did not start")
    return process


def peak_rss_mib(process: subprocess.Popen[str]) -> float:
    """The process's peak resident memory so far (VmHWM), in MiB."""
    status = Path(f"/proc/{process.pid}/status").read_text()
    line = next(x for x in status.splitlines() if x.startswith("VmHWM:"))
    return int(line.split()[1]) / 1024


def stop(process: subprocess.Popen[str]) -> None:
    stop_process(process, timeout=30)


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1]))

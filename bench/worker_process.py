"""A worker in its own process, for the benchmarks that measure one (its peak memory) or need
several (the vendor quota held across workers): `python -m bench.worker_process TASK_QUEUE`,
with the bench's environment (TEMPORAL_ADDRESS, the sandbox ports, DATABASE_URL, REDIS_URL,
FEDEX_CALLS_PER_SECOND...). It runs the real worker (`worker.build_worker`) on TASK_QUEUE and
the quota load (FedEx track calls through the real adapter, many threads at once) on
TASK_QUEUE-quota; `spawn()` starts one and `peak_rss_mib()` reads its peak memory."""

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

THREADS = 16


@workflow.defn(name="QuotaLoadWorkflow")
class QuotaLoadWorkflow:
    """One FedEx track call per number, all at once: the workers' threads are the limit."""

    @workflow.run
    async def run(self, numbers: list[str]) -> int:
        await asyncio.gather(
            *(
                workflow.execute_activity(
                    "bench.fedex_track",
                    number,
                    start_to_close_timeout=timedelta(seconds=60),
                    retry_policy=RetryPolicy(maximum_attempts=10),
                )
                for number in numbers
            )
        )
        return len(numbers)


def tracker() -> Callable[[str], None]:
    from adapters.carriers.fedex import FedexCarrier
    from config import Settings

    fedex = FedexCarrier(Settings())

    @activity.defn(name="bench.fedex_track")
    def track(number: str) -> None:
        fedex.track(number)

    return track


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
            activities=[tracker()],
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
    process.terminate()
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1]))

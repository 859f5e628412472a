"""`make bench`: every benchmark prints its figure and the ceiling measured in the same run."""

from __future__ import annotations

import argparse
import asyncio
import os
import tempfile
import time
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from bench.util import free_port, free_port_block


@dataclass
class RunningWorker:
    client: Any
    task_queue: str
    deps: Any


def _environment(var_dir: str) -> None:
    os.environ.update(
        {
            "APP_ENV": "development",
            "WORLDDOOR_VAR_DIR": var_dir,
            "SANDBOX_PORT": str(free_port()),
            "SANDBOX_S3_PORT": str(free_port()),
            "SANDBOX_S3_INTERNAL_PORT": str(free_port_block()),
            "LOG_LEVEL": "WARNING",
            "AWS_S3_BUCKET": "worlddoor-bench",
        }
    )
    os.environ.setdefault("DATABASE_URL", f"sqlite:///{var_dir}/bench.db")


PARTS = ("api", "startup", "fulfillment", "bulk", "quota")


async def workflow_benchmarks(orders: int, bulk_items: int, parts: set[str]) -> dict[str, float]:
    from temporalio.testing import WorkflowEnvironment

    from adapters.s3 import Storage
    from bench import bulk_bench, fulfillment_bench, quota_bench
    from config import Settings
    from models.migrate import upgrade
    from observability import configure_logging
    from sandbox.server import start_sandbox_in_thread
    from temporal_client import data_converter, search_attribute_flags, temporal_binary
    from worker import build_worker

    settings = Settings()
    configure_logging(settings, "bench")
    upgrade(settings)
    sandbox = start_sandbox_in_thread(settings)
    Storage(settings).ensure_bucket()
    metrics_port = free_port()
    env = await WorkflowEnvironment.start_local(
        dev_server_existing_path=temporal_binary(),
        dev_server_startup_timeout=timedelta(seconds=60),
        data_converter=data_converter(settings),
        dev_server_extra_args=[*search_attribute_flags(), "--metrics-port", str(metrics_port)],
    )
    results: dict[str, float] = {}
    try:
        from activities.deps import Dependencies

        queue, deps = "bench", Dependencies(settings)
        async with build_worker(env.client, settings, deps=deps, task_queue=queue):
            worker = RunningWorker(env.client, queue, deps)
            if "fulfillment" in parts:
                results |= await fulfillment_bench.run(
                    env,
                    worker,
                    sandbox.base_url,
                    settings,
                    orders,
                    metrics_url=f"http://127.0.0.1:{metrics_port}/metrics",
                )
            if "bulk" in parts:
                results |= await bulk_bench.run(env, worker, sandbox, settings, bulk_items)
            if "quota" in parts:
                results |= await quota_bench.run(env, sandbox, settings)
    finally:
        await env.shutdown()
        sandbox.stop()
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--orders", type=int, default=20)
    parser.add_argument("--bulk-items", type=int, default=1000)
    parser.add_argument("--api-rounds", type=int, default=3, help="interleaved wrk rounds")
    parser.add_argument("--api-seconds", type=float, default=5, help="each wrk run")
    parser.add_argument("--install", action="store_true", help="also time a new .venv install")
    parser.add_argument(
        "--only",
        default=",".join(PARTS),
        help=f"comma-separated parts to run (default all: {','.join(PARTS)})",
    )
    args = parser.parse_args()
    parts = set(args.only.split(","))
    if unknown := parts - set(PARTS):
        parser.error(f"unknown parts: {', '.join(sorted(unknown))}")
    started = time.perf_counter()
    from bench import api_bench, startup_bench

    results: dict[str, float] = {}
    if "api" in parts:
        results |= api_bench.run(args.api_rounds, args.api_seconds)
    if "startup" in parts:
        results |= startup_bench.run(install=args.install)
    if parts & {"fulfillment", "bulk", "quota"}:
        with tempfile.TemporaryDirectory(prefix="worlddoor-bench-") as var_dir:
            _environment(var_dir)
            results |= asyncio.run(workflow_benchmarks(args.orders, args.bulk_items, parts))
    print(
        f"bench done in {time.perf_counter() - started:.0f} s: "
        + ", ".join(f"{k}={v:.2f}" for k, v in results.items())
    )


if __name__ == "__main__":
    main()

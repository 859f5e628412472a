"""Temporal worker entry point: registers workflows and activities, ensures schedules, exports
the SDK's metrics for Prometheus (WORKER_METRICS_PORT), reports failures to Sentry, and shuts
down gracefully (running activities get time to finish) on SIGINT/SIGTERM."""

from __future__ import annotations

import asyncio
import compileall
import signal
import sys
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

from temporalio.client import Client
from temporalio.worker import Worker

from activities import build_activities
from activities.deps import Dependencies
from config import Settings, get_settings
from observability import configure_logging, configure_sentry, get_logger
from ops.heap import freeze_startup_heap
from telemetry import TelemetryInterceptor, metrics_runtime
from temporal_client import connect, ensure_namespace_retention, ensure_search_attributes
from workflows import all_workflows
from workflows.interceptors import WORKER_INTERCEPTORS

log = get_logger(__name__)

ACTIVITY_THREADS = 32


def write_workflow_bytecode(workflows: list[type]) -> None:
    """Writes the bytecode of the workflows' modules (and their packages) if it is missing or
    stale. The sandbox imports a workflow's module afresh for every new run; without a .pyc
    (an editable checkout run with PYTHONDONTWRITEBYTECODE, as in development, tests and the
    benchmarks) each run compiles the module's source again: 3 ms for workflows/fulfillment.py,
    several times per order. An installed image has its .pyc already; this is then a stat.
    Unwritable directories are skipped: the run still works, compiling as before."""
    files: set[str] = set()
    for cls in workflows:
        name = cls.__module__
        while name:
            module = sys.modules.get(name)
            if module is not None and getattr(module, "__file__", None):
                files.add(module.__file__)  # type: ignore[arg-type]
            name = name.rpartition(".")[0]
    for path in sorted(files):
        compileall.compile_file(path, quiet=2)


def build_worker(
    client: Client,
    settings: Settings,
    deps: Dependencies | None = None,
    task_queue: str | None = None,
) -> Worker:
    executor = ThreadPoolExecutor(max_workers=ACTIVITY_THREADS, thread_name_prefix="activity")
    workflows = all_workflows()
    write_workflow_bytecode(workflows)
    return Worker(
        client,
        task_queue=task_queue or settings.temporal_task_queue,
        workflows=workflows,
        activities=build_activities(settings, deps, client),
        activity_executor=executor,
        max_concurrent_activities=ACTIVITY_THREADS,
        max_concurrent_workflow_tasks=settings.worker_max_workflow_tasks,
        graceful_shutdown_timeout=timedelta(seconds=30),
        interceptors=[
            *WORKER_INTERCEPTORS,
            TelemetryInterceptor(settings.activity_retry_alert_attempts),
        ],
    )


async def run_worker(settings: Settings) -> None:
    from schedules import ensure_schedules

    # The SDK's metrics (polls, task latencies, activity failures...) for Prometheus.
    client = await connect(settings, runtime=metrics_runtime(settings))
    if settings.worker_metrics_port:
        log.info(
            "worker metrics",
            url=f"http://{settings.worker_metrics_host}:{settings.worker_metrics_port}/metrics",
        )
    await ensure_search_attributes(client, settings.temporal_namespace)
    if not await ensure_namespace_retention(
        client, settings.temporal_namespace, settings.temporal_retention_days
    ):
        log.warning("namespace retention not settable by this client; set it on the server")
    await ensure_schedules(client, settings)
    worker = build_worker(client, settings)
    freeze_startup_heap()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    log.info("worker started", task_queue=settings.temporal_task_queue)
    async with worker:
        await stop.wait()
        log.info("worker stopping: waiting for running activities")
    log.info("worker stopped")


def main() -> None:
    settings = get_settings()
    configure_logging(settings, "worker")
    configure_sentry(settings, "worker")
    asyncio.run(run_worker(settings))


if __name__ == "__main__":
    main()

"""`make chaos`: orders flow while the worker is killed (SIGKILL) at random moments, the Temporal
server is killed and restarted on its database file, and every provider misbehaves (5xx, 429,
lost responses). Then the emulators' ledger is read: every order must complete, with no
duplicate label, fulfillment, refund or email.

With `CHAOS_RESTART_DB=1` and a PostgreSQL `DATABASE_URL`, the database server is restarted too.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

from bench.driver import fulfil, import_orders, make_product, start_order
from bench.util import free_port, free_port_block, wait_http

ROOT = Path(__file__).parent.parent
MAX_WORKER_KILLS = 8
FAULTS = {
    "error_rate": 0.08,
    "error_status": 503,
    "rate_limit_rate": 0.05,
    "retry_after": 1,
    "lost_response_rate": 0.08,
}


class Stack:
    """The Temporal dev server, the sandbox and a worker, each its own process."""

    def __init__(self, var_dir: str) -> None:
        self.var_dir = var_dir
        self.temporal_port = free_port()
        self.env = {
            **os.environ,
            "APP_ENV": "development",
            "WORLDDOOR_VAR_DIR": var_dir,
            "SANDBOX_PORT": str(free_port()),
            "SANDBOX_S3_PORT": str(free_port()),
            "SANDBOX_S3_INTERNAL_PORT": str(free_port_block()),
            "TEMPORAL_ADDRESS": f"127.0.0.1:{self.temporal_port}",
            "TEMPORAL_TASK_QUEUE": "chaos",
            "LOG_LEVEL": "WARNING",
            "AWS_S3_BUCKET": "worlddoor-chaos",
        }
        self.env.setdefault("DATABASE_URL", f"sqlite:///{var_dir}/chaos.db")
        self.processes: dict[str, subprocess.Popen[bytes]] = {}
        self.log = open(Path(var_dir) / "chaos.log", "ab")  # noqa: SIM115

    @property
    def sandbox_url(self) -> str:
        return f"http://127.0.0.1:{self.env['SANDBOX_PORT']}"

    def start(self, name: str) -> None:
        from temporal_client import search_attribute_flags, temporal_binary

        argv = {
            "temporal": [
                temporal_binary(),
                "server",
                "start-dev",
                "--headless",
                "--db-filename",
                f"{self.var_dir}/temporal.db",
                "--port",
                str(self.temporal_port),
                "--log-level",
                "error",
                *search_attribute_flags(),
            ],
            "sandbox": [sys.executable, "-m", "cli", "sandbox"],
            "s3": [sys.executable, "-m", "cli", "local-s3"],
            "worker": [sys.executable, "-m", "cli", "worker"],
        }[name]
        self.processes[name] = subprocess.Popen(  # noqa: S603
            argv, cwd=ROOT, env=self.env, stdout=self.log, stderr=self.log
        )

    def kill(self, name: str) -> None:
        process = self.processes[name]
        process.send_signal(signal.SIGKILL)
        process.wait()

    def stop_all(self) -> None:
        for process in self.processes.values():
            if process.poll() is None:
                process.terminate()
        for process in self.processes.values():
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
        self.log.close()


def wait_port(port: int, timeout: float = 60) -> None:
    import socket

    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"port {port} did not open")


async def chaos_monkey(stack: Stack, stop: asyncio.Event, counts: dict[str, int]) -> None:
    rng = random.Random(os.environ.get("CHAOS_RANDOM_SEED", "worlddoor"))  # noqa: S311
    restarted_server = False
    restart_db = os.environ.get("CHAOS_RESTART_DB") == "1" and stack.env["DATABASE_URL"].startswith(
        "postgres"
    )
    while not stop.is_set() and counts["worker_kills"] < MAX_WORKER_KILLS:
        await asyncio.sleep(rng.uniform(4, 10))
        if stop.is_set():
            break
        stack.kill("worker")
        counts["worker_kills"] += 1
        if not restarted_server and counts["worker_kills"] == 3:
            stack.kill("temporal")
            counts["server_restarts"] += 1
            await asyncio.sleep(1)
            stack.start("temporal")
            await asyncio.to_thread(wait_port, stack.temporal_port)
            restarted_server = True
        if restart_db and counts["worker_kills"] == 5:
            version = sorted(os.listdir("/etc/postgresql"))[-1]
            subprocess.run(["pg_ctlcluster", version, "main", "restart"], check=True)  # noqa: S603,S607
            counts["database_restarts"] += 1
        await asyncio.sleep(rng.uniform(0.2, 2))
        stack.start("worker")


async def drive(stack: Stack, orders: int, timeout: float) -> dict[str, Any]:
    from config import Settings
    from temporal_client import connect

    settings = Settings()  # reads the environment set for the stack
    client = await connect(settings)
    skus = [make_product(settings) for _ in range(orders)]
    ids = await import_orders(stack.sandbox_url, skus)
    async with httpx.AsyncClient() as http:
        (
            await http.post(
                f"{stack.sandbox_url}/_sandbox/faults",
                json={s: FAULTS for s in ("ebay", "fedex", "sendgrid")},
            )
        ).raise_for_status()
    for ebay_order_id in ids:
        await start_order(client, settings.temporal_task_queue, ebay_order_id)
    # The scheduled order sync finds the same orders: it must start nothing twice.
    from schedules import ensure_schedules, trigger_schedule

    await ensure_schedules(client, settings)
    await trigger_schedule(client, "order-sync")

    stop = asyncio.Event()
    counts = {"worker_kills": 0, "server_restarts": 0, "database_restarts": 0}
    monkey = asyncio.create_task(chaos_monkey(stack, stop, counts))

    async def one(ebay_order_id: str) -> Any:
        deadline = time.time() + timeout
        while True:
            try:
                return await fulfil(client, stack.sandbox_url, ebay_order_id, timeout=60)
            except Exception:  # noqa: BLE001 - the worker or server was down: drive again
                if time.time() > deadline:
                    raise
                await asyncio.sleep(1)

    started = time.time()
    try:
        results = await asyncio.gather(*(one(i) for i in ids), return_exceptions=True)
    finally:
        stop.set()
        await monkey
    async with httpx.AsyncClient() as http:
        await http.delete(f"{stack.sandbox_url}/_sandbox/faults")
        ledger = (await http.get(f"{stack.sandbox_url}/_sandbox/ledger")).json()
    return {
        "ids": ids,
        "results": results,
        "ledger": ledger,
        "counts": counts,
        "seconds": time.time() - started,
    }


def report(outcome: dict[str, Any]) -> bool:
    ids, results, ledger = outcome["ids"], outcome["results"], outcome["ledger"]
    completed = [r for r in results if getattr(r, "outcome", None) == "completed"]
    counts = ledger["ledger"]

    def total(service: str, kind: str) -> int:
        return counts.get(service, {}).get(kind, {}).get("total", 0)

    watched = {
        "fedex": {"label_bought"},
        "sendgrid": {"email_accepted"},
        "ebay": {"fulfillment", "refund", "offer_created"},
    }
    duplicates = {
        f"{service}.{kind}": keys
        for service, kinds in ledger["duplicates"].items()
        for kind, keys in kinds.items()
        if kind in watched.get(service, set()) and keys
    }
    print(
        f"chaos: {len(ids)} orders, {outcome['counts']['worker_kills']} worker kills, "
        f"{outcome['counts']['server_restarts']} Temporal server restarts, "
        f"{outcome['counts']['database_restarts']} database restarts, provider faults "
        f"{FAULTS}, {outcome['seconds']:.0f} s"
    )
    print(
        f"chaos: completed {len(completed)}/{len(ids)}; labels bought "
        f"{total('fedex', 'label_bought')}, cancelled {total('fedex', 'label_cancelled')}; "
        f"eBay fulfillments {total('ebay', 'fulfillment')}; emails accepted "
        f"{total('sendgrid', 'email_accepted')}"
    )
    print(f"chaos: duplicates on the ledger: {duplicates or 'none'}")
    failures = [r for r in results if isinstance(r, BaseException)]
    for failure in failures[:5]:
        print(f"chaos: order failed: {type(failure).__name__}: {failure}")
    return (
        len(completed) == len(ids)
        and not duplicates
        and total("fedex", "label_bought") - total("fedex", "label_cancelled") == len(ids)
        and total("ebay", "fulfillment") == len(ids)
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--orders", type=int, default=10)
    parser.add_argument("--timeout", type=float, default=300)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="worlddoor-chaos-") as var_dir:
        stack = Stack(var_dir)
        os.environ.update(
            {
                k: v
                for k, v in stack.env.items()
                if k not in os.environ
                or k
                in (
                    "APP_ENV",
                    "WORLDDOOR_VAR_DIR",
                    "SANDBOX_PORT",
                    "SANDBOX_S3_PORT",
                    "SANDBOX_S3_INTERNAL_PORT",
                    "TEMPORAL_ADDRESS",
                    "TEMPORAL_TASK_QUEUE",
                    "DATABASE_URL",
                    "AWS_S3_BUCKET",
                )
            }
        )
        try:
            subprocess.run(
                [sys.executable, "-m", "cli", "migrate"],
                cwd=ROOT,
                env=stack.env,
                check=True,
                capture_output=True,
            )
            stack.start("s3")
            stack.start("temporal")
            stack.start("sandbox")
            wait_port(stack.temporal_port)
            wait_http(f"{stack.sandbox_url}/_sandbox/health")
            from adapters.s3 import Storage
            from config import Settings
            from sandbox.local_s3 import LocalS3

            LocalS3(Settings()).wait_ready()
            Storage(Settings()).ensure_bucket()
            stack.start("worker")
            ok = report(asyncio.run(drive(stack, args.orders, args.timeout)))
        finally:
            stack.stop_all()
        if not ok:
            print(f"chaos: FAILED (logs were in {var_dir}/chaos.log)")
            sys.exit(1)
        print("chaos: PASSED")


if __name__ == "__main__":
    main()

"""API latency and throughput as a ratio of a bare Litestar route, both served by uvicorn in
their own process and loaded the same way from this one."""

from __future__ import annotations

import asyncio
import os
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import httpx

from bench.util import free_port, wait_http

ROOT = Path(__file__).parent.parent


@dataclass
class LoadResult:
    requests: int
    seconds: float
    p50_ms: float
    p95_ms: float

    @property
    def per_second(self) -> float:
        return self.requests / self.seconds


async def load(url: str, headers: dict[str, str], requests: int, concurrency: int) -> LoadResult:
    latencies: list[float] = []
    queue: asyncio.Queue[int] = asyncio.Queue()
    for i in range(requests):
        queue.put_nowait(i)

    async def worker(client: httpx.AsyncClient) -> None:
        while not queue.empty():
            queue.get_nowait()
            start = time.perf_counter()
            response = await client.get(url, headers=headers)
            latencies.append((time.perf_counter() - start) * 1000)
            if response.status_code != 200:
                raise RuntimeError(f"{url} answered {response.status_code}: {response.text[:200]}")

    limits = httpx.Limits(max_connections=concurrency)
    async with httpx.AsyncClient(limits=limits, timeout=30) as client:
        await client.get(url, headers=headers)  # warm-up
        started = time.perf_counter()
        await asyncio.gather(*(worker(client) for _ in range(concurrency)))
        elapsed = time.perf_counter() - started
    latencies.sort()
    return LoadResult(
        requests=requests,
        seconds=elapsed,
        p50_ms=statistics.median(latencies),
        p95_ms=latencies[int(len(latencies) * 0.95) - 1],
    )


def _env(var_dir: str, port: int) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DATABASE_URL", "APP_ENV"))}
    env.update(
        {
            "APP_ENV": "development",
            "WORLDDOOR_VAR_DIR": var_dir,
            "API_PORT": str(port),
            "LOG_LEVEL": "WARNING",
            "RATE_LIMIT_API": "100000000",
            "RATE_LIMIT_PUBLIC": "100000000",
            "RATE_LIMIT_LOGIN": "100000000",
        }
    )
    return env


def _insert_orders(env: dict[str, str], count: int) -> None:
    code = (
        "from models.db import session_scope\n"
        "from models import Order\n"
        "with session_scope() as s:\n"
        f"    for i in range({count}):\n"
        "        s.add(Order(ebay_order_id=f'BENCH-{i:05d}', buyer_username='bench',"
        " ship_to={'city': 'Berlin'}, line_items=[{'sku': 'SKU-1', 'quantity': 1}]))\n"
    )
    subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, check=True)


def run(requests: int = 2000, concurrency: int = 16) -> dict[str, float]:
    with tempfile.TemporaryDirectory(prefix="worlddoor-bench-") as var_dir:
        api_port, bare_port = free_port(), free_port()
        env = _env(var_dir, api_port)
        subprocess.run(
            [sys.executable, "-m", "cli", "migrate"],
            cwd=ROOT,
            env=env,
            check=True,
            capture_output=True,
        )
        created = subprocess.run(
            [sys.executable, "-m", "cli", "create-admin", "--email", "bench@theworlddoor.example"],
            cwd=ROOT,
            env=env,
            check=True,
            capture_output=True,
            text=True,
        )
        password = created.stdout.strip().splitlines()[-1].split(": ", 1)[1]
        _insert_orders(env, 20)
        api = subprocess.Popen([sys.executable, "-m", "cli", "api"], cwd=ROOT, env=env)  # noqa: S603
        bare = subprocess.Popen(  # noqa: S603
            [
                sys.executable,
                "-m",
                "uvicorn",
                "bench.bare:bare_litestar_app",
                "--factory",
                "--port",
                str(bare_port),
                "--log-level",
                "warning",
                "--no-access-log",
            ],
            cwd=ROOT,
            env=env,
        )
        try:
            wait_http(f"http://127.0.0.1:{api_port}/api/health")
            wait_http(f"http://127.0.0.1:{bare_port}/api/orders")
            token = httpx.post(
                f"http://127.0.0.1:{api_port}/api/auth/login",
                json={"email": "bench@theworlddoor.example", "password": password},
            ).json()["access_token"]
            ours = asyncio.run(
                load(
                    f"http://127.0.0.1:{api_port}/api/orders?limit=20",
                    {"Authorization": f"Bearer {token}"},
                    requests,
                    concurrency,
                )
            )
            ceiling = asyncio.run(
                load(f"http://127.0.0.1:{bare_port}/api/orders", {}, requests, concurrency)
            )
        finally:
            for process in (api, bare):
                process.terminate()
                process.wait(timeout=15)
    print(
        f"api  GET /api/orders (JWT, guards, rate limit, DB page of 20): "
        f"{ours.per_second:7.0f} req/s  p50 {ours.p50_ms:6.1f} ms  p95 {ours.p95_ms:6.1f} ms"
    )
    print(
        f"api  bare Litestar route, same JSON shape (ceiling):         "
        f"{ceiling.per_second:7.0f} req/s  p50 {ceiling.p50_ms:6.1f} ms  "
        f"p95 {ceiling.p95_ms:6.1f} ms"
    )
    ratios = {
        "api_throughput_ratio": ours.per_second / ceiling.per_second,
        "api_p50_latency_ratio": ours.p50_ms / ceiling.p50_ms,
    }
    print(
        f"api  ratio: throughput {ratios['api_throughput_ratio']:.2f} of the ceiling, "
        f"p50 latency {ratios['api_p50_latency_ratio']:.1f}x the ceiling "
        f"({requests} requests, {concurrency} concurrent)"
    )
    return ratios

"""The staff API under `wrk`: `/api/health` (the ceiling: same server, same middleware, no auth,
no store, no database) against `GET /api/auth/me` and `GET /api/orders?limit=20` with a bearer
token, on the real app as `worlddoor api` serves it, on PostgreSQL (a fresh database holding
`orders` orders) and Redis. Ceiling and targets are measured in the same run, interleaved, and
repeated; the figures are medians of the rounds. Order pages are kept in memory until
PostgreSQL notifies a change (api/change_feed.py; nothing writes during the bench, so every
page after the first is served from memory, unless another connection writes an order ten
times a second, a row of its own): the same routes are measured again on a server with
ORDER_PAGE_CACHE_ENTRIES=0, every page read from the database. Then the first with
`worlddoor api --workers 2`.

Beside wrk's figures, the CPU time the API processes spent in each run (utime + stime from
/proc, the uvicorn process and its workers): requests per CPU-second is the honest scaling
figure on a box whose two cores also run wrk, PostgreSQL and Redis (raw req/s cannot double
there). Two processes scale when their requests per CPU-second stay those of one.

Nothing here asserts a time; it prints the table and writes bench/results/api.json."""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from bench import wrk
from bench.util import free_port, stop_process, wait_http

ROOT = Path(__file__).parent.parent
RESULTS = ROOT / "bench" / "results" / "api.json"
EMAIL = "bench-staff@theworlddoor.example"
PASSWORD = "bench password, long enough"
HEALTH = "/api/health"
TARGETS = {
    "me": "/api/auth/me",
    "orders": "/api/orders?limit=20",
    "orders_total": "/api/orders?limit=20&total=true",  # the exact count asked for
    # The same page while another connection writes an order WRITES_PER_SECOND times a second
    # (as the worker does in a busy hour): each write turns the kept pages stale.
    "orders_writes": "/api/orders?limit=20&offset=0",
}
WRITING = "orders_writes"
WRITES_PER_SECOND = 10
DEFAULT_DATABASE = "postgresql://postgres@127.0.0.1:5432/postgres"
DEFAULT_REDIS = "redis://127.0.0.1:6379/0"


class Skip(Exception):
    """A service the benchmark needs is missing; the message says which."""


@dataclass(frozen=True)
class Run:
    wrk: wrk.WrkResult
    api_cpu_seconds: float  # the API processes' CPU time during the run

    def as_dict(self) -> dict[str, float]:
        return {**self.wrk.as_dict(), "api_cpu_seconds": self.api_cpu_seconds}


def process_tree_cpu(pid: int) -> float:
    """CPU seconds (user + system) of `pid` and every process under it (Linux /proc)."""
    ticks = os.sysconf("SC_CLK_TCK")
    parent: dict[int, int] = {}
    cpu: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:  # ended meanwhile
            continue
        process = int(entry.name)
        parent[process] = int(fields[1])
        cpu[process] = int(fields[11]) + int(fields[12])  # utime, stime
    tree, total = {pid}, 0
    for process in sorted(parent):  # children have larger ids than their parents here
        if process in tree or parent[process] in tree:
            tree.add(process)
            total += cpu.get(process, 0)
    return total / ticks


def prepare(orders: int) -> None:
    """In the API's environment (run as a subprocess): migrate, one staff account, `orders`
    orders with distinct creation times."""
    from datetime import UTC, datetime, timedelta

    import sqlalchemy as sa

    from api.accounts import create_user
    from config import get_settings
    from models import Order, Role
    from models.db import get_engine, table_of
    from models.migrate import upgrade

    settings = get_settings()
    upgrade(settings)
    create_user(settings, EMAIL, PASSWORD, Role.staff, full_name="Bench Staff")
    start = datetime.now(UTC) - timedelta(days=365)
    rows = [
        {
            "id": uuid.uuid4(),
            "ebay_order_id": f"BENCH-{i:06d}",
            "buyer_username": f"buyer{i % 997}",
            "buyer_name": f"Buyer {i % 997}",
            "buyer_email": f"buyer{i % 997}@example.com",
            "ship_to": {"city": "Berlin", "country_code": "DE"},
            "line_items": [{"sku": f"SKU-{i % 50:04d}", "quantity": 1}],
            "total_value": "120.00",
            "total_currency": "USD",
            "status": "received",
            "workflow_id": f"order-BENCH-{i:06d}",
            "cancel_reason": "",
            "created_at": start + timedelta(minutes=i),
            "updated_at": start + timedelta(minutes=i),
        }
        for i in range(orders)
    ]
    engine = get_engine(settings)
    with engine.begin() as conn:
        conn.execute(sa.insert(table_of(Order)), rows)
    if engine.dialect.name == "postgresql":  # as autovacuum leaves a table in steady use
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(sa.text("VACUUM ANALYZE orders"))


@contextmanager
def database(base_url: str) -> Iterator[str]:
    """A fresh PostgreSQL database for the run, dropped afterwards."""
    import psycopg

    if not base_url.startswith("postgresql"):
        raise Skip(f"DATABASE_URL is not PostgreSQL ({base_url.split(':', 1)[0]})")
    name = f"worlddoor_bench_{uuid.uuid4().hex[:10]}"
    try:
        admin = psycopg.connect(base_url, autocommit=True, connect_timeout=3)
    except psycopg.OperationalError as exc:
        raise Skip(f"PostgreSQL at {base_url} does not answer: {exc}") from exc
    with admin:
        admin.execute(f'CREATE DATABASE "{name}"')
        try:
            yield base_url.rsplit("/", 1)[0] + f"/{name}"
        finally:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def check_redis(url: str) -> None:
    import redis

    try:
        redis.Redis.from_url(url, socket_connect_timeout=2).ping()
    except redis.RedisError as exc:
        raise Skip(f"Redis at {url} does not answer: {exc}") from exc


def api_env(var_dir: str, database_url: str, redis_url: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DATABASE_URL", "APP_ENV"))}
    env.update(
        {
            "APP_ENV": "development",
            "WORLDDOOR_VAR_DIR": var_dir,
            "DATABASE_URL": database_url,
            "REDIS_URL": redis_url,
            "STORE_NAMESPACE": f"bench{uuid.uuid4().hex[:8]}",
            "LOG_LEVEL": "INFO",  # one request line each, as served (to a file here)
            "TEMPORAL_ADDRESS": "127.0.0.1:1",  # none of these routes needs Temporal
            # One client makes every request: raise the limit so it never answers 429. The
            # limiter still counts every request in Redis (the same work as in production).
            "RATE_LIMIT_API": "1000000000",
            "RATE_LIMIT_PUBLIC": "1000000000",  # the login this bench makes counts here
            "RATE_LIMIT_LOGIN": "1000",
        }
    )
    return env


@dataclass(frozen=True)
class Server:
    base: str
    pid: int


@contextmanager
def api_server(env: dict[str, str], workers: int, log: Path) -> Iterator[Server]:
    port = free_port()
    argv = [sys.executable, "-m", "cli", "api", "--port", str(port), "--workers", str(workers)]
    with log.open("ab") as out:
        process = subprocess.Popen(  # noqa: S603
            argv, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT
        )
    base = f"http://127.0.0.1:{port}"
    try:
        wait_http(base + HEALTH)
        yield Server(base, process.pid)
    finally:
        stop_process(process)


def token(base: str) -> str:
    response = httpx.post(
        base + "/api/auth/login", json={"email": EMAIL, "password": PASSWORD}, timeout=30
    )
    response.raise_for_status()
    return str(response.json()["access_token"])


@contextmanager
def writing(database_url: str, per_second: float) -> Iterator[list[int]]:
    """Another connection updates an order `per_second` times a second until the block ends;
    yields a list that ends up holding the number of writes."""
    import threading

    import psycopg

    done, stop = [0], threading.Event()

    def write() -> None:
        with psycopg.connect(database_url, autocommit=True) as connection:
            while not stop.wait(1 / per_second):
                connection.execute(
                    "UPDATE orders SET updated_at = now() WHERE ebay_order_id = 'BENCH-000000'"
                )
                done[0] += 1

    writer = threading.Thread(target=write, daemon=True)
    writer.start()
    try:
        yield done
    finally:
        stop.set()
        writer.join()


def measure(
    binary: str,
    server: Server,
    paths: dict[str, str],
    headers: dict[str, str],
    rounds: int,
    seconds: float,
    database_url: str,
) -> dict[str, list[Run]]:
    """Every path once per round, the order rotated each round; the ceiling is in every round."""
    base = server.base
    names = list(paths)
    for name in names:  # warm-up: connections, statement caches, snapshot in the store
        wrk.run(binary, base + paths[name], headers=headers, seconds=1)
    runs: dict[str, list[Run]] = {name: [] for name in names}
    for round_no in range(rounds):
        for name in names[round_no % len(names) :] + names[: round_no % len(names)]:
            cpu_before = process_tree_cpu(server.pid)
            with writing(database_url, WRITES_PER_SECOND) if name == WRITING else nullcontext():
                result = wrk.run(binary, base + paths[name], headers=headers, seconds=seconds)
            cpu = process_tree_cpu(server.pid) - cpu_before
            if result.non_2xx or result.socket_errors:
                sample = httpx.get(base + paths[name], headers=headers, timeout=30)
                raise RuntimeError(
                    f"{paths[name]}: {result}; one answer: {sample.status_code} {sample.text[:300]}"
                )
            runs[name].append(Run(result, cpu))
    return runs


def summarise(runs: dict[str, list[Run]]) -> dict[str, dict[str, float]]:
    """Medians of the rounds; ratios are taken per round against that round's ceiling."""
    ceiling = [run.wrk for run in runs["health"]]
    summary: dict[str, dict[str, float]] = {}
    for name, measured in runs.items():
        results = [run.wrk for run in measured]
        summary[name] = {
            "per_api_cpu_second": statistics.median(
                run.wrk.requests / run.api_cpu_seconds for run in measured if run.api_cpu_seconds
            ),
            "per_second": statistics.median(r.per_second for r in results),
            "p50_ms": statistics.median(r.p50_ms for r in results),
            "p99_ms": statistics.median(r.p99_ms for r in results),
            "ratio": statistics.median(
                r.per_second / c.per_second for r, c in zip(results, ceiling, strict=True)
            ),
            "p99_ratio": statistics.median(
                r.p99_ms / c.p99_ms for r, c in zip(results, ceiling, strict=True)
            ),
        }
    return summary


def print_table(title: str, summary: dict[str, dict[str, float]], paths: dict[str, str]) -> None:
    print(f"api  {title}")
    print(
        f"api  {'route':<40}{'req/s':>9}{'p50 ms':>9}{'p99 ms':>9}{'ratio':>8}{'p99 ratio':>11}"
        f"{'req/API-CPU-s':>15}"
    )
    for name, row in summary.items():
        label = paths[name] + (" (ceiling)" if name == "health" else "")
        if name == WRITING:
            label = f"{TARGETS['orders']}, {WRITES_PER_SECOND} writes/s"
        print(
            f"api  {label:<40}{row['per_second']:>9.0f}{row['p50_ms']:>9.2f}{row['p99_ms']:>9.2f}"
            f"{row['ratio']:>8.2f}{row['p99_ratio']:>10.1f}x{row['per_api_cpu_second']:>15.0f}"
        )


def run(rounds: int = 3, seconds: float = 5, orders: int = 10_000) -> dict[str, float]:
    binary = wrk.find_or_install()
    if binary is None:
        print("api  SKIPPED: wrk is missing and could not be installed (apt-get install wrk)")
        return {}
    try:
        return _run(binary, rounds, seconds, orders)
    except Skip as exc:
        print(f"api  SKIPPED: {exc}")
        return {}


def _run(binary: str, rounds: int, seconds: float, orders: int) -> dict[str, float]:
    redis_url = os.environ.get("REDIS_URL") or DEFAULT_REDIS
    check_redis(redis_url)
    base_db = os.environ.get("DATABASE_URL") or DEFAULT_DATABASE
    paths = {"health": HEALTH, **TARGETS}
    report: dict[str, Any] = {
        "wrk": f"-t2 -c32 -d{seconds:g}s --latency",
        "rounds": rounds,
        "orders": orders,
        "cpus": os.cpu_count(),
    }
    with database(base_db) as database_url, tempfile.TemporaryDirectory() as var_dir:
        env = api_env(var_dir, database_url, redis_url)
        code = f"from bench.api_bench import prepare; prepare({orders})"
        subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, check=True)  # noqa: S603
        log = Path(var_dir) / "api.log"
        uncached = {name: path for name, path in paths.items() if name not in ("me", WRITING)}
        for section, workers, cache, measured in (
            ("processes_1", 1, True, paths),
            ("uncached_1", 1, False, uncached),
            ("processes_2", 2, True, paths),
        ):
            cache_env = {} if cache else {"ORDER_PAGE_CACHE_ENTRIES": "0"}
            with api_server(env | cache_env, workers, log) as server:
                headers = {"Authorization": f"Bearer {token(server.base)}"}
                runs = measure(binary, server, measured, headers, rounds, seconds, database_url)
            summary = summarise(runs)
            report[section] = {
                "summary": summary,
                "runs": {name: [r.as_dict() for r in rs] for name, rs in runs.items()},
            }
            print_table(
                f"{workers} API process{'es' if workers > 1 else ''} (PostgreSQL, {orders} "
                f"orders; Redis store; "
                + ("order pages kept until a change is notified" if cache else "every page read")
                + f"); wrk -t2 -c32 -d{seconds:g}s, median of {rounds} interleaved rounds",
                summary,
                measured,
            )
    one, two = report["processes_1"]["summary"], report["processes_2"]["summary"]
    results = {
        "api_me_ratio": one["me"]["ratio"],
        "api_me_p99_ratio": one["me"]["p99_ratio"],
        "api_orders_ratio": one["orders"]["ratio"],
        "api_orders_p99_ratio": one["orders"]["p99_ratio"],
        "api_orders_while_writing_ratio": one[WRITING]["ratio"],
        "api_orders_uncached_ratio": report["uncached_1"]["summary"]["orders"]["ratio"],
        "api_orders_uncached_p99_ratio": report["uncached_1"]["summary"]["orders"]["p99_ratio"],
        "api_two_process_orders_scaling": two["orders"]["per_second"] / one["orders"]["per_second"],
        "api_two_process_orders_cpu_scaling": (
            two["orders"]["per_api_cpu_second"] / one["orders"]["per_api_cpu_second"]
        ),
    }
    print(
        f"api  two processes: GET /api/orders {two['orders']['per_second']:.0f} req/s, "
        f"{results['api_two_process_orders_scaling']:.2f}x one process "
        f"({os.cpu_count()} cores shared with wrk, PostgreSQL and Redis); "
        f"{two['orders']['per_api_cpu_second']:.0f} requests per API CPU-second, "
        f"{results['api_two_process_orders_cpu_scaling']:.2f}x one process's "
        "(1.00: each process serves as much per core as one alone)"
    )
    report["results"] = results
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(report, indent=2))
    with suppress(OSError):
        print(f"api  written to {RESULTS.relative_to(ROOT)}")
    return results


if __name__ == "__main__":
    import argparse

    parser = argparse.ArgumentParser(description="The API section of `make bench` alone.")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=5)
    parser.add_argument("--orders", type=int, default=10_000)
    arguments = parser.parse_args()
    run(arguments.rounds, arguments.seconds, arguments.orders)

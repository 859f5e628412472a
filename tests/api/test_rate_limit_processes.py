"""Two API processes (`worlddoor api`, as deployed) on the same Redis count one rate limit: a
client that alternates between them is limited after RATE_LIMIT_API requests in total, not
after that many per process. The same with one `worlddoor api` running API_WORKERS=2 uvicorn
processes behind one port."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from bench.util import stop_process
from tests.api.conftest import free_port

ROOT = Path(__file__).parent.parent.parent
LIMIT = 6


@dataclass(frozen=True)
class Api:
    base: str
    pid: int


def worker_processes(pid: int) -> list[int]:
    """uvicorn's worker processes under `pid` (Linux /proc: children started by
    multiprocessing's spawn, not its resource tracker)."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
                command = (entry / "cmdline").read_bytes()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid and b"spawn_main" in command:
                found.append(int(entry.name))
    return found


@contextmanager
def api_process(env: dict[str, str], log: Path) -> Iterator[Api]:
    port = free_port()
    with log.open("ab") as out:
        process = subprocess.Popen(  # noqa: S603 - our own command
            [sys.executable, "-m", "cli", "api", "--port", str(port)],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            assert process.poll() is None, f"the API exited: {log.read_text()[-2000:]}"
            try:
                if httpx.get(f"{base}/api/health", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert time.monotonic() < deadline, f"the API did not start: {log.read_text()[-2000:]}"
            time.sleep(0.2)
        yield Api(base, process.pid)
    finally:
        stop_process(process)


def test_two_processes_on_one_redis_share_the_api_limit(settings, migrated_db, tmp_path):
    if not settings.redis_url:
        pytest.skip("needs Redis (the file store is for one development process)")
    env = {
        **os.environ,
        "STORE_NAMESPACE": f"t{uuid.uuid4().hex[:12]}",  # both processes: the same counters
        "RATE_LIMIT_API": str(LIMIT),
        "RATE_LIMIT_API_WINDOW": "300",
        "TEMPORAL_ADDRESS": "127.0.0.1:1",
    }
    with ExitStack() as stack:
        first, second = (
            stack.enter_context(api_process(env, tmp_path / f"api-{n}.log")) for n in (1, 2)
        )
        answers = []
        for i in range(LIMIT + 2):
            base = (first, second)[i % 2].base
            response = httpx.get(f"{base}/api/orders", timeout=10)  # counted before auth
            answers.append(response.status_code)
            if response.status_code == 429:
                assert response.headers["ratelimit-remaining"] == "0"
                assert 0 < int(response.headers["retry-after"]) <= 300

    # Each process alone would have answered 401 to all eight: it saw only four.
    assert answers == [401] * LIMIT + [429, 429]


def test_api_workers_run_processes_that_share_the_api_limit(settings, migrated_db, tmp_path):
    if not settings.redis_url:
        pytest.skip("needs Redis (several processes refuse the file store)")
    env = {
        **os.environ,
        "STORE_NAMESPACE": f"t{uuid.uuid4().hex[:12]}",
        "API_WORKERS": "2",
        "RATE_LIMIT_API": str(LIMIT),
        "RATE_LIMIT_API_WINDOW": "300",
        "TEMPORAL_ADDRESS": "127.0.0.1:1",
        "PROMETHEUS_MULTIPROC_DIR": str(tmp_path / "prometheus"),
    }
    with api_process(env, tmp_path / "api.log") as api:
        deadline = time.monotonic() + 30
        while len(workers := worker_processes(api.pid)) < 2:
            assert time.monotonic() < deadline, f"worker processes: {workers}"
            time.sleep(0.2)
        # A new connection per request: the kernel hands each to either process.
        answers = [httpx.get(f"{api.base}/api/orders", timeout=10).status_code for _ in range(20)]
    assert answers == [401] * LIMIT + [429] * (20 - LIMIT)

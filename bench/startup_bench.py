"""`make run` start-up: `worlddoor dev` started twice on one fresh data folder (the first start
migrates, creates the admin, the Temporal database and the S3 volumes; the second finds them),
timed from launch to the banner, then stopped with Ctrl-C (SIGINT) and timed until every child
has exited. The ceiling is the target: ready in 10 s on a second start.

The install (`make`'s new .venv with `pip install -e '.[dev]'`) is timed with `--install`
only: it downloads or unpacks ~200 packages and takes minutes, so it is not part of every run."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import IO

from bench.util import free_port, free_port_block

ROOT = Path(__file__).parent.parent
RESULTS = ROOT / "bench" / "results" / "startup.json"
BANNER = "is running (Ctrl-C stops everything)"
TARGET_SECONDS = 10.0


def dev_env(var_dir: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DATABASE_URL", "REDIS_URL"))}
    env.update(
        {
            "APP_ENV": "development",
            "WORLDDOOR_VAR_DIR": var_dir,
            "API_PORT": str(free_port()),
            "SANDBOX_PORT": str(free_port()),
            "SANDBOX_S3_PORT": str(free_port()),
            "SANDBOX_S3_INTERNAL_PORT": str(free_port_block()),
            "TEMPORAL_ADDRESS": f"127.0.0.1:{free_port()}",
            "TEMPORAL_UI_PORT": str(free_port()),
            "WORKER_METRICS_PORT": str(free_port()),
            "PYTHONUNBUFFERED": "1",
        }
    )
    return env


def _watch(stream: IO[str], lines: list[tuple[float, str]], started: float) -> None:
    for line in stream:
        lines.append((time.monotonic() - started, line.rstrip()))


def one_start(env: dict[str, str], timeout: float = 180) -> dict[str, object]:
    """Seconds to the banner and to a clean stop, and the supervisor's own timeline."""
    started = time.monotonic()
    process = subprocess.Popen(  # noqa: S603
        [sys.executable, "-m", "cli", "dev"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    lines: list[tuple[float, str]] = []
    assert process.stdout is not None
    reader = threading.Thread(target=_watch, args=(process.stdout, lines, started), daemon=True)
    reader.start()
    ready = None
    while time.monotonic() - started < timeout and process.poll() is None:
        if any(BANNER in line for _, line in lines):
            ready = next(at for at, line in lines if BANNER in line)
            break
        time.sleep(0.05)
    stop_started = time.monotonic()
    if process.poll() is None:
        process.send_signal(signal.SIGINT)
    try:
        process.wait(timeout=60)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
    stopped = time.monotonic() - stop_started
    reader.join(timeout=5)
    if ready is None:
        tail = "\n".join(line for _, line in lines[-30:])
        raise RuntimeError(f"worlddoor dev never printed its banner:\n{tail}")
    timeline = [f"{at:6.2f}s {line[:160]}" for at, line in lines]
    return {
        "ready_seconds": ready,
        "stop_seconds": stopped,
        "exit_code": process.returncode,
        "timeline": timeline,
    }


def install_seconds() -> float:
    """A new virtual environment and `pip install -e '.[dev]'`, as `make` does on first use."""
    with tempfile.TemporaryDirectory(prefix="worlddoor-install-") as folder:
        venv = Path(folder) / "venv"
        started = time.monotonic()
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)  # noqa: S603
        subprocess.run(  # noqa: S603
            [str(venv / "bin" / "python"), "-m", "pip", "install", "--quiet", "-e", ".[dev]"],
            cwd=ROOT,
            check=True,
        )
        return time.monotonic() - started


def run(install: bool = False) -> dict[str, float]:
    report: dict[str, object] = {"target_seconds": TARGET_SECONDS, "cpus": os.cpu_count()}
    if install:
        report["install_seconds"] = install_seconds()
    with tempfile.TemporaryDirectory(prefix="worlddoor-startup-") as var_dir:
        env = dev_env(var_dir)
        first = one_start(env)
        second = one_start(env)
    report |= {"first": first, "second": second}
    results = {
        "startup_first_seconds": float(first["ready_seconds"]),  # type: ignore[arg-type]
        "startup_second_seconds": float(second["ready_seconds"]),  # type: ignore[arg-type]
        "startup_stop_seconds": float(second["stop_seconds"]),  # type: ignore[arg-type]
    }
    results["startup_second_ratio"] = results["startup_second_seconds"] / TARGET_SECONDS
    if install:
        results["install_seconds"] = float(report["install_seconds"])  # type: ignore[arg-type]
        print(
            f"startup  install (new .venv, pip install -e '.[dev]'): "
            f"{results['install_seconds']:.0f} s"
        )
    print(
        f"startup  make run ready: first start {results['startup_first_seconds']:.1f} s "
        f"(new data folder), second start {results['startup_second_seconds']:.1f} s "
        f"(target {TARGET_SECONDS:.0f} s: {results['startup_second_ratio']:.2f} of it); "
        f"Ctrl-C to every process gone {results['startup_stop_seconds']:.1f} s"
    )
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(report, indent=2))
    return results


if __name__ == "__main__":
    import argparse

    parser = argparse.ArgumentParser(description="The start-up section of `make bench` alone.")
    parser.add_argument("--install", action="store_true", help="also time a new .venv install")
    run(install=parser.parse_args().install)

"""`worlddoor dev`: everything on the embedded defaults under one supervisor.

Starts the local S3 server (SeaweedFS `weed mini`, objects in var/s3), the Temporal dev server
(state in var/temporal.db, UI), the sandbox emulators, the worker and the API as child processes;
bootstraps the bucket (versioning, lifecycle, CORS), applies migrations, creates the first admin,
prints the addresses, and on Ctrl-C (or when any child dies) stops them all in reverse order.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO
from urllib.parse import urlparse

import httpx

from config import Settings
from observability import get_logger

log = get_logger(__name__)

STOP_GRACE_SECONDS = 15
S3_STOP_WAIT_SECONDS = 20
"""How long a start waits for a local S3 that is still stopping to free its ports."""
TEMPORAL_LOG = "temporal-dev.log"


@dataclass
class Child:
    name: str
    argv: list[str]
    process: subprocess.Popen[bytes] | None = None
    env: dict[str, str] = field(default_factory=dict)
    log_file: Path | None = None
    """Where the child's stdout and stderr go instead of the terminal (appended)."""


def port_in_use(host: str, port: int) -> bool:
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            return True
    return False


def wait_for_port(host: str, port: int, timeout: float) -> bool:
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            with socket.create_connection((host, port), timeout=0.5):
                return True
        except OSError:
            time.sleep(0.2)
    return False


def wait_for_http(url: str, timeout: float) -> bool:
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            if httpx.get(url, timeout=2).status_code < 500:
                return True
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    return False


def required_ports(settings: Settings) -> dict[str, tuple[str, int, str]]:
    from sandbox.local_s3 import internal_ports

    temporal = urlparse(f"//{settings.temporal_address}")
    s3_internal = {
        f"local S3 {flag}": ("127.0.0.1", port, "SANDBOX_S3_INTERNAL_PORT")
        for flag, port in internal_ports(settings).items()
    }
    return {
        "Temporal gRPC": (
            temporal.hostname or "127.0.0.1",
            temporal.port or 7233,
            "TEMPORAL_ADDRESS",
        ),
        "Temporal UI": ("127.0.0.1", settings.temporal_ui_port, "TEMPORAL_UI_PORT"),
        "sandbox": ("127.0.0.1", settings.sandbox_port, "SANDBOX_PORT"),
        "sandbox S3": ("127.0.0.1", settings.sandbox_s3_port, "SANDBOX_S3_PORT"),
        **s3_internal,
        "API": (settings.api_host, settings.api_port, "API_PORT"),
        **(
            {
                "worker metrics": (
                    settings.worker_metrics_host,
                    settings.worker_metrics_port,
                    "WORKER_METRICS_PORT",
                )
            }
            if settings.worker_metrics_port
            else {}
        ),
    }


def busy_ports(settings: Settings, s3_stop_wait: float = S3_STOP_WAIT_SECONDS) -> list[str]:
    """Ports someone else holds. A local S3 still stopping (SeaweedFS takes ~13 s after
    SIGTERM, e.g. when the last run was stopped from outside) is waited for first."""
    ports = required_ports(settings)
    local_s3 = [name for name in ports if name.startswith("local S3") or name == "sandbox S3"]
    deadline = time.monotonic() + s3_stop_wait
    announced = False
    while any(port_in_use(*ports[name][:2]) for name in local_s3) and time.monotonic() < deadline:
        if not announced:
            print("waiting for the previous local S3 to finish stopping ...", flush=True)
            announced = True
        time.sleep(0.5)
    return [
        f"port {port} ({name}) is already in use: stop what holds it or set {variable}"
        for name, (host, port, variable) in ports.items()
        if port_in_use(host, port)
    ]


def prepare_database(settings: Settings) -> str | None:
    """Migrate, then create the first admin. Returns the generated password, if any."""
    from sqlmodel import Session, select

    from api.accounts import create_admin
    from models import Role, User
    from models.db import get_engine
    from models.migrate import upgrade

    upgrade(settings)
    with Session(get_engine(settings)) as session:
        has_admin = session.exec(select(User).where(User.role == Role.admin)).first()
    if has_admin:
        return None
    _, password = create_admin(settings, "admin@theworlddoor.example", None)
    return password


def build_children(settings: Settings) -> list[Child]:
    from temporal_client import search_attribute_flags, temporal_binary

    temporal = urlparse(f"//{settings.temporal_address}")
    python = sys.executable
    return [
        Child(
            "temporal",
            [
                temporal_binary(),
                "server",
                "start-dev",
                "--db-filename",
                settings.temporal_db_file,
                "--ip",
                temporal.hostname or "127.0.0.1",
                "--port",
                str(temporal.port or 7233),
                "--ui-port",
                str(settings.temporal_ui_port),
                "--namespace",
                settings.temporal_namespace,
                "--log-level",
                "warn",
                *search_attribute_flags(),
                # the web UI decrypts payloads through the API (signed-in staff only)
                "--ui-codec-endpoint",
                f"http://{settings.api_host}:{settings.api_port}/api/temporal-codec",
            ],
            # Its warnings (a score of them on every Ctrl-C) are for debugging, not the user.
            log_file=settings.var_dir / TEMPORAL_LOG,
        ),
        Child("sandbox", [python, "-m", "cli", "sandbox"]),  # the emulators; S3 is LocalS3
        Child("worker", [python, "-m", "cli", "worker"]),
        Child("api", [python, "-m", "cli", "api"]),
    ]


def start(child: Child) -> None:
    env = {**os.environ, **child.env}
    output: IO[bytes] | None = None
    if child.log_file is not None:
        child.log_file.parent.mkdir(parents=True, exist_ok=True)
        output = child.log_file.open("ab")
    try:
        # Own process group, so Ctrl-C reaches the supervisor first and it stops children in
        # order.
        child.process = subprocess.Popen(  # noqa: S603
            child.argv,
            env=env,
            start_new_session=True,
            stdin=subprocess.DEVNULL if output else None,
            stdout=output,
            stderr=subprocess.STDOUT if output else None,
        )
    finally:
        if output is not None:
            output.close()  # the child holds its own copy of the descriptor
    log.info("started", process=child.name, pid=child.process.pid, log_file=child.log_file)


def stop_all(children: list[Child]) -> None:
    for child in reversed(children):
        if child.process and child.process.poll() is None:
            child.process.send_signal(signal.SIGTERM)
    deadline = time.time() + STOP_GRACE_SECONDS
    for child in reversed(children):
        if not child.process:
            continue
        try:
            child.process.wait(timeout=max(0.1, deadline - time.time()))
        except subprocess.TimeoutExpired:
            child.process.kill()
            child.process.wait()
        log.info("stopped", process=child.name, exit_code=child.process.returncode)


def run_dev(settings: Settings) -> int:
    """Start everything, print the banner once all of it answers, supervise, stop in order.

    What takes seconds to boot (SeaweedFS, the Temporal dev server, the sandbox and the API,
    each importing or opening its data) is started first and boots while the supervisor
    migrates the database; the worker follows as soon as Temporal's port opens (it connects
    once at start). The banner waits for the API, the sandbox and the bucket."""
    from sandbox.local_s3 import LocalS3

    started = time.monotonic()
    problems = busy_ports(settings)
    if problems:
        for problem in problems:
            print(f"cannot start: {problem}", file=sys.stderr)
        return 1
    settings.var_dir.mkdir(parents=True, exist_ok=True)
    children = build_children(settings)
    s3 = LocalS3(settings)
    stopping = False

    def on_signal(_signum: int, _frame: object) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    try:
        temporal, sandbox, worker, api = children
        s3.start()
        log.info("started", process="local-s3", pid=s3.process.pid if s3.process else None)
        start(temporal)
        start(sandbox)
        start(api)  # it reads the database only when asked, after the banner
        password = prepare_database(settings)
        host, port, _ = required_ports(settings)["Temporal gRPC"]
        if not wait_for_port(host, port, 60):
            print("Temporal dev server did not come up within 60 s", file=sys.stderr)
            return 1
        start(worker)
        if not wait_for_http(f"http://127.0.0.1:{settings.sandbox_port}/_sandbox/health", 30):
            print("sandbox did not come up within 30 s", file=sys.stderr)
            return 1
        s3.wait_ready()
        ensure_bucket(settings)
        api_url = f"http://{settings.api_host}:{settings.api_port}"
        if not wait_for_http(f"{api_url}/api/health", 60):
            print("API did not come up within 60 s", file=sys.stderr)
            return 1
        print_banner(settings, password, time.monotonic() - started)
        while not stopping:
            for child in [*children, Child("local-s3", [], s3.process)]:
                if child.process and child.process.poll() is not None:
                    print(
                        f"{child.name} exited with code {child.process.returncode}; stopping",
                        file=sys.stderr,
                    )
                    return 1
            time.sleep(0.5)
        return 0
    finally:
        stop_all(children)
        # SeaweedFS takes ~13 s to stop; the next start may reuse its ports only after it has.
        log.info("stopping", process="local-s3")
        log.info("stopped", process="local-s3", exit_code=s3.stop(grace=S3_STOP_WAIT_SECONDS))


def run_local_s3(settings: Settings) -> int:
    """`worlddoor local-s3`: the local S3 server in the foreground until SIGTERM or Ctrl-C."""
    from sandbox.local_s3 import LocalS3

    s3 = LocalS3(settings)
    stopping = False

    def on_signal(_signum: int, _frame: object) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    try:
        s3.start()
        s3.wait_ready()
        ensure_bucket(settings)
        print(f"local S3 at {s3.endpoint}, data in {s3.data_dir}", flush=True)
        while not stopping and s3.process is not None and s3.process.poll() is None:
            time.sleep(0.5)
        return 0 if stopping else 1
    finally:
        s3.stop()


def ensure_bucket(settings: Settings) -> None:
    """The bucket bootstrap `worlddoor doctor --fix` runs too: versioning, lifecycle, CORS."""
    from adapters.s3 import Storage

    Storage(settings).ensure_bucket()


def print_banner(settings: Settings, password: str | None, seconds: float) -> None:
    api_url = f"http://{settings.api_host}:{settings.api_port}"
    lines = [
        "",
        "The World Door back office is running (Ctrl-C stops everything); "
        f"ready in {seconds:.1f} s",
        f"  Staff console     {api_url}/console",
        f"  API               {api_url}/api",
        f"  API docs          {api_url}/schema",
        f"  Readiness         {api_url}/api/ready",
        f"  Temporal web UI   http://127.0.0.1:{settings.temporal_ui_port}",
        f"  Temporal gRPC     {settings.temporal_address}",
        f"  Sandbox           http://127.0.0.1:{settings.sandbox_port}/_sandbox/ledger",
        f"  Local S3          http://127.0.0.1:{settings.sandbox_s3_port} (SeaweedFS, var/s3)",
        f"  Data              {settings.var_dir}",
        f"  Temporal log      {settings.var_dir / TEMPORAL_LOG}",
    ]
    if password:
        lines += [
            "",
            "  First admin: admin@theworlddoor.example",
            f"  Password (shown once, change it): {password}",
        ]
    print("\n".join(lines), flush=True)

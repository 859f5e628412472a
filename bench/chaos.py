"""`make chaos`: orders flow while two workers are SIGKILLed at random, the Temporal server is
killed and restarted on its database file, a throwaway PostgreSQL is restarted, and eBay, FedEx,
SendGrid, Yamato and Sagawa misbehave (5xx, 429 with Retry-After, lost responses, latency). Staff
act through the API over HTTP (inspection results, cancels); SendGrid's events reach the API's
webhook. Then the checks in bench/chaos_checks.py run over the emulators' ledger, the database,
every workflow and every closed history, one row each; any failing row exits non-zero.

Ports come from `--port-base` (default CHAOS_PORT_BASE or 22100), which must lie outside the
kernel's ephemeral range, so that a restarted process never finds its port taken by a client.
PostgreSQL is a fresh `initdb` cluster in a temporary directory on one of those ports (never the
machine's own cluster); only when no PostgreSQL binaries exist does the run fall back to SQLite,
and the table says so.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import httpx

from bench.chaos_checks import Facts, OrderFacts, WorkflowFacts, render, table, verdict
from bench.util import wait_http

ROOT = Path(__file__).parent.parent
SERVICES = ("ebay", "fedex", "sendgrid", "yamato", "sagawa")
PORTS = (
    "temporal",
    "temporal_http",
    "temporal_metrics",
    "temporal_ui",
    "sandbox",
    "s3",
    "api",
    "pg",
)
DUPLICATE_ROW_QUERIES = {
    "orders.ebay_order_id": "select ebay_order_id from orders group by 1 having count(*) > 1",
    "shipments per order": "select order_id from shipments group by 1 having count(*) > 1",
    "bought labels per shipment": (
        "select shipment_id from label_purchases where status = 'bought' "
        "group by 1 having count(*) > 1"
    ),
    "inspections per order": ("select order_id from inspections group by 1 having count(*) > 1"),
    "email_messages.dedupe_key": (
        "select dedupe_key from email_messages group by 1 having count(*) > 1"
    ),
}
"""Business keys that must name one row each."""
WORKFLOW_TASK_TIMEOUT = os.environ.get("CHAOS_WORKFLOW_TASK_TIMEOUT", "30s")
POLL_SECONDS = 2.0
"""How often the driver looks at an order's status: each look is a query the workers answer."""
WATCHED_TYPES = ("OrderFulfillmentWorkflow", "InspectionWorkflow", "LabelWorkflow", "EmailWorkflow")


def ephemeral_range() -> tuple[int, int]:
    try:
        low, high = Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()
        return int(low), int(high)
    except OSError:
        return 32768, 60999


def pick_ports(base: int) -> dict[str, int]:
    low, high = ephemeral_range()
    ports = {name: base + i for i, name in enumerate(PORTS)}
    ports["s3_internal"] = base + len(PORTS)  # the first of the local S3's internal listeners
    for n in (1, 2):  # clear of the local S3's internal listeners: one metrics port per worker
        ports[f"worker-{n}_metrics"] = base + 30 + n
    inside = [p for p in ports.values() if low <= p <= high]
    if inside:
        raise SystemExit(f"chaos: ports {inside} lie in the ephemeral range {low}-{high}")
    for name, port in ports.items():
        with socket.socket() as sock:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as the servers bind
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                raise SystemExit(f"chaos: port {port} ({name}) is taken") from None
    return ports


class ThrowawayPostgres:
    """A PostgreSQL cluster of our own: initdb in a temp dir, pg_ctl on our port. PostgreSQL
    refuses to run as root, so as root the cluster belongs to the `postgres` account."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.bin = {name: shutil.which(name) for name in ("initdb", "pg_ctl")}
        self.as_user: list[str] = []
        if os.geteuid() == 0:
            self.as_user = ["runuser", "-u", "postgres", "--"]
            self.bin["runuser"] = shutil.which("runuser")
        self.root = Path(tempfile.mkdtemp(prefix="worlddoor-chaos-pg-"))
        self.data = self.root / "pg"
        if self.as_user and self.available:
            shutil.chown(self.root, user="postgres")

    @property
    def available(self) -> bool:
        return all(self.bin.values())

    @property
    def url(self) -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/postgres"

    def _run(self, *argv: str) -> None:
        subprocess.run([*self.as_user, *argv], check=True, capture_output=True)  # noqa: S603

    def _ctl(self, *args: str) -> None:
        log = str(self.root / "pg.log")
        self._run(self.bin["pg_ctl"], "-D", str(self.data), "-l", log, "-w", *args)  # type: ignore[arg-type]

    def start(self) -> None:
        if not self.data.exists():
            self._run(self.bin["initdb"], "-D", str(self.data), "-U", "postgres", "-A", "trust")  # type: ignore[arg-type]
        opts = f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 -c fsync=off"
        self._ctl("-o", opts, "start")

    def restart(self) -> None:
        self._ctl("-m", "fast", "stop")
        self.start()

    def stop(self) -> None:
        if (self.data / "postmaster.pid").exists():
            self._ctl("-m", "fast", "stop")
        shutil.rmtree(self.root, ignore_errors=True)


class Stack:
    """The Temporal dev server, the emulators, the API and two workers, each its own process."""

    def __init__(self, var_dir: str, ports: dict[str, int], database_url: str) -> None:
        self.var_dir = var_dir
        self.ports = ports
        api = f"http://127.0.0.1:{ports['api']}"
        self.env = {
            **os.environ,
            "APP_ENV": "development",
            "WORLDDOOR_VAR_DIR": var_dir,
            "SANDBOX_PORT": str(ports["sandbox"]),
            "SANDBOX_S3_PORT": str(ports["s3"]),
            "SANDBOX_S3_INTERNAL_PORT": str(ports["s3_internal"]),
            "API_PORT": str(ports["api"]),
            "PUBLIC_BASE_URL": api,
            "SANDBOX_WEBHOOK_URL": f"{api}/api/webhooks/sendgrid",
            "TEMPORAL_ADDRESS": f"127.0.0.1:{ports['temporal']}",
            "TEMPORAL_TASK_QUEUE": "chaos",
            "WORKER_METRICS_PORT": "0",  # each worker gets its own below (one port, one process)
            "LOG_LEVEL": "WARNING",
            "AWS_S3_BUCKET": "worlddoor-chaos",
            "DATABASE_URL": database_url,
            # every driver (dozens of staff at once) comes from 127.0.0.1: one office's limit
            "RATE_LIMIT_API": os.environ.get("CHAOS_RATE_LIMIT_API", "6000"),
            "YAMATO_TRACKING_ENABLED": "true",  # the emulators serve the tracking pages
            "SAGAWA_TRACKING_ENABLED": "true",
            # staff pick domestic quotes inside this window; FedEx orders fall to the policy's pick
            "RATE_CHOICE_MINUTES": os.environ.get("CHAOS_RATE_CHOICE_MINUTES", "0.25"),
        }
        self.processes: dict[str, subprocess.Popen[bytes]] = {}
        self.down: set[str] = set()  # killed on purpose, the monkey restarts them
        self.unplanned: list[str] = []  # processes that exited by themselves and were restarted
        self.log = open(Path(var_dir) / "chaos.log", "ab")  # noqa: SIM115

    @property
    def sandbox_url(self) -> str:
        return f"http://127.0.0.1:{self.ports['sandbox']}"

    @property
    def api_url(self) -> str:
        return f"http://127.0.0.1:{self.ports['api']}"

    def start(self, name: str) -> None:
        from temporal_client import search_attribute_flags, temporal_binary

        if name == "temporal":
            argv = [
                temporal_binary(),
                "server",
                "start-dev",
                "--headless",
                "--db-filename",
                f"{self.var_dir}/temporal.db",
                "--port",
                str(self.ports["temporal"]),
                "--http-port",
                str(self.ports["temporal_http"]),
                "--metrics-port",
                str(self.ports["temporal_metrics"]),
                "--ui-port",
                str(self.ports["temporal_ui"]),
                "--log-level",
                "error",
                # The default 10 s assumes an idle machine: on a shared 2-core box a worker that
                # replays a history for a cold cache can take longer, the task times out, and the
                # next attempt replays again (backing off up to minutes) - orders stall for it.
                "--dynamic-config-value",
                f'history.defaultWorkflowTaskTimeout="{WORKFLOW_TASK_TIMEOUT}"',
                *search_attribute_flags(),
            ]
        elif name == "s3":
            argv = [sys.executable, "-m", "cli", "local-s3"]
        elif name == "sandbox":
            argv = [sys.executable, "-m", "cli", "sandbox"]
        elif name == "api":
            argv = [sys.executable, "-m", "cli", "api", "--port", str(self.ports["api"])]
        else:  # worker-1, worker-2
            argv = [sys.executable, "-m", "cli", "worker"]
        env = self.env
        if name.startswith("worker-"):
            env = {**env, "WORKER_METRICS_PORT": str(self.ports[f"{name}_metrics"])}
        self.processes[name] = subprocess.Popen(  # noqa: S603
            argv, cwd=ROOT, env=env, stdout=self.log, stderr=self.log
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
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"port {port} did not open")


async def chaos_monkey(
    stack: Stack,
    pg: ThrowawayPostgres | None,
    stop: asyncio.Event,
    counts: dict[str, int],
    args: argparse.Namespace,
) -> None:
    """Kill a random worker every few seconds (up to --worker-kills), the Temporal server once
    after the first kill and the database once after the second."""
    rng = random.Random(args.seed)  # noqa: S311
    while not stop.is_set() and counts["worker_kills"] < args.worker_kills:
        await asyncio.sleep(rng.uniform(args.kill_every / 2, args.kill_every * 1.5))
        if stop.is_set():
            break
        victim = rng.choice(["worker-1", "worker-2"])
        stack.down.add(victim)
        stack.kill(victim)
        counts["worker_kills"] += 1
        if counts["worker_kills"] == 1 and not counts["server_restarts"]:
            stack.kill("temporal")
            counts["server_restarts"] += 1
            await asyncio.sleep(1)
            stack.start("temporal")
            await asyncio.to_thread(wait_port, stack.ports["temporal"])
        if counts["worker_kills"] == 2 and pg is not None and not counts["database_restarts"]:
            await asyncio.to_thread(pg.restart)
            counts["database_restarts"] += 1
        await asyncio.sleep(rng.uniform(0.2, 2))
        stack.start(victim)
        stack.down.discard(victim)


SUPERVISED = ("worker-1", "worker-2", "api")


async def supervise(stack: Stack, stop: asyncio.Event) -> None:
    """Restart a worker or the API that exited by itself (e.g. it started while the Temporal
    server was still coming up), as systemd or compose would; each restart is listed."""
    while not stop.is_set():
        for name in SUPERVISED:
            process = stack.processes.get(name)
            if name in stack.down or process is None or process.poll() is None:
                continue
            stack.unplanned.append(f"{name} exited {process.returncode}")
            await asyncio.sleep(2)
            stack.start(name)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=2)


async def progress(orders: list[OrderFacts], counts: dict[str, int], stop: asyncio.Event) -> None:
    """A line a minute: how far the orders are, so a slow run shows where it is."""
    started = time.time()
    shown: set[str] = set()
    while not stop.is_set():
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=60)
        for order in orders:
            if order.outcome.startswith("error") and order.ebay_order_id not in shown:
                shown.add(order.ebay_order_id)
                print(f"chaos: {order.ebay_order_id} ({order.expected}) {order.outcome}")
        done: dict[str, int] = {}
        for order in orders:
            if order.outcome:
                key = order.outcome if not order.outcome.startswith("error") else "error"
                done[key] = done.get(key, 0) + 1
        print(
            f"chaos: {time.time() - started:.0f}s {sum(done.values())}/{len(orders)} done "
            f"{done} kills={counts['worker_kills']}",
            flush=True,
        )


class Staff:
    """Staff and an inspector, signed in to the API, acting over HTTP; retries what a restart
    or a fault interrupted (5xx, connection errors) and what the rate limit deferred (429 with
    Retry-After), never another 4xx."""

    def __init__(self, api_url: str) -> None:
        self.http = httpx.AsyncClient(base_url=api_url, timeout=60)
        self.tokens: dict[str, str] = {}

    async def sign_in(self, settings: Any) -> None:
        from api.accounts import create_user
        from models import Role

        for role in (Role.staff, Role.inspector):
            email = f"chaos-{role.value}-{uuid.uuid4().hex[:8]}@theworlddoor.example"
            password = uuid.uuid4().hex
            await asyncio.to_thread(create_user, settings, email, password, role)
            answer = await self.http.post(
                "/api/auth/login", json={"email": email, "password": password}
            )
            answer.raise_for_status()
            self.tokens[role.value] = answer.json()["access_token"]

    async def call(self, role: str, method: str, path: str, **kwargs: Any) -> httpx.Response:
        headers = {"Authorization": f"Bearer {self.tokens[role]}"}
        for _ in range(120):
            try:
                answer = await self.http.request(method, path, headers=headers, **kwargs)
            except httpx.HTTPError:
                await asyncio.sleep(1)
                continue
            if answer.status_code == 429:  # the API's rate limit: wait as it says, then again
                await asyncio.sleep(float(answer.headers.get("Retry-After", "2") or 2))
                continue
            if answer.status_code < 500:
                return answer
            await asyncio.sleep(1)
        raise RuntimeError(f"{method} {path}: the API never answered")


async def _status(client: Any, workflow_id: str, result_type: Any) -> Any:
    from temporalio.service import RPCError

    try:
        return await client.get_workflow_handle(workflow_id).query(
            "status", result_type=result_type
        )
    except RPCError:
        return None


async def drive_order(
    client: Any, staff: Staff, sandbox_url: str, order: OrderFacts, timeout: float
) -> None:
    """Play staff and the courier for one order, through the API where staff act."""
    from temporalio.service import RPCError

    from workflows.contracts.fulfillment import (
        FulfillmentResult,
        FulfillmentStatus,
        fulfillment_workflow_id,
    )

    workflow_id = fulfillment_workflow_id(order.ebay_order_id)
    deadline = time.time() + timeout
    status = None
    while time.time() < deadline and not (status and status.order_id):
        status = await _status(client, workflow_id, FulfillmentStatus)
        await asyncio.sleep(POLL_SECONDS)
    if not (status and status.order_id):
        order.outcome = "error: never recorded"
        return
    order_id = status.order_id
    if order.expected == "cancelled":
        # staff cancel from the inspection queue: the buyer has had the confirmation, and gets
        # the cancellation (a cancel before the confirmation sends only the cancellation)
        while time.time() < deadline and not (status and status.step == "inspecting"):
            await asyncio.sleep(POLL_SECONDS)
            status = await _status(client, workflow_id, FulfillmentStatus)
        answer = await staff.call(
            "staff", "POST", f"/api/orders/{order_id}/cancel", json={"reason": "buyer asked"}
        )
        # "already being cancelled": an earlier try went through although its answer was lost
        # (a 5xx while the Temporal server restarted); the outcome row checks the rest
        if answer.status_code >= 400 and "already being cancelled" not in answer.text:
            order.outcome = f"error: cancel {answer.status_code} {answer.text[:80]}"
            return
    else:
        await inspect(staff, order_id, passed=order.expected == "completed", deadline=deadline)
    if order.expected == "refunded":
        await decide_failed_inspection(client, staff, order_id, workflow_id, deadline)
    if order.expected == "completed" and order.domestic:
        await hand_off_domestic(client, staff, sandbox_url, order, workflow_id, deadline)
    if order.expected == "completed":
        while time.time() < deadline:
            status = await _status(client, workflow_id, FulfillmentStatus)
            if status and (
                (status.step == "in_transit" and status.tracking_number)
                or status.step == "completed"
            ):
                break
            await asyncio.sleep(POLL_SECONDS)
        if status and status.step == "in_transit":
            courier = status.carrier or "fedex"
            async with httpx.AsyncClient(timeout=30) as http:
                for _ in range(30):
                    try:
                        r = await http.post(
                            f"{sandbox_url}/_sandbox/{courier}/advance",
                            json={"tracking_number": status.tracking_number, "to": "delivered"},
                        )
                        if r.status_code < 500:
                            break
                    except httpx.HTTPError:
                        pass
                    await asyncio.sleep(1)
            for _ in range(60):
                try:
                    await client.get_workflow_handle(workflow_id).signal("tracking_refresh")
                    break
                except RPCError:
                    await asyncio.sleep(1)
    latest = client.get_workflow_handle(workflow_id, result_type=FulfillmentResult)
    while time.time() < deadline:
        try:
            result = await asyncio.wait_for(latest.result(), max(1, deadline - time.time()))
            order.outcome = result.outcome
            return
        except RPCError:
            await asyncio.sleep(1)
        except TimeoutError:
            break
        except Exception as error:  # noqa: BLE001 - the order's workflow failed: a finding
            order.outcome = f"error: {type(error).__name__}: {error}"[:200]
            return
    order.outcome = "error: no result in time"


async def decide_failed_inspection(
    client: Any, staff: Staff, order_id: str, workflow_id: str, deadline: float
) -> None:
    """Staff take the decision a failed inspection waits for: refund now, unit back to stock."""
    from workflows.contracts.fulfillment import FulfillmentStatus

    while time.time() < deadline:
        status = await _status(client, workflow_id, FulfillmentStatus)
        if status and status.step == "awaiting_decision":
            answer = await staff.call(
                "staff",
                "POST",
                f"/api/orders/{order_id}/inspection-decision",
                json={"refund": "now", "unit": "restock", "note": "chaos"},
            )
            if answer.status_code < 400:
                return
        elif status and status.step in ("refunding", "compensating", "refunded", "cancelled"):
            return
        await asyncio.sleep(POLL_SECONDS)


JP_SITES = {"yamato": "b2", "sagawa": "ehiden"}


async def hand_off_domestic(
    client: Any,
    staff: Staff,
    sandbox_url: str,
    order: OrderFacts,
    workflow_id: str,
    deadline: float,
) -> None:
    """Staff choose Yamato or Sagawa, upload the hand-off CSV to the carrier's site and submit
    the tracking number it issued — all through the API, as in the office."""
    from workflows.contracts.fulfillment import FulfillmentStatus
    from workflows.contracts.label import LabelStatus, label_workflow_id

    shipment_id = ""
    while time.time() < deadline and not shipment_id:
        status = await _status(client, workflow_id, FulfillmentStatus)
        shipment_id = status.shipment_id if status else ""
        await asyncio.sleep(POLL_SECONDS)
    label_id = label_workflow_id(shipment_id)
    wanted = "yamato" if sum(map(ord, order.ebay_order_id)) % 2 else "sagawa"
    label = None
    while time.time() < deadline:
        label = await _status(client, label_id, LabelStatus)
        if label and label.step == "choosing" and label.quotes:
            quote = next((q for q in label.quotes if q.carrier == wanted), label.quotes[0])
            await staff.call(
                "staff",
                "POST",
                f"/api/shipments/{shipment_id}/rate",
                json={"carrier": quote.carrier, "service": quote.service},
            )  # a 4xx here means the window closed: the workflow chose itself
        if label and label.step in ("awaiting_tracking", "label_ready"):
            break
        await asyncio.sleep(POLL_SECONDS)
    if not label or label.step != "awaiting_tracking":
        return
    answer = await staff.call("staff", "GET", f"/api/shipments/{shipment_id}/handoff")
    answer.raise_for_status()
    async with httpx.AsyncClient(timeout=30) as http:
        csv = (await http.get(answer.json()["url"])).content
        site = f"{sandbox_url}/_sandbox/{label.carrier}/{JP_SITES[label.carrier]}/import"
        issued: list[dict[str, str]] = []
        for _ in range(30):
            r = await http.post(site, content=csv, headers={"Content-Type": "text/csv"})
            if r.status_code == 200:
                issued = r.json()["issued"]
                break
            await asyncio.sleep(1)
    for row in issued:
        await staff.call(
            "staff",
            "POST",
            f"/api/shipments/{shipment_id}/tracking",
            json={"tracking_number": row["tracking_number"]},
        )


async def inspect(staff: Staff, order_id: str, passed: bool, deadline: float) -> None:
    detail: dict[str, Any] = {}
    while time.time() < deadline:
        answer = await staff.call("inspector", "GET", f"/api/inspections/{order_id}")
        if answer.status_code == 200:
            detail = answer.json()
            if detail.get("checklist"):
                break
        await asyncio.sleep(POLL_SECONDS)
    if detail.get("result", "pending") != "pending":
        return  # already answered
    answer = await staff.call(
        "inspector",
        "POST",
        f"/api/inspections/{order_id}/media/upload-urls",
        json={"file_names": ["check.mp4"]},
    )
    answer.raise_for_status()
    targets = answer.json()
    async with httpx.AsyncClient(timeout=30) as http:
        for target in targets:
            file = ("check.mp4", b"\x00" * 256, target["content_type"])
            r = await http.post(target["url"], data=target["fields"], files={"file": file})
            r.raise_for_status()
    keys = [item["key"] for item in detail["checklist"]]
    answers = {key: passed or i > 0 for i, key in enumerate(keys)}
    body = {
        "answers": answers,
        "media_keys": [t["key"] for t in targets],
        "notes": "" if passed else "scratches not shown in the listing photos",
    }
    while time.time() < deadline:
        answer = await staff.call(
            "inspector", "POST", f"/api/inspections/{order_id}/result", json=body
        )
        if answer.status_code == 200 or "already" in answer.text:
            return
        if answer.status_code == 422 and "not expected" not in answer.text:
            raise RuntimeError(f"inspection refused: {answer.text[:200]}")
        await asyncio.sleep(1)


def plan(n: int, rng: random.Random, fail_share: float, cancel_share: float) -> list[str]:
    fails = max(1, round(n * fail_share))
    cancels = max(1, round(n * cancel_share))
    kinds = ["refunded"] * fails + ["cancelled"] * cancels
    kinds += ["completed"] * (n - len(kinds))
    rng.shuffle(kinds)
    return kinds


async def collect(client: Any, settings: Any, orders: list[OrderFacts], sandbox_url: str) -> Facts:
    """Everything the checks read, gathered after the run."""
    from sqlalchemy import text
    from temporalio.api.enums.v1 import EventType
    from temporalio.client import WorkflowHistory
    from temporalio.worker import Replayer

    from adapters.s3 import Storage
    from models.db import session_scope
    from temporal_client import data_converter
    from workflows import all_workflows
    from workflows.contracts.label import label_reference

    async with httpx.AsyncClient(timeout=30) as http:
        await http.delete(f"{sandbox_url}/_sandbox/faults")
        ledger = (await http.get(f"{sandbox_url}/_sandbox/ledger")).json()["ledger"]
    storage = Storage(settings)
    with session_scope(settings) as session:
        for order in orders:
            row = session.execute(
                text(
                    "select s.id, s.tracking_number, s.label_key, s.handoff_key, s.carrier "
                    "from shipments s join orders o on o.id = s.order_id "
                    "where o.ebay_order_id = :e"
                ),
                {"e": order.ebay_order_id},
            ).first()
            if row is not None:
                order.label_reference = label_reference(str(row[0]))
                order.kept_tracking_number = row[1] or ""
                order.domestic = row[4] in ("yamato", "sagawa")
                key = row[2] or row[3]
                order.label_stored = bool(key) and storage.exists(key)
        duplicate_rows = {}
        for name, sql in DUPLICATE_ROW_QUERIES.items():
            duplicate_rows[name] = len(session.execute(text(sql)).all())
    workflows: list[WorkflowFacts] = []
    histories: list[WorkflowHistory] = []
    resent: dict[str, str] = {}
    query = " OR ".join(f"WorkflowType = '{t}'" for t in WATCHED_TYPES)
    async for info in client.list_workflows(query):
        facts = WorkflowFacts(info.id, info.workflow_type, info.status.name if info.status else "")
        history = await client.get_workflow_handle(info.id, run_id=info.run_id).fetch_history()
        for event in history.events:
            if event.event_type == EventType.EVENT_TYPE_WORKFLOW_TASK_FAILED:
                attrs = event.workflow_task_failed_event_attributes
                facts.task_failures.append(f"{attrs.cause}: {attrs.failure.message}"[:300])
        if info.workflow_type == "EmailWorkflow" and facts.status == "COMPLETED":
            try:
                result = await client.get_workflow_handle(info.id, run_id=info.run_id).result()
                if isinstance(result, dict) and result.get("resent_reason"):
                    resent[info.id] = result["resent_reason"]
            except Exception:  # noqa: BLE001, S110 - a failed email shows in the workflow rows
                pass
        workflows.append(facts)
        if facts.status != "RUNNING":
            histories.append(history)
    replayer = Replayer(workflows=all_workflows(), data_converter=data_converter(settings))
    failures: dict[str, str] = {}
    kept = os.environ.get("CHAOS_KEEP_HISTORIES", "")
    for history in histories:
        result = await replayer.replay_workflow(history, raise_on_replay_failure=False)
        if result.replay_failure is not None:
            failures[history.workflow_id] = str(result.replay_failure)
            print(f"chaos: replay of {history.workflow_id} failed: {result.replay_failure}")
            if kept:  # a history that does not replay is the next replay test
                Path(kept).mkdir(parents=True, exist_ok=True)  # noqa: ASYNC240 - after the run
                (Path(kept) / f"{history.workflow_id}.json").write_text(history.to_json())  # noqa: ASYNC240
    # The right stock after a compensation is the stock as if the order had not happened: one
    # more than a shipped order's product (each bench product starts alike), whatever the rule
    # for counting a sale is.
    with session_scope(settings) as session:
        quantity = {}
        for order in orders:
            lines = session.execute(
                text("select line_items from orders where ebay_order_id = :e"),
                {"e": order.ebay_order_id},
            ).scalar()
            skus = [li.get("sku") for li in (lines or [])]
            if skus:
                quantity[order.ebay_order_id] = session.execute(
                    text("select quantity from products where sku = :s"), {"s": skus[0]}
                ).scalar()
    shipped = sorted(  # type: ignore[type-var]
        quantity[o.ebay_order_id]
        for o in orders
        if o.expected == "completed" and o.ebay_order_id in quantity
    )
    baseline = shipped[len(shipped) // 2] if shipped else 0
    for order in orders:
        if order.expected in ("refunded", "cancelled"):
            order.stock_expected = baseline + 1  # type: ignore[operator]
            order.stock_actual = quantity.get(order.ebay_order_id)
    return Facts(
        orders=orders,
        ledger=ledger,
        workflows=workflows,
        replay_failures=failures,
        replayed=len(histories),
        duplicate_rows=duplicate_rows,
        email_resent_reasons=resent,
    )


async def run(
    stack: Stack, pg: ThrowawayPostgres | None, args: argparse.Namespace
) -> tuple[Facts, dict[str, Any]]:
    from bench.driver import make_product
    from config import Settings
    from temporal_client import connect
    from workflows.contracts.fulfillment import (
        FULFILLMENT_WORKFLOW,
        FulfillOrder,
        fulfillment_workflow_id,
    )

    settings = Settings()
    client = await connect(settings)
    rng = random.Random(args.seed)  # noqa: S311
    kinds = plan(args.orders, rng, args.fail_share, args.cancel_share)
    domestic = [k == "completed" and rng.random() < args.domestic_share for k in kinds]
    skus = [make_product(settings) for _ in kinds]
    specs = [{"sku": s, "domestic": d} for s, d in zip(skus, domestic, strict=True)]
    async with httpx.AsyncClient(timeout=60) as http:
        answer = await http.post(f"{stack.sandbox_url}/_sandbox/orders", json={"orders": specs})
        answer.raise_for_status()
        ids = [o["orderId"] for o in answer.json()["orders"]]
    orders = [
        OrderFacts(ebay_order_id=i, expected=k, domestic=d)
        for i, k, d in zip(ids, kinds, domestic, strict=True)
    ]
    faults = {
        "error_rate": args.error_rate,
        "error_status": 503,
        "rate_limit_rate": args.rate_limit_rate,
        "retry_after": 1,
        "lost_response_rate": args.lost_rate,
        "latency_ms": args.latency_ms,
    }
    async with httpx.AsyncClient() as http:
        r = await http.post(
            f"{stack.sandbox_url}/_sandbox/faults", json={s: faults for s in SERVICES}
        )
        r.raise_for_status()
    staff = Staff(stack.api_url)
    await staff.sign_in(settings)
    for order in orders:  # domestic orders leave staff a window to choose the carrier
        await client.start_workflow(
            FULFILLMENT_WORKFLOW,
            FulfillOrder(
                ebay_order_id=order.ebay_order_id,
                tracking_poll_seconds=3600,
                rate_choice_seconds=600 if order.domestic else 0,
            ),
            id=fulfillment_workflow_id(order.ebay_order_id),
            task_queue=settings.temporal_task_queue,
        )
    stop = asyncio.Event()
    counts = {"worker_kills": 0, "server_restarts": 0, "database_restarts": 0}
    monkey = asyncio.create_task(chaos_monkey(stack, pg, stop, counts, args))
    keeper = asyncio.create_task(supervise(stack, stop))
    reporter = asyncio.create_task(progress(orders, counts, stop))
    started = time.time()
    gate = asyncio.Semaphore(args.concurrency)

    async def one(order: OrderFacts) -> None:
        async with gate:
            for _ in range(5):
                try:
                    await drive_order(client, staff, stack.sandbox_url, order, args.timeout)
                    return
                except Exception as error:  # noqa: BLE001 - server restarting: drive again
                    order.outcome = f"error: {type(error).__name__}: {error}"[:200]
                    await asyncio.sleep(2)

    try:
        await asyncio.gather(*(one(o) for o in orders))
    finally:
        stop.set()
        await asyncio.gather(monkey, keeper, reporter)
    seconds = time.time() - started
    await asyncio.sleep(args.settle)  # in-flight emails and webhooks finish
    facts = await collect(client, settings, orders, stack.sandbox_url)
    await staff.http.aclose()
    return facts, {
        "counts": counts,
        "seconds": seconds,
        "faults": faults,
        "unplanned": list(stack.unplanned),
    }


def parse(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--orders", type=int, default=100)
    parser.add_argument("--fail-share", type=float, default=0.12)
    parser.add_argument("--cancel-share", type=float, default=0.07)
    parser.add_argument("--domestic-share", type=float, default=0.15, help="of shipped orders")
    parser.add_argument("--worker-kills", type=int, default=6)
    parser.add_argument("--kill-every", type=float, default=12, help="seconds between kills")
    parser.add_argument("--error-rate", type=float, default=0.10)
    parser.add_argument("--rate-limit-rate", type=float, default=0.05)
    parser.add_argument("--lost-rate", type=float, default=0.05)
    parser.add_argument("--latency-ms", type=int, default=30)
    parser.add_argument("--concurrency", type=int, default=40)
    parser.add_argument("--timeout", type=float, default=900, help="per order, seconds")
    parser.add_argument("--settle", type=float, default=5)
    parser.add_argument("--seed", default=os.environ.get("CHAOS_RANDOM_SEED", "worlddoor"))
    parser.add_argument(
        "--port-base", type=int, default=int(os.environ.get("CHAOS_PORT_BASE", "22100"))
    )
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse(argv)
    wall = time.time()
    ports = pick_ports(args.port_base)
    with tempfile.TemporaryDirectory(prefix="worlddoor-chaos-") as var_dir:
        pg = ThrowawayPostgres(ports["pg"])
        database = (
            "PostgreSQL (throwaway initdb cluster)"
            if pg.available
            else "SQLite (no PostgreSQL binaries: fallback)"
        )
        if pg.available:
            pg.start()
            url = pg.url
        else:
            url = f"sqlite:///{var_dir}/chaos.db"
        stack = Stack(var_dir, ports, url)
        # In-process Settings() (S3 checks, the ledger) must see the stack's configuration; the
        # caller's environment comes back afterwards (pytest runs other tests in this process).
        saved_environ = dict(os.environ)
        os.environ.update({k: v for k, v in stack.env.items() if os.environ.get(k) != v})
        try:
            subprocess.run(  # noqa: S603
                [sys.executable, "-m", "cli", "migrate"],
                cwd=ROOT,
                env=stack.env,
                check=True,
                capture_output=True,
            )
            stack.start("s3")
            stack.start("temporal")
            stack.start("sandbox")
            wait_port(ports["temporal"])
            wait_http(f"{stack.sandbox_url}/_sandbox/health")
            from adapters.s3 import Storage
            from config import Settings
            from sandbox.local_s3 import LocalS3

            LocalS3(Settings()).wait_ready()
            Storage(Settings()).ensure_bucket()
            stack.start("api")
            wait_http(f"{stack.api_url}/api/health", timeout=90)
            stack.start("worker-1")
            stack.start("worker-2")
            facts, meta = asyncio.run(run(stack, pg if pg.available else None, args))
        finally:
            stack.stop_all()
            if pg.available:
                pg.stop()
            os.environ.clear()
            os.environ.update(saved_environ)
        rows = verdict(facts)
        counts = meta["counts"]
        n = len(facts.orders)
        kinds = {
            k: sum(o.expected == k for o in facts.orders)
            for k in ("completed", "refunded", "cancelled")
        }
        home = sum(o.domestic for o in facts.orders)
        low, high = ephemeral_range()
        summary = [
            ("orders", f"{n}: {kinds['completed']} shipped ({home} domestic)"),
            ("", f"{kinds['refunded']} failed inspection, {kinds['cancelled']} cancelled by staff"),
            ("workers", f"2; {counts['worker_kills']} SIGKILLs"),
            ("restarted", "; ".join(meta["unplanned"]) or "no process exited by itself"),
            ("Temporal server", f"{counts['server_restarts']} kill + restart"),
            ("database", f"{database}; {counts['database_restarts']} restart(s)"),
            ("faults", f"{', '.join(SERVICES)}: {meta['faults']}"),
            ("ports", f"{min(ports.values())}-{max(ports.values())} (ephemeral {low}-{high})"),
            ("run / wall", f"{meta['seconds']:.0f} s / {time.time() - wall:.0f} s"),
        ]
        print(table(summary))
        print(render(rows))
        failed = [name for name, ok, _ in rows if not ok]
        if failed:
            print(f"chaos: FAILED ({len(failed)} checks; logs were in {var_dir}/chaos.log)")
            if os.environ.get("CHAOS_KEEP_LOG"):
                shutil.copy(Path(var_dir) / "chaos.log", os.environ["CHAOS_KEEP_LOG"])
            return 1
        print("chaos: PASSED")
        return 0


if __name__ == "__main__":
    sys.exit(main())

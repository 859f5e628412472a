"""Fulfillment throughput against a ceiling of the same shape, on the same dev server, with the
same concurrency, in the same run; Temporal actions and history events per order; carrier
tracking calls and actions per delivered order with the batched tracker.

The ceiling (`bench/bare.py` ShapeWorkflow) replays the shape read from the real orders'
histories (`bench/shape.py`): the same child workflows (inspection, label, emails), activities
(no-ops), timers, upserts, patches, updates and signals, driven by the same kind of driver
(status queries every 100 ms, then the update). Ours get their signals from the tracking
refresh, started every TRACKER_EVERY beside them; the ceiling's from a bare tracker of the same
shape (`bench/bare.py` BareTrackerWorkflow: one no-op page activity, then the signals), started
as often: the driver hands it the waiting workflow as ours moves the parcel at the carrier.
(Before, the ceiling's driver signalled directly and no tracker ran beside it: the tracker's
workflow runs were ours alone.) It is measured before and after the
real orders; the spread of the two is the noise of this machine at that moment. The vendor
emulators of the real orders run in a process of their own: their CPU is printed apart, and the
CPU of the bench process (our worker or the ceiling's, and the driver) is compared alone.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
from temporalio.client import Client
from temporalio.worker import Worker

from bench import bare
from bench.driver import (
    QUERY_INTERVAL,
    fulfil_via_tracker,
    import_orders,
    make_product,
    start_order,
)
from bench.server_requests import differences, requests_into
from bench.shape import (
    ACTION_KINDS,
    Shape,
    ShapeInput,
    actions_of,
    activity_seconds,
    family_histories,
    seconds_between,
    shape_of,
    with_status_sizes,
)
from ops.heap import freeze_startup_heap

ROUNDS = 3
"""Rounds of real orders, each between two ceiling measurements."""

TRACKER_EVERY = 0.1
"""Seconds between runs of the tracking refresh during the bench (30 minutes in production):
throughput, not the schedule's latency, is measured here."""

SETTLE_SECONDS = 11.0
"""Quiet before each measured round. The server fires a workflow-task timeout timer 10 s after
each workflow task (finished or not) and each activity's start-to-close timer when it is due:
without a pause, one round's timers fired inside the next, and the longer rounds (ours) caught
more of them (54 against 33 per order for the same count of workflow tasks). With it, each
round's workflow-task timers fire in the pause after it, on both sides alike."""

RESULTS = Path(__file__).parent / "results"
ROOT = Path(__file__).parent.parent

NAMED: dict[int, str] = {}
"""Child processes counted under a name of their own in the CPU figures (the emulators')."""

# The tracking model for a real parcel (printed beside the measured figures).
TRANSIT_DAYS = 5
POLL_HOURS = 6  # FulfillOrder.tracking_poll_seconds before batched tracking
REFRESH_MINUTES = 30  # the tracking-refresh schedule
STATUS_CHANGES = 2  # label_created -> in_transit -> delivered (the shipment statuses)


async def run(
    env: Any,
    worker: Any,  # noqa: ARG001 - the other benches' worker and emulators
    sandbox_url: str,  # noqa: ARG001
    settings: Any,
    orders: int = 20,
    metrics_url: str = "",
) -> dict[str, float]:
    """The real orders run on a worker of their own whose vendors are the emulators in a process
    of their own (`worlddoor sandbox`), as in production the vendors are not in the worker's
    process: their CPU is the vendors', counted apart ("emulators"), not billed to the bench
    process that holds our worker and the ceiling's. The passed `worker` and `sandbox_url`
    (emulators in the bench process) serve the other benches. `metrics_url`: the Temporal
    server's Prometheus endpoint, to count the requests each side asks of it per order."""
    from activities.deps import Dependencies
    from config import Settings
    from worker import build_worker

    with emulator_process() as port:
        ours = Settings(sandbox_port=port)
        queue = f"bench-fulfillment-{uuid.uuid4().hex[:6]}"
        async with build_worker(env.client, ours, deps=Dependencies(ours), task_queue=queue):
            return await _run(
                env.client, queue, f"http://127.0.0.1:{port}", settings, orders, metrics_url
            )


async def _run(
    client: Client,
    task_queue: str,
    sandbox_url: str,
    settings: Any,
    orders: int,
    metrics_url: str,
) -> dict[str, float]:
    skus = [make_product(settings) for _ in range(ROUNDS * orders + 1)]
    probe_id, *ids = await import_orders(sandbox_url, skus)
    probe = await _one_family(client, task_queue, sandbox_url, probe_id)
    shape = shape_of(probe, next(w for w in probe if w.startswith("order-")))
    shape = await with_status_sizes(client, shape)

    # ceiling, ours, ceiling, ..., ceiling: the machine's drift hits both sides alike
    bare_times: list[float] = []
    our_times: list[float] = []
    trackers: list[str] = []
    bare_trackers: list[str] = []
    calls = 0
    cpu: dict[str, dict[str, float]] = {"ours": {}, "ceiling": {}}
    rpcs: dict[str, dict[str, float]] = {"ours": {}, "ceiling": {}}
    async with ceiling_worker(client, settings) as bare_queue:
        await run_ceiling(client, bare_queue, shape, 1)  # warm, as the probe order warmed ours
        freeze_startup_heap()  # as a started worker does (worker.run_worker); both sides alike
        async with measured_round(rpcs["ceiling"], cpu["ceiling"], metrics_url):
            elapsed_bare, bare_id, ran = await run_ceiling(client, bare_queue, shape, orders)
        bare_times.append(elapsed_bare)
        bare_trackers += ran
        for round_ in range(ROUNDS):
            batch = ids[round_ * orders : (round_ + 1) * orders]
            calls_before = await _track_calls(sandbox_url)
            async with measured_round(rpcs["ours"], cpu["ours"], metrics_url):
                elapsed, ran = await run_orders(client, task_queue, sandbox_url, batch)
            calls += await _track_calls(sandbox_url) - calls_before
            our_times.append(elapsed)
            trackers += ran
            async with measured_round(rpcs["ceiling"], cpu["ceiling"], metrics_url):
                elapsed_bare, _, ran = await run_ceiling(client, bare_queue, shape, orders)
            bare_times.append(elapsed_bare)
            bare_trackers += ran

    measured = len(ids)
    ours = measured / sum(our_times)
    ceilings = [orders / t for t in bare_times]
    ceiling = orders * len(bare_times) / sum(bare_times)
    noise = (max(ceilings) - min(ceilings)) / ceiling
    elapsed = sum(our_times)
    bare_before, bare_after = min(bare_times), max(bare_times)
    per_order, our_histories = await _actions_per_order(client, ids)
    bare_actions, bare_histories = await _ceiling_actions(client, bare_id, shape)
    timing = {
        "ours": activity_seconds(our_histories),
        "ceiling": activity_seconds(bare_histories),
    }
    tracker = await _tracker_cost(client, trackers, measured)
    bare_tracker = await _tracker_cost(client, bare_trackers, orders * len(bare_times))
    per_round = round_ratios(our_times, bare_times)
    figures = {
        "fulfillment_ratio": ours / ceiling,
        "fulfillment_round_ratio_min": min(per_round),
        "fulfillment_round_ratio_max": max(per_round),
        "fulfillment_orders_per_s": ours,
        "fulfillment_ceiling_per_s": ceiling,
        "fulfillment_ceiling_noise": noise,
        "actions_per_order": per_order["actions"],
        "events_per_order": per_order["events"],
        "ceiling_actions_per_order": bare_actions["actions"],
        "tracking_calls_per_order": calls / measured,
        "tracker_actions_per_order": tracker["actions"],
        "ceiling_tracker_actions_per_order": bare_tracker["actions"],
    }
    _print(figures, per_order, bare_actions, tracker, elapsed, bare_before, bare_after, measured)
    print(
        "fulfillment  per round (ours against the ceiling's rounds on either side): "
        + ", ".join(f"{r:.2f}" for r in per_round)
    )
    print(
        f"tracking     ceiling's bare tracker (one no-op page, the signals): "
        f"{bare_tracker['actions']:.1f} actions per order ({bare_tracker['runs']} runs)"
    )
    print(
        "tracking     a run, start to close (page activity queued+running): ours "
        + ", ceiling ".join(
            f"{t['run_s'] * 1000:.0f} ms ({t['page_queued_s'] * 1000:.0f}"
            f"+{t['page_running_s'] * 1000:.0f} ms)"
            for t in (tracker, bare_tracker)
        )
    )
    _print_timing(timing, measured)
    cpu_per_order = {
        "ours": {k: v / measured for k, v in cpu["ours"].items()},
        "ceiling": {k: v / (orders * len(bare_times)) for k, v in cpu["ceiling"].items()},
    }
    _print_cpu(cpu_per_order)
    requests_per_order = {
        "ours": {k: v / measured for k, v in rpcs["ours"].items()},
        "ceiling": {k: v / (orders * len(bare_times)) for k, v in rpcs["ceiling"].items()},
    }
    _print_requests(requests_per_order)
    if cpu_per_order["ours"].get("bench"):
        # ceiling's CPU per order / ours, in the process holding the workers (1.0 = as lean)
        figures["fulfillment_worker_cpu_ratio"] = (
            cpu_per_order["ceiling"].get("bench", 0.0) / cpu_per_order["ours"]["bench"]
        )
        # ... and with the Temporal server: our system's CPU without the vendors' (emulators, S3)
        figures["fulfillment_system_cpu_ratio"] = system_cpu(cpu_per_order["ceiling"]) / (
            system_cpu(cpu_per_order["ours"]) or 1.0
        )
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "fulfillment.json").write_text(
        json.dumps(
            {
                **figures,
                "per_order": per_order,
                "ceiling_per_order": bare_actions,
                "tracker": tracker,
                "ceiling_tracker": bare_tracker,
                "timing": timing,
                "cpu_seconds_per_order": cpu_per_order,
                "server_requests_per_order": requests_per_order,
                "shape": shape.model_dump(),
                "tracking_model": tracking_model(),
            },
            indent=2,
        )
    )
    return figures


async def _one_family(
    client: Client, task_queue: str, sandbox_url: str, ebay_order_id: str
) -> dict[str, list]:
    """One order run first, alone, to read the shape the ceiling replays."""
    await run_orders(client, task_queue, sandbox_url, [ebay_order_id])
    return await family_histories(client, ebay_order_id, expected_runs=5)


async def run_orders(
    client: Client, task_queue: str, sandbox_url: str, ids: list[str]
) -> tuple[float, list[str]]:
    """The orders from start to delivered, concurrently, with the tracker running beside them
    (its runs' workflow ids are returned for their cost)."""
    from workflows.contracts.ops import TrackingRefreshInput
    from workflows.tracking_refresh import TrackingRefreshWorkflow

    async def refresh(workflow_id: str) -> None:
        await client.execute_workflow(
            TrackingRefreshWorkflow.run,
            TrackingRefreshInput(signals_carry_status=True),  # as the schedule starts it
            id=workflow_id,
            task_queue=task_queue,
        )

    async with tracking(refresh) as trackers:
        started = time.perf_counter()
        for ebay_order_id in ids:
            await start_order(client, task_queue, ebay_order_id)
        results = await asyncio.gather(*(fulfil_via_tracker(client, sandbox_url, i) for i in ids))
        elapsed = time.perf_counter() - started
    assert all(r.outcome == "completed" for r in results), results
    return elapsed, trackers


@contextlib.asynccontextmanager
async def tracking(run_once: Callable[[str], Awaitable[None]]) -> AsyncIterator[list[str]]:
    """The tracker beside the orders (ours or the ceiling's): a run, TRACKER_EVERY seconds,
    the next, until the block ends; yields the runs' workflow ids."""
    stop = asyncio.Event()
    trackers: list[str] = []

    async def loop() -> None:
        while not stop.is_set():
            workflow_id = f"bench-tracking-refresh-{uuid.uuid4().hex[:8]}"
            trackers.append(workflow_id)
            await run_once(workflow_id)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), TRACKER_EVERY)

    running = asyncio.create_task(loop())
    try:
        yield trackers
    finally:
        stop.set()
        await running


@contextlib.contextmanager
def emulator_process() -> Iterator[int]:
    """`worlddoor sandbox` (the vendor emulators, not S3) in a child process on a free port, with
    the bench's environment (its var dir holds the emulators' credentials); yields the port."""
    from bench.util import free_port, stop_process

    port = free_port()
    env = {**os.environ, "SANDBOX_PORT": str(port)}
    process = subprocess.Popen(  # noqa: S603 - our own interpreter and module
        [sys.executable, "-m", "cli", "sandbox"], cwd=ROOT, env=env
    )
    NAMED[process.pid] = "emulators"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/_sandbox/health", timeout=2).is_success:
                    break
            except httpx.TransportError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"the emulators did not start on port {port}")
            time.sleep(0.2)
        # No API runs in the bench to take SendGrid's event webhook: the emulator would retry
        # each refused batch for 24 hours (1, 2, 4 ... 60 s), a load that grows through the
        # run and is the harness's, not the back office's (its receiver is the API's).
        httpx.post(
            f"http://127.0.0.1:{port}/_sandbox/sendgrid/settings", json={"auto_events": False}
        ).raise_for_status()
        yield port
    finally:
        stop_process(process)


@contextlib.asynccontextmanager
async def ceiling_worker(client: Client, settings: Any) -> AsyncIterator[str]:
    """The ceiling's worker, kept for all its runs like ours: the real one's settings (task
    slots, activity threads) and the same client (so the same payload codec); its task queue."""
    from worker import ACTIVITY_THREADS, write_workflow_bytecode

    write_workflow_bytecode([bare.ShapeWorkflow, bare.BareTrackerWorkflow])  # as for ours
    queue = f"bare-{uuid.uuid4().hex[:6]}"
    async with Worker(
        client,
        task_queue=queue,
        workflows=[bare.ShapeWorkflow, bare.BareTrackerWorkflow],
        activities=[bare.noop, bare.tracker_page],
        activity_executor=ThreadPoolExecutor(ACTIVITY_THREADS),
        max_concurrent_activities=ACTIVITY_THREADS,
        max_concurrent_workflow_tasks=settings.worker_max_workflow_tasks,
    ):
        yield queue


async def run_ceiling(
    client: Client, queue: str, shape: Shape, count: int
) -> tuple[float, str, list[str]]:
    """`count` orders of the same shape with no-op activities, driven the same way, with the
    bare tracker beside them as ours have the real one; the time, one of their workflow ids
    and the tracker's runs."""

    async def refresh(workflow_id: str) -> None:
        await client.execute_workflow(
            bare.BareTrackerWorkflow.run, id=workflow_id, task_queue=queue
        )

    async with tracking(refresh) as trackers:
        started = time.perf_counter()
        ids = await asyncio.gather(*(_drive_ceiling(client, queue, shape) for _ in range(count)))
        elapsed = time.perf_counter() - started
    return elapsed, ids[0], trackers


async def _drive_ceiling(client: Client, queue: str, shape: Shape) -> str:
    workflow_id = f"bare-order-{uuid.uuid4().hex[:10]}"
    handle = await client.start_workflow(
        bare.ShapeWorkflow.run, ShapeInput(shape=shape), id=workflow_id, task_queue=queue
    )
    await _drive(client, workflow_id, shape)
    await client.get_workflow_handle(handle.id).result()
    return workflow_id


async def _drive(client: Client, workflow_id: str, shape: Shape) -> None:
    """The waits of this workflow and its children, in the order the shape meets them."""
    waits = 0
    children = 0
    for step in shape.steps:
        if step.kind == "child" and step.child is not None:
            await _drive(client, f"{workflow_id}/{children}", step.child)
            children += 1
        elif step.kind in bare.WAITS:
            handle = client.get_workflow_handle(workflow_id)
            await _until_waiting(handle, waits)
            # a payload of the real message's size (the codec encrypts it the same way)
            if step.kind == "update":  # staff's (the inspection's), sent by the driver
                await handle.execute_update("step", args=["x" * step.size] if step.size else [])
            else:  # the tracker's: the parcel moves, the bare tracker's next run signals
                bare.PARCELS.move(workflow_id, step.size)
            waits += 1


async def _until_waiting(handle: Any, wait: int) -> None:
    """As the real driver does: the status query every QUERY_INTERVAL until the wait is on."""
    for _ in range(int(120 / QUERY_INTERVAL)):
        if await _waiting(handle) == wait:
            return
        await asyncio.sleep(QUERY_INTERVAL)
    raise TimeoutError(f"{handle.id} never waited for its wait {wait}")


async def _waiting(handle: Any) -> int:
    from temporalio.service import RPCError

    try:
        answer = await handle.query("waiting", result_type=dict)
    except RPCError:
        return -2  # not started yet
    return int(answer["waiting"])


async def _actions_per_order(client: Client, ids: list[str]) -> tuple[dict[str, float], list[Any]]:
    """The mean actions of an order's family, and every history read."""
    totals: dict[str, float] = {}
    every: list[Any] = []
    for ebay_order_id in ids:
        runs = await family_histories(client, ebay_order_id, expected_runs=5)
        histories = [h for hs in runs.values() for h in hs]
        every += histories
        for key, value in actions_of(histories).items():
            totals[key] = totals.get(key, 0) + value
    return {key: value / len(ids) for key, value in totals.items()}, every


async def _ceiling_actions(
    client: Client, root: str, shape: Shape
) -> tuple[dict[str, int], list[Any]]:
    """The actions of one ceiling order, counted the same way from its histories (every run
    of the workflow and of each child)."""
    histories = []
    for workflow_id in _ids(root, shape):
        async for execution in client.list_workflows(f'WorkflowId = "{workflow_id}"'):
            handle = client.get_workflow_handle(execution.id, run_id=execution.run_id)
            histories.append(await handle.fetch_history())
    return actions_of(histories), histories


def _ids(workflow_id: str, shape: Shape) -> list[str]:
    ids = [workflow_id]
    for index, child in enumerate(shape.children()):
        ids += _ids(f"{workflow_id}/{index}", child)
    return ids


async def _tracker_cost(client: Client, trackers: list[str], orders: int) -> dict[str, float]:
    """Actions per order of the tracker's runs; with their count, their mean duration (start
    to close) and their page activity's mean seconds queued and running: an order waits for
    the tracker's next run to end, and the driver polls its status meanwhile."""
    histories = [await client.get_workflow_handle(w).fetch_history() for w in trackers]
    counted = actions_of(histories)
    durations = [seconds_between(h.events[0], h.events[-1]) for h in histories if h.events]
    pages = [
        v for k, v in activity_seconds(histories).items() if k not in ("workflow task", "signal")
    ]
    return {key: value / orders for key, value in counted.items()} | {
        "runs": len(trackers),
        "run_s": sum(durations) / max(len(durations), 1),
        "page_queued_s": pages[0]["queued_s"] if pages else 0.0,
        "page_running_s": pages[0]["running_s"] if pages else 0.0,
    }


async def _track_calls(sandbox_url: str) -> int:
    async with httpx.AsyncClient(timeout=30) as http:
        ledger = (await http.get(f"{sandbox_url}/_sandbox/ledger")).json()["ledger"]
    return int(ledger.get("fedex", {}).get("track_call", {}).get("total", 0))


def tracking_model(in_flight: int = 200) -> dict[str, dict[str, float]]:
    """Per delivered FedEx order over a real transit: before, each order polled every
    POLL_HOURS (an activity and a timer) and the refresh called FedEx once per shipment every
    REFRESH_MINUTES, each change signalling the order to poll again; after, the refresh asks 30
    numbers a call and signals each change with its status."""
    rounds = TRANSIT_DAYS * 24 * 60 / REFRESH_MINUTES
    polls = TRANSIT_DAYS * 24 / POLL_HOURS + STATUS_CHANGES
    before = {
        "carrier_calls": rounds + polls,
        "activities": polls,
        "timers": polls,
        "signals": STATUS_CHANGES,
    }
    after = {
        "carrier_calls": rounds / min(30, in_flight),
        "activities": 0,
        "timers": 1,
        "signals": STATUS_CHANGES,
    }
    for side in (before, after):
        side["actions"] = side["activities"] + side["timers"] + side["signals"]
    return {"before": before, "after": after}


@contextlib.contextmanager
def cpu_into(totals: dict[str, float]) -> Iterator[None]:
    """Adds the CPU seconds this process and each of its child processes (the Temporal dev
    server, the S3 emulator) spend inside the block to `totals`, by process name."""
    before = _cpu_by_process()
    yield
    for name, seconds in _cpu_by_process().items():
        totals[name] = totals.get(name, 0.0) + seconds - before.get(name, 0.0)


def _cpu_by_process() -> dict[str, float]:
    """User + system CPU seconds of this process ("bench": the workers and the driver) and of
    its descendants, summed by command name or their NAMED name (Linux /proc)."""
    tick = os.sysconf("SC_CLK_TCK")
    stats: dict[int, tuple[int, str, float]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            raw = (entry / "stat").read_text()
        except OSError:
            continue  # gone meanwhile
        name = raw[raw.index("(") + 1 : raw.rindex(")")]
        fields = raw[raw.rindex(")") + 2 :].split()
        stats[int(entry.name)] = (int(fields[1]), name, (int(fields[11]) + int(fields[12])) / tick)
    me = os.getpid()
    totals = {"bench": stats[me][2] if me in stats else 0.0}
    for pid, (_, name, seconds) in stats.items():
        parent, hops = stats[pid][0], 0
        while parent not in (me, 0, 1) and parent in stats and hops < 10:
            parent, hops = stats[parent][0], hops + 1
        if parent == me and pid != me:
            name = NAMED.get(pid, name)
            totals[name] = totals.get(name, 0.0) + seconds
    return totals


def _print_cpu(per_order: dict[str, dict[str, float]]) -> None:
    def cells(side: dict[str, float]) -> str:
        return ", ".join(
            f"{name} {seconds * 1000:.0f}" for name, seconds in sorted(side.items()) if seconds
        )

    print(
        f"fulfillment  CPU ms per order: ours {sum(per_order['ours'].values()) * 1000:.0f} "
        f"({cells(per_order['ours'])}); ceiling {sum(per_order['ceiling'].values()) * 1000:.0f} "
        f"({cells(per_order['ceiling'])})"
    )
    ours, ceiling = per_order["ours"].get("bench", 0.0), per_order["ceiling"].get("bench", 0.0)
    if ours:
        print(
            f"fulfillment  CPU of the bench process alone (our worker or the ceiling's, and the "
            f"driver; no emulators, no Temporal server): ceiling/ours {ceiling / ours:.2f} "
            f"({ceiling * 1000:.0f} / {ours * 1000:.0f} ms per order)"
        )
        system = (system_cpu(per_order["ceiling"]), system_cpu(per_order["ours"]))
        print(
            f"fulfillment  CPU of the bench process and the Temporal server (the vendors' "
            f"emulators and S3 apart, which share these cores with ours only): ceiling/ours "
            f"{system[0] / system[1]:.2f} ({system[0] * 1000:.0f} / {system[1] * 1000:.0f} ms "
            f"per order)"
        )


def _print_requests(per_order: dict[str, dict[str, float]], rows: int = 8) -> None:
    """The Temporal server's frontend requests per order where the two sides differ most."""
    if not per_order["ours"]:
        return
    total = {
        side: sum(v for k, v in counts.items() if k.startswith("frontend."))
        for side, counts in per_order.items()
    }
    cells = ", ".join(
        f"{operation} {ours:.1f}/{ceiling:.1f}"
        for operation, ours, ceiling in differences(per_order["ours"], per_order["ceiling"])[:rows]
    )
    print(
        f"server       frontend requests per order, ours/ceiling: {total['ours']:.0f}/"
        f"{total['ceiling']:.0f}; most apart: {cells}"
    )


def system_cpu(side: dict[str, float]) -> float:
    """CPU seconds per order of the workers' process and the Temporal server."""
    return side.get("bench", 0.0) + side.get("temporal", 0.0)


def _print_timing(timing: dict[str, dict[str, dict[str, float]]], orders: int) -> None:
    """Where an order's time goes: per activity type (and workflow task), attempts per order,
    mean seconds queued and running; the ceiling's no-op and workflow tasks beside."""
    ours = sorted(timing["ours"].items(), key=lambda kv: -kv[1]["attempts"] * kv[1]["running_s"])

    def cell(name: str, t: dict[str, float], per: float) -> str:
        if name in ("signal", "update"):  # idle until the driver or the tracker sent it
            return f"idle until {name} {t['attempts'] / per:.0f}x {t['queued_s'] * 1000:.0f} ms"
        return (
            f"{name} {t['attempts'] / per:.0f}x {t['queued_s'] * 1000:.0f}+"
            f"{t['running_s'] * 1000:.0f} ms"
        )

    print(
        "fulfillment  time per order (count, mean ms queued+running): "
        + ", ".join(cell(name, t, orders) for name, t in ours)
    )
    print(
        "fulfillment  ceiling, one order: "
        + ", ".join(cell(name, t, 1) for name, t in timing["ceiling"].items())
    )


@contextlib.asynccontextmanager
async def measured_round(
    requests: dict[str, float], cpu: dict[str, float], metrics_url: str
) -> AsyncIterator[None]:
    """One side's round: after SETTLE_SECONDS of quiet, the server's requests and each
    process's CPU inside the block are added to `requests` and `cpu`."""
    await asyncio.sleep(SETTLE_SECONDS)
    async with requests_into(requests, metrics_url):
        with cpu_into(cpu):
            yield


def round_ratios(our_times: list[float], bare_times: list[float]) -> list[float]:
    """Each round of ours against the ceiling's rounds just before and after it (same orders
    per round): how far the ratio moves inside one run, where the machine's speed drifts."""
    return [
        (bare_times[i] + bare_times[i + 1]) / 2 / our_time for i, our_time in enumerate(our_times)
    ]


def _print(
    figures: dict[str, float],
    per_order: dict[str, float],
    ceiling: dict[str, int],
    tracker: dict[str, float],
    elapsed: float,
    bare_before: float,
    bare_after: float,
    orders: int,
) -> None:
    def kinds(counted: dict[str, Any]) -> str:
        return ", ".join(f"{k} {counted.get(k, 0):.1f}" for k in ACTION_KINDS)

    print(
        f"fulfillment  {orders} orders eBay import -> delivered (inspection, label, 2 emails, "
        f"tracker), {ROUNDS} rounds: {figures['fulfillment_orders_per_s']:.2f} orders/s "
        f"({elapsed:.1f} s)"
    )
    print(
        f"fulfillment  ceiling, same shape, no-op activities: "
        f"{figures['fulfillment_ceiling_per_s']:.2f} orders/s ({ROUNDS + 1} runs of "
        f"{orders // ROUNDS} orders, {bare_before:.1f}-{bare_after:.1f} s; noise (max-min)/mean "
        f"{figures['fulfillment_ceiling_noise']:.0%})"
    )
    print(f"fulfillment  ratio: {figures['fulfillment_ratio']:.2f} of the ceiling (target 0.8)")
    print(
        f"fulfillment  per order: {per_order['actions']:.1f} actions ({kinds(per_order)}), "
        f"{per_order['events']:.0f} history events; ceiling {ceiling['actions']} actions, "
        f"{ceiling['events']} events"
    )
    print(
        f"tracking     per delivered order: {figures['tracking_calls_per_order']:.2f} FedEx "
        f"track calls, tracker {tracker['actions']:.1f} actions ({tracker['runs']} runs "
        f"every {TRACKER_EVERY} s)"
    )
    model = tracking_model()
    print(
        f"tracking     model, {TRANSIT_DAYS} days in transit, 200 parcels in flight: carrier "
        f"calls {model['before']['carrier_calls']:.0f} -> {model['after']['carrier_calls']:.1f}, "
        f"order actions {model['before']['actions']:.0f} -> {model['after']['actions']:.0f} "
        f"per delivered order"
    )

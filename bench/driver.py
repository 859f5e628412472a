"""Plays the humans and the outside world for one order, as staff and a courier would:
import on eBay, inspection with a real upload, courier delivery, then the workflow's result.
Shared by the fulfillment benchmark and the chaos run."""

from __future__ import annotations

import asyncio
import functools
import ssl
import uuid
import weakref
from typing import Any

import httpx
from temporalio.client import Client, WorkflowHandle
from temporalio.service import RPCError

from temporal_client import order_search_attributes
from workflows.contracts.fulfillment import (
    FULFILLMENT_WORKFLOW,
    FulfillmentStatus,
    FulfillOrder,
    fulfillment_workflow_id,
)
from workflows.contracts.inspection import (
    InspectionSubmission,
    RequestUpload,
    inspection_workflow_id,
)

QUERY_INTERVAL = 0.1


@functools.cache
def TLS() -> ssl.SSLContext:  # noqa: N802 - a constant built once
    """One TLS context for the driver's clients (each new one otherwise loads the CA bundle)."""
    return ssl.create_default_context()


_OUTSIDE: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, httpx.AsyncClient] = (
    weakref.WeakKeyDictionary()
)


def outside() -> httpx.AsyncClient:
    """The outside world's HTTP client (the inspector's phone, the courier's scanner), one per
    event loop and kept: a new client per call cost the bench process about as much as the
    calls themselves, which the ceiling's driver (no HTTP) does not pay."""
    loop = asyncio.get_running_loop()
    client = _OUTSIDE.get(loop)
    if client is None:
        client = _OUTSIDE[loop] = httpx.AsyncClient(timeout=30, verify=TLS())
    return client


def make_product(settings: Any) -> str:
    from models import Product
    from models.db import session_scope

    sku = f"BENCH-{uuid.uuid4().hex[:8]}"
    with session_scope(settings) as session:
        session.add(
            Product(
                sku=sku,
                title_ja="ビンテージ腕時計",
                price_jpy=30000,
                quantity=0,
                weight_g=400,
                hs_code="910211",
            )
        )
    return sku


async def import_orders(sandbox_url: str, skus: list[str]) -> list[str]:
    async with httpx.AsyncClient(timeout=30, verify=TLS()) as http:
        answer = await http.post(
            f"{sandbox_url}/_sandbox/orders", json={"orders": [{"sku": s} for s in skus]}
        )
        answer.raise_for_status()
        return [o["orderId"] for o in answer.json()["orders"]]


async def start_order(client: Client, task_queue: str, ebay_order_id: str) -> WorkflowHandle:
    return await client.start_workflow(
        FULFILLMENT_WORKFLOW,
        FulfillOrder(ebay_order_id=ebay_order_id, tracking_poll_seconds=3600),
        id=fulfillment_workflow_id(ebay_order_id),
        task_queue=task_queue,
        search_attributes=order_search_attributes(ebay_order_id),  # as the order sync starts it
    )


async def _query(handle: WorkflowHandle, name: str, result_type: Any) -> Any:
    try:
        return await handle.query(name, result_type=result_type)
    except RPCError:
        return None  # not started yet, or the worker is down: ask again


async def _until(
    handle: WorkflowHandle, name: str, result_type: Any, done: Any, timeout: float
) -> Any:
    deadline = asyncio.get_running_loop().time() + timeout
    status = None
    while asyncio.get_running_loop().time() < deadline:
        status = await _query(handle, name, result_type)
        if status is not None and done(status):
            return status
        await asyncio.sleep(QUERY_INTERVAL)
    raise TimeoutError(f"{handle.id}: {name} never satisfied the condition (last: {status})")


async def inspect(client: Client, order_id: str, timeout: float) -> None:
    from workflows.contracts.inspection import InspectionStatus, UploadTarget

    handle = client.get_workflow_handle(inspection_workflow_id(order_id))
    status = await _until(
        handle,
        "status",
        InspectionStatus,
        lambda s: s.step in ("awaiting_result", "recording", "done"),
        timeout,
    )
    if status.step != "awaiting_result":
        return  # already inspected (the driver is retrying after a crash)
    targets = await handle.execute_update(
        "request_upload", RequestUpload(file_names=["check.mp4"]), result_type=list[UploadTarget]
    )
    for target in targets:
        file = ("check.mp4", b"\x00" * 256, target.content_type)
        (
            await outside().post(target.url, data=target.fields, files={"file": file})
        ).raise_for_status()
    await handle.execute_update(
        "submit_result",
        InspectionSubmission(
            answers={item.key: True for item in status.checklist},
            media_keys=[t.key for t in targets],
            inspector_id=str(uuid.uuid4()),
        ),
    )


async def advance_parcel(sandbox_url: str, tracking_number: str, to: str) -> None:
    """The parcel moves on FedEx's side (a scan the tracker will read)."""
    (
        await outside().post(
            f"{sandbox_url}/_sandbox/fedex/advance",
            json={"tracking_number": tracking_number, "to": to},
        )
    ).raise_for_status()


async def fulfil_via_tracker(
    client: Client, sandbox_url: str, ebay_order_id: str, timeout: float = 120
) -> Any:
    """Drive one started order to its result as production does after shipping: the parcel is
    scanned in transit, then delivered, and the `tracking-refresh` schedule (run by the caller)
    tells the order; nobody signals it directly."""
    from workflows.contracts.fulfillment import FulfillmentResult

    handle = client.get_workflow_handle(fulfillment_workflow_id(ebay_order_id))
    status = await _until(handle, "status", FulfillmentStatus, lambda s: bool(s.order_id), timeout)
    await inspect(client, status.order_id, timeout)
    status = await _until(
        handle,
        "status",
        FulfillmentStatus,
        lambda s: s.step == "in_transit" and bool(s.tracking_number),
        timeout,
    )
    await advance_parcel(sandbox_url, status.tracking_number, "in_transit")
    await _until(
        handle, "status", FulfillmentStatus, lambda s: s.tracking_status == "in_transit", timeout
    )
    await advance_parcel(sandbox_url, status.tracking_number, "delivered")
    latest = client.get_workflow_handle(handle.id, result_type=FulfillmentResult)
    return await asyncio.wait_for(latest.result(), timeout)


async def fulfil(client: Client, sandbox_url: str, ebay_order_id: str, timeout: float = 120) -> Any:
    """Drive one started order to its result."""
    handle = client.get_workflow_handle(fulfillment_workflow_id(ebay_order_id))
    status = await _until(handle, "status", FulfillmentStatus, lambda s: bool(s.order_id), timeout)
    await inspect(client, status.order_id, timeout)
    status = await _until(
        handle,
        "status",
        FulfillmentStatus,
        lambda s: (s.step == "in_transit" and bool(s.tracking_number)) or s.step == "completed",
        timeout,
    )
    if status.step == "in_transit":
        async with httpx.AsyncClient(timeout=30, verify=TLS()) as http:
            (
                await http.post(
                    f"{sandbox_url}/_sandbox/fedex/advance",
                    json={"tracking_number": status.tracking_number, "to": "delivered"},
                )
            ).raise_for_status()
        await handle.signal("tracking_refresh")
    from workflows.contracts.fulfillment import FulfillmentResult

    # The latest run (the tracking loop may have continued as new).
    latest = client.get_workflow_handle(handle.id, result_type=FulfillmentResult)
    while True:
        try:
            return await asyncio.wait_for(latest.result(), timeout)
        except RPCError:
            await asyncio.sleep(0.5)  # server restarting: ask again

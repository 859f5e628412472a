"""OrderFulfillmentWorkflow end to end: an order imported on the eBay emulator, the real worker on
the dev server, FedEx/Yamato/SendGrid emulators over HTTP, S3 (SeaweedFS) and the real database."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import httpx
import pytest
from sqlmodel import select
from temporalio.api.enums.v1 import EventType
from temporalio.client import WorkflowHandle, WorkflowUpdateFailedError
from temporalio.service import RPCError

from tests.uploads import apost_upload
from tests.workflows.conftest import record_history
from workflows.contracts.email import email_workflow_id
from workflows.contracts.fulfillment import (
    CANCEL_SIGNAL,
    FAILED_INSPECTION_DECISION_SIGNAL,
    CancelOrder,
    FailedInspectionDecision,
    FulfillmentStatus,
    FulfillOrder,
    fulfillment_workflow_id,
)
from workflows.contracts.inspection import (
    InspectionSubmission,
    RequestUpload,
    inspection_workflow_id,
)
from workflows.contracts.label import label_workflow_id
from workflows.fulfillment import OrderFulfillmentWorkflow
from workflows.inspection import InspectionWorkflow
from workflows.label import LabelWorkflow

pytestmark = pytest.mark.timeout(120)


@pytest.fixture(scope="module")
def bucket(settings, sandbox):
    from adapters.s3 import Storage

    Storage(settings).ensure_bucket()


def make_product(settings, quantity: int = 0, offer_id: str = "") -> str:
    from models import Product
    from models.db import session_scope

    sku = f"FUL-{uuid.uuid4().hex[:8]}"
    with session_scope(settings) as session:
        session.add(
            Product(
                sku=sku,
                title_ja="ビンテージ腕時計",
                price_jpy=30000,
                quantity=quantity,
                weight_g=400,
                category_hint="watch",
                hs_code="910211",
                ebay_offer_id=offer_id,
            )
        )
    return sku


def list_on_ebay(settings, sku: str, quantity: int) -> str:
    """A published offer on the eBay emulator, through the real adapter; returns the offer id."""
    from adapters.ebay import EbayClient, InventoryItem, OfferDraft

    ebay = EbayClient(settings)
    ebay.ensure_inventory_location()
    ebay.put_inventory_item(
        sku,
        InventoryItem(
            title=f"Vintage Seiko watch {sku}",
            description="A vintage automatic watch.",
            aspects={"Brand": ["Seiko"]},
            image_urls=["https://example.com/watch.jpg"],
            condition="used_excellent",
            quantity=quantity,
        ),
    )
    offer_id = ebay.create_or_get_offer(
        OfferDraft(
            sku=sku,
            price_value="150.00",
            currency="USD",
            quantity=quantity,
            category_id="31387",
            listing_description="A vintage automatic watch.",
        )
    )
    ebay.publish_offer(offer_id)
    return offer_id


def import_order(sandbox, sku: str, **spec: Any) -> str:
    answer = httpx.post(
        f"{sandbox.base_url}/_sandbox/orders", json={"orders": [{"sku": sku, **spec}]}
    )
    answer.raise_for_status()
    return answer.json()["orders"][0]["orderId"]


async def start(worker, ebay_order_id: str, **options: Any) -> WorkflowHandle:
    return await worker.client.start_workflow(
        OrderFulfillmentWorkflow.run,
        FulfillOrder(ebay_order_id=ebay_order_id, **{"tracking_poll_seconds": 3600, **options}),
        id=fulfillment_workflow_id(ebay_order_id),
        task_queue=worker.task_queue,
    )


async def wait_for(handle, predicate, what: str, query=OrderFulfillmentWorkflow.status):
    status = None
    for _ in range(300):
        try:
            status = await handle.query(query)
        except RPCError:  # a child workflow not started yet
            status = None
        if status is not None and predicate(status):
            return status
        await asyncio.sleep(0.05)
    raise AssertionError(f"never reached {what}: {status}")


async def inspect(worker, order_id: str, passed: bool) -> None:
    """The inspector: presigned upload of a real file, then the verdict through the update."""
    handle = worker.client.get_workflow_handle(inspection_workflow_id(order_id))
    status = await wait_for(
        handle, lambda s: s.step == "awaiting_result", "inspection", InspectionWorkflow.status
    )
    targets = await handle.execute_update(
        InspectionWorkflow.request_upload, RequestUpload(file_names=["check.mp4"])
    )
    for target in targets:
        (await apost_upload(target.model_dump(), b"\x00" * 128)).raise_for_status()
    answers = {item.key: passed or item.key != "functions" for item in status.checklist}
    await handle.execute_update(
        InspectionWorkflow.submit_result,
        InspectionSubmission(
            answers=answers,
            media_keys=[t.key for t in targets],
            inspector_id=str(uuid.uuid4()),
            notes="" if passed else "movement stops after an hour",
        ),
    )


async def call(method: str, url: str, **kwargs: Any) -> httpx.Response:
    async with httpx.AsyncClient() as http:
        return await http.request(method, url, **kwargs)


def order_row(settings, ebay_order_id: str):
    from models import Order
    from models.db import session_scope

    with session_scope(settings) as session:
        return session.exec(select(Order).where(Order.ebay_order_id == ebay_order_id)).one()


def shipment_row(settings, shipment_id: str):
    from models import Shipment
    from models.db import session_scope

    with session_scope(settings) as session:
        return session.get(Shipment, uuid.UUID(shipment_id))


def product_row(settings, sku: str):
    from models import Product
    from models.db import session_scope

    with session_scope(settings) as session:
        return session.exec(select(Product).where(Product.sku == sku)).one()


async def emails(sandbox, template: str, ebay_order_id: str) -> int:
    key = email_workflow_id(template, ebay_order_id)
    for _ in range(100):  # the email child is abandoned, it may finish just after the parent
        if sandbox.ctx.ledger.count("sendgrid", "email_accepted", key):
            break
        await asyncio.sleep(0.05)
    return sandbox.ctx.ledger.count("sendgrid", "email_accepted", key)


async def order_family(client, ebay_order_id: str, expected: set[str]) -> set[str]:
    """The README's saved query `OrderId = "..."` (visibility is eventually consistent)."""
    found: set[str] = set()
    for _ in range(200):
        found = {
            execution.id
            async for execution in client.list_workflows(f'OrderId = "{ebay_order_id}"')
        }
        if expected <= found:
            break
        await asyncio.sleep(0.05)
    return found


async def test_international_order_from_import_to_delivered(
    worker, settings, sandbox, bucket
) -> None:
    from adapters.s3 import Storage

    sku = make_product(settings)
    ebay_order_id = import_order(sandbox, sku, country_code="US", buyer_email="pat@example.com")
    # one tracking signal per run: the tracker's first one continues as new
    handle = await start(worker, ebay_order_id, polls_per_run=1)
    status = await wait_for(handle, lambda s: s.step == "inspecting", "inspecting")
    # the step is set before the activity that writes it to the order row finishes
    for _ in range(200):
        if order_row(settings, ebay_order_id).status == "inspecting":
            break
        await asyncio.sleep(0.05)
    assert order_row(settings, ebay_order_id).status == "inspecting"
    await inspect(worker, status.order_id, passed=True)

    status = await wait_for(handle, lambda s: s.step == "in_transit", "in transit")
    assert (
        status.carrier == "fedex"
        and status.tracking_number
        and status.inspection_result == "passed"
    )
    # Too late to cancel once the label is bought.
    with pytest.raises(WorkflowUpdateFailedError) as err:
        await handle.execute_update(
            OrderFulfillmentWorkflow.cancel, CancelOrder(reason="buyer asked")
        )
    assert "too late" in str(err.value.cause)

    # The carrier scans the parcel; the scheduled tracker (batched) tells the order, which
    # handles one signal per run (polls_per_run=1) and continues as new.
    await carrier_moves(worker, sandbox, status.tracking_number, "in_transit")
    await wait_for(
        handle, lambda s: s.tracking_status == "in_transit", "tracker's in_transit signal"
    )
    await carrier_moves(worker, sandbox, status.tracking_number, "delivered")
    result = await handle.result()
    assert result.outcome == "completed" and result.tracking_number == status.tracking_number
    # the order never tracked its parcel itself: only the tracker's two batched requests did
    assert sandbox.ctx.ledger.count("fedex", "tracked", status.tracking_number) == 2

    ledger = sandbox.ctx.ledger
    assert ledger.count("ebay", "fulfillment", ebay_order_id) == 1
    assert ledger.count("ebay", "refund", ebay_order_id) == 0
    assert await emails(sandbox, "order_confirmation", ebay_order_id) == 1
    assert await emails(sandbox, "shipping_notification", ebay_order_id) == 1
    order = order_row(settings, ebay_order_id)
    assert order.status == "completed" and order.completed_at is not None
    shipment = shipment_row(settings, result.shipment_id)
    assert shipment.status == "delivered" and shipment.tracking_number == result.tracking_number
    assert shipment.label_key == f"shipping-labels/{result.shipment_id}.pdf"
    assert Storage(settings).get_bytes(shipment.label_key).startswith(b"%PDF")
    assert shipment.ebay_fulfillment_id

    latest = worker.client.get_workflow_handle(fulfillment_workflow_id(ebay_order_id))
    assert (await latest.describe()).run_id != handle.result_run_id  # continued as new
    final: FulfillmentStatus = await latest.query(OrderFulfillmentWorkflow.status)
    assert final.step == "completed" and final.tracking_status == "delivered"
    # One query finds the order's whole family: fulfillment, inspection, label and emails.
    family = {
        fulfillment_workflow_id(ebay_order_id),
        inspection_workflow_id(status.order_id),
        label_workflow_id(result.shipment_id),
        email_workflow_id("order_confirmation", ebay_order_id),
        email_workflow_id("shipping_notification", ebay_order_id),
    }
    assert await order_family(worker.client, ebay_order_id, family) == family

    first_run = worker.client.get_workflow_handle(handle.id, run_id=handle.result_run_id)
    # One patch marker per order run (each costs a billed TemporalChangeVersion upsert): its
    # ORDER_FAMILY_PATCH; children are started lean and check none, emails ask no separate
    # suppression check, and the label upserts only label_ready.
    from temporalio.api.enums.v1 import EventType

    histories = {
        wid: await worker.client.get_workflow_handle(wid).fetch_history() for wid in family
    }
    histories["first run"] = await first_run.fetch_history()

    def count(wid: str, kind: EventType.ValueType) -> int:
        return sum(1 for e in histories[wid].events if e.event_type == kind)

    markers = {wid: count(wid, EventType.EVENT_TYPE_MARKER_RECORDED) for wid in histories}
    order_runs = [markers.pop("first run"), markers.pop(fulfillment_workflow_id(ebay_order_id))]
    assert order_runs == [1, 1] and not any(markers.values()), (order_runs, markers)
    label_id = label_workflow_id(result.shipment_id)
    assert count(label_id, EventType.EVENT_TYPE_UPSERT_WORKFLOW_SEARCH_ATTRIBUTES) == 1
    email_id = email_workflow_id("order_confirmation", ebay_order_id)
    assert count(email_id, EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED) == 1
    # first run: up to continue-as-new (order_delivered.json is the same before batched tracking)
    await record_history(first_run, "order_delivered_lean_family")
    await record_history(latest, "order_tracking_resumed_lean_family")
    await record_history(worker.client.get_workflow_handle(label_id), "label_fedex_lean")
    inspection = worker.client.get_workflow_handle(inspection_workflow_id(status.order_id))
    await record_history(inspection, "inspection_passed_lean")
    await record_history(worker.client.get_workflow_handle(email_id), "email_sent_lean")


async def carrier_moves(worker, sandbox, tracking_number: str, to: str) -> None:
    """The parcel moves on FedEx's side, then the `tracking-refresh` schedule's run."""
    from workflows.contracts.ops import TrackingRefreshInput
    from workflows.tracking_refresh import TrackingRefreshWorkflow

    advance = await call(
        "POST",
        f"{sandbox.base_url}/_sandbox/fedex/advance",
        json={"tracking_number": tracking_number, "to": to},
    )
    advance.raise_for_status()
    await worker.client.execute_workflow(
        TrackingRefreshWorkflow.run,
        TrackingRefreshInput(signals_carry_status=True),  # as the schedule starts it
        id=f"tracking-refresh-{uuid.uuid4().hex[:8]}",
        task_queue=worker.task_queue,
    )


async def test_domestic_order_through_yamato_csv_handoff(worker, settings, sandbox, bucket) -> None:
    from adapters.s3 import Storage

    sku = make_product(settings)
    ebay_order_id = import_order(sandbox, sku, domestic=True, buyer_email="taro@example.jp")
    # left in transit a second after shipping: Yamato's page is not read, nothing signals
    handle = await start(
        worker,
        ebay_order_id,
        preferred_carrier="yamato",
        tracking_poll_seconds=1,
        max_tracking_polls=1,
    )
    status = await wait_for(handle, lambda s: s.step == "inspecting", "inspecting")
    await inspect(worker, status.order_id, passed=True)
    status = await wait_for(handle, lambda s: s.step == "labelling" and s.shipment_id, "labelling")
    label = worker.client.get_workflow_handle(label_workflow_id(status.shipment_id))
    label_status = await wait_for(
        label, lambda s: s.step == "awaiting_tracking", "hand-off", LabelWorkflow.status
    )
    assert label_status.carrier == "yamato"
    assert label_status.handoff_key == f"documents/yamato/{status.shipment_id}.csv"
    csv = Storage(settings).get_bytes(label_status.handoff_key)

    # Staff upload the CSV to B2 Cloud (the carrier side) and get the issued number back.
    imported = await call(
        "POST",
        f"{sandbox.base_url}/_sandbox/yamato/b2/import",
        content=csv,
        headers={"Content-Type": "text/csv"},
    )
    imported.raise_for_status()
    history = await call("GET", f"{sandbox.base_url}/_sandbox/yamato/b2/history")
    history.raise_for_status()
    from adapters.carriers.yamato import YamatoCarrier

    issued = dict(YamatoCarrier(settings).parse_issued_history(history.content))
    tracking = issued[f"label:{status.shipment_id}"]

    with pytest.raises(WorkflowUpdateFailedError) as err:  # wrong check digit
        bad = tracking[:11] + str((int(tracking[11]) + 1) % 10)
        await label.execute_update(LabelWorkflow.submit_tracking, {"tracking_number": bad})
    assert "not a yamato tracking number" in str(err.value.cause)
    await label.execute_update(LabelWorkflow.submit_tracking, {"tracking_number": tracking})

    result = await handle.result()
    assert (
        result.outcome == "in_transit"
        and result.carrier == "yamato"
        and result.tracking_number == tracking
    )
    assert sandbox.ctx.ledger.count("ebay", "fulfillment", ebay_order_id) == 1
    assert await emails(sandbox, "shipping_notification", ebay_order_id) == 1
    assert order_row(settings, ebay_order_id).status == "shipped"
    await record_history(handle, "order_domestic_in_transit_batched")
    await record_history(label, "label_yamato_handoff")


async def test_failed_inspection_waits_for_staff_and_writes_the_unit_off(
    worker, settings, sandbox, bucket
) -> None:
    from adapters.ebay import EbayClient

    sku = make_product(settings, quantity=1)
    offer_id = list_on_ebay(settings, sku, quantity=1)
    _set_offer(settings, sku, offer_id)
    ebay_order_id = import_order(sandbox, sku, country_code="GB", buyer_email="sam@example.co.uk")
    handle = await start(worker, ebay_order_id)
    status = await wait_for(handle, lambda s: s.step == "inspecting", "inspecting")
    assert product_row(settings, sku).quantity == 0  # the import took the sold unit off
    await inspect(worker, status.order_id, passed=False)
    waiting = await wait_for(handle, lambda s: s.step == "awaiting_decision", "decision")
    assert waiting.decision is not None and waiting.decision.deadline
    assert sandbox.ctx.ledger.count("ebay", "refund", ebay_order_id) == 0  # staff decide first
    await handle.execute_update(
        OrderFulfillmentWorkflow.decide_failed_inspection,
        FailedInspectionDecision(refund="now", unit="write_off", staff_id="s1"),
    )
    result = await handle.result()
    assert result.outcome == "refunded"

    final = await handle.query(OrderFulfillmentWorkflow.status)
    assert final.inspection_result == "failed" and final.compensation is not None
    assert final.compensation.refunded and final.compensation.apology_sent
    assert not final.compensation.stock_restored  # a damaged unit is not back on sale
    assert final.decision and final.decision.unit == "write_off"
    assert sandbox.ctx.ledger.count("ebay", "refund", ebay_order_id) == 1
    assert sandbox.ctx.ledger.count("ebay", "fulfillment", ebay_order_id) == 0
    assert await emails(sandbox, "order_cancelled", ebay_order_id) == 1
    assert product_row(settings, sku).quantity == 0
    assert movements(settings, ebay_order_id) == [("sale", -1), ("write_off", 0)]
    assert EbayClient(settings).get_offers(sku)[0]["availableQuantity"] <= 1  # never raised
    order = order_row(settings, ebay_order_id)
    assert order.status == "refunded" and "inspection failed" in order.cancel_reason
    await record_history(handle, "order_inspection_failed_decided")


async def test_failed_inspection_relisted_under_another_condition(
    worker, settings, sandbox, bucket
) -> None:
    sku = make_product(settings, quantity=3)
    ebay_order_id = import_order(sandbox, sku, country_code="US", buyer_email="al@example.com")
    handle = await start(worker, ebay_order_id)
    status = await wait_for(handle, lambda s: s.step == "inspecting", "inspecting")
    await inspect(worker, status.order_id, passed=False)
    await wait_for(handle, lambda s: s.step == "awaiting_decision", "decision")
    await handle.execute_update(
        OrderFulfillmentWorkflow.decide_failed_inspection,
        FailedInspectionDecision(refund="now", unit="relist", condition="for_parts", note="dent"),
    )
    assert (await handle.result()).outcome == "refunded"
    assert product_row(settings, sku).quantity == 2  # sold one; it does not come back as new
    copy = relisted_copy(settings, sku)
    assert copy.quantity == 1 and copy.condition == "for_parts" and copy.status == "draft"
    assert movements(settings, ebay_order_id) == [("relist", 0), ("sale", -1)]


async def test_staff_cancel_compensates(worker, settings, sandbox, bucket) -> None:
    sku = make_product(settings, quantity=2)
    ebay_order_id = import_order(sandbox, sku, country_code="DE", buyer_email="kim@example.de")
    handle = await start(worker, ebay_order_id)
    status = await wait_for(handle, lambda s: s.step == "inspecting", "inspecting")
    with pytest.raises(WorkflowUpdateFailedError) as err:
        await handle.execute_update(OrderFulfillmentWorkflow.cancel, CancelOrder(reason="  "))
    assert "reason is required" in str(err.value.cause)
    accepted = await handle.execute_update(
        OrderFulfillmentWorkflow.cancel,
        CancelOrder(reason="out of stock at the warehouse", staff_id="s1"),
    )
    assert accepted.cancel_reason == "out of stock at the warehouse"
    result = await handle.result()
    assert result.outcome == "cancelled"
    assert sandbox.ctx.ledger.count("ebay", "refund", ebay_order_id) == 1
    assert await emails(sandbox, "order_cancelled", ebay_order_id) == 1
    assert product_row(settings, sku).quantity == 2  # sold one (-1), cancelled (+1)
    assert movements(settings, ebay_order_id) == [("cancel_restock", 1), ("sale", -1)]
    order = order_row(settings, ebay_order_id)
    assert order.status == "cancelled" and "out of stock" in order.cancel_reason
    inspection = worker.client.get_workflow_handle(inspection_workflow_id(status.order_id))
    assert (await inspection.describe()).status.name == "CANCELED"
    await record_history(handle, "order_cancelled_by_staff")

    # The order sync starting the workflow again for this order changes nothing.
    rerun = await start(worker, ebay_order_id)
    assert (await rerun.result()).outcome == "cancelled"
    assert sandbox.ctx.ledger.count("ebay", "refund", ebay_order_id) == 1
    assert product_row(settings, sku).quantity == 2


async def command(handle, signal: str, request) -> FulfillmentStatus:
    """The API's way (api/workflows.py `command`): the signal, then its answer in the status."""
    await handle.signal(signal, request)
    status = await wait_for(
        handle,
        lambda s: any(a.request_id == request.request_id for a in s.answers),
        f"the answer to {request.request_id}",
    )
    return status


def answer(status: FulfillmentStatus, request_id: str):
    return next(a for a in status.answers if a.request_id == request_id)


async def test_staff_cancel_by_signal_is_answered_in_the_status(
    worker, settings, sandbox, bucket
) -> None:
    sku = make_product(settings, quantity=2)
    ebay_order_id = import_order(sandbox, sku, country_code="DE", buyer_email="jo@example.de")
    handle = await start(worker, ebay_order_id)
    await wait_for(handle, lambda s: s.step == "inspecting", "inspecting")
    blank = await command(handle, CANCEL_SIGNAL, CancelOrder(reason="  ", request_id="r1"))
    refused = answer(blank, "r1")
    assert not refused.accepted and "reason is required" in refused.reason
    assert blank.cancel_reason == "" and blank.step == "inspecting"  # a refusal changes nothing
    accepted = await command(
        handle,
        CANCEL_SIGNAL,
        CancelOrder(reason="out of stock at the warehouse", staff_id="s1", request_id="r2"),
    )
    assert answer(accepted, "r2").accepted
    assert accepted.cancel_reason == "out of stock at the warehouse"
    again = await command(handle, CANCEL_SIGNAL, CancelOrder(reason="twice", request_id="r3"))
    assert answer(again, "r3").reason == "the order is already being cancelled"
    assert (await handle.result()).outcome == "cancelled"
    assert sandbox.ctx.ledger.count("ebay", "refund", ebay_order_id) == 1
    assert await emails(sandbox, "order_cancelled", ebay_order_id) == 1
    assert product_row(settings, sku).quantity == 2
    final = await handle.query(OrderFulfillmentWorkflow.status)
    assert [a.request_id for a in final.answers] == ["r1", "r2", "r3"]
    await record_history(handle, "order_cancel_signalled")


async def test_a_cancel_signalled_before_the_inspection_is_taken_while_inspecting(
    worker, settings, sandbox, bucket
) -> None:
    """A cancel that comes before the inspection (here with the start) waits: the order takes
    it while it waits for the inspector, so a cancel handled just before or just after an
    activity or child result gives the same commands (a status query can run ahead of a task;
    a chaos run failed an order on a cancel beside the confirmation email's result)."""
    sku = make_product(settings, quantity=1)
    ebay_order_id = import_order(sandbox, sku, country_code="DE", buyer_email="lu@example.de")
    handle = await worker.client.start_workflow(
        OrderFulfillmentWorkflow.run,
        FulfillOrder(ebay_order_id=ebay_order_id, tracking_poll_seconds=3600),
        id=fulfillment_workflow_id(ebay_order_id),
        task_queue=worker.task_queue,
        start_signal=CANCEL_SIGNAL,
        start_signal_args=[CancelOrder(reason="buyer asked", request_id="c0")],
    )
    assert (await handle.result()).outcome == "cancelled"
    final = await handle.query(OrderFulfillmentWorkflow.status)
    assert [(a.request_id, a.accepted) for a in final.answers] == [("c0", True)]
    assert await emails(sandbox, "order_confirmation", ebay_order_id) == 1  # sent before
    inspection = worker.client.get_workflow_handle(inspection_workflow_id(final.order_id))
    assert (await inspection.describe()).status.name == "CANCELED"
    assert sandbox.ctx.ledger.count("ebay", "refund", ebay_order_id) == 1
    await record_history(handle, "order_cancel_signalled_at_start")


async def test_failed_inspection_decided_by_signal_after_contacting_the_buyer(
    worker, settings, sandbox, bucket
) -> None:
    sku = make_product(settings, quantity=1)
    ebay_order_id = import_order(sandbox, sku, country_code="US", buyer_email="lee@example.com")
    handle = await start(worker, ebay_order_id)
    status = await wait_for(handle, lambda s: s.step == "inspecting", "inspecting")
    await inspect(worker, status.order_id, passed=False)
    await wait_for(handle, lambda s: s.step == "awaiting_decision", "decision")
    first = await command(
        handle,
        FAILED_INSPECTION_DECISION_SIGNAL,
        FailedInspectionDecision(refund="contact_buyer", unit="write_off", request_id="d1"),
    )
    assert answer(first, "d1").accepted
    await wait_for(handle, lambda s: s.step == "contacting_buyer", "contacting the buyer")
    wrong = await command(
        handle,
        FAILED_INSPECTION_DECISION_SIGNAL,
        FailedInspectionDecision(refund="contact_buyer", request_id="d2"),
    )
    assert "next decision is refund 'now'" in answer(wrong, "d2").reason
    final = await command(
        handle,
        FAILED_INSPECTION_DECISION_SIGNAL,
        FailedInspectionDecision(refund="now", unit="write_off", staff_id="s1", request_id="d3"),
    )
    assert answer(final, "d3").accepted
    late = await command(
        handle,
        FAILED_INSPECTION_DECISION_SIGNAL,
        FailedInspectionDecision(refund="now", request_id="d4"),
    )
    assert answer(late, "d4").reason in (
        "a decision was already taken",  # still sending the buyer's email
        "no decision is awaited: the order is at compensating",
    )
    assert (await handle.result()).outcome == "refunded"
    done = await handle.query(OrderFulfillmentWorkflow.status)
    assert done.decision is not None and done.decision.buyer_contacted
    assert done.decision.unit == "write_off" and done.decision.decided_by == "s1"
    assert sandbox.ctx.ledger.count("ebay", "refund", ebay_order_id) == 1
    await record_history(handle, "order_inspection_failed_decided_by_signal")


async def test_the_api_command_helper_answers_like_the_update_did(
    worker, settings, sandbox, bucket
) -> None:
    """api/workflows.py `command` against a live order: a refusal read ahead sends nothing; a
    refusal by the workflow after the signal is the same 422; an accept returns the status; a
    finished workflow is 409; no worker answering within the wait is CommandPending (202)."""
    from litestar.exceptions import HTTPException

    from api import workflows as wf
    from workflows.contracts.fulfillment import cancel_refusal

    def rule(status: FulfillmentStatus, request: CancelOrder):
        return cancel_refusal(status, request)

    ebay_order_id = import_order(
        sandbox, make_product(settings, quantity=1), country_code="DE", buyer_email="al@example.de"
    )
    handle = await start(worker, ebay_order_id)
    await wait_for(handle, lambda s: s.step == "inspecting", "inspecting")
    client, workflow_id = worker.client, handle.id

    async def send(request: CancelOrder, read_ahead: bool = True, wait: float = 10):
        refusal = (lambda s: rule(s, request)) if read_ahead else (lambda s: None)
        return await wf.command(
            client,
            workflow_id,
            CANCEL_SIGNAL,
            request,
            request.request_id,
            FulfillmentStatus,
            refusal,
            wait=wait,
        )

    with pytest.raises(HTTPException) as ahead:
        await send(CancelOrder(reason=" ", request_id="a1"))
    assert ahead.value.status_code == 422 and "reason is required" in ahead.value.detail
    with pytest.raises(HTTPException) as refused:  # the workflow's own answer, same rule
        await send(CancelOrder(reason=" ", request_id="a2"), read_ahead=False)
    assert refused.value.status_code == 422 and "reason is required" in refused.value.detail
    accepted = await send(CancelOrder(reason="buyer asked", request_id="a3"))
    assert isinstance(accepted, FulfillmentStatus) and accepted.cancel_reason == "buyer asked"
    assert [a.request_id for a in accepted.answers] == ["a2", "a3"]  # a1 was never sent
    assert (await handle.result()).outcome == "cancelled"
    with pytest.raises(HTTPException) as finished:
        await send(CancelOrder(reason="again", request_id="a4"))
    assert finished.value.status_code == 409 and "already finished" in finished.value.detail

    # An order whose workflow no worker runs: the signal is kept, the answer is pending.
    idle = await client.start_workflow(
        "OrderFulfillmentWorkflow",
        FulfillOrder(ebay_order_id=f"idle-{uuid.uuid4().hex[:6]}"),
        id=f"order-idle-{uuid.uuid4().hex[:6]}",
        task_queue=f"nobody-{uuid.uuid4().hex[:6]}",
    )
    workflow_id = idle.id
    pending = await send(CancelOrder(reason="buyer asked", request_id="p1"), wait=1.5)
    assert pending == wf.CommandPending(request_id="p1")
    events = [e.event_type for e in (await idle.fetch_history()).events]
    assert EventType.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED in events
    await idle.terminate("test over")


def movements(settings, ebay_order_id: str) -> list[tuple[str, int]]:
    from models import Order, StockMovement
    from models.db import session_scope

    with session_scope(settings) as session:
        order = session.exec(select(Order).where(Order.ebay_order_id == ebay_order_id)).one()
        rows = session.exec(select(StockMovement).where(StockMovement.order_id == order.id)).all()
        return sorted((row.reason, row.quantity) for row in rows)


def relisted_copy(settings, sku: str):
    from models import Product
    from models.db import session_scope

    with session_scope(settings) as session:
        return session.exec(select(Product).where(Product.sku.startswith(f"{sku}-R"))).one()


def _set_offer(settings, sku: str, offer_id: str) -> None:
    from models import Product
    from models.db import session_scope

    with session_scope(settings) as session:
        product = session.exec(select(Product).where(Product.sku == sku)).one()
        product.ebay_offer_id = offer_id
        session.add(product)

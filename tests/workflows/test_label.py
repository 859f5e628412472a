"""LabelWorkflow: the rate policy, staff overriding it within the window, and the Sagawa CSV
hand-off closed by the carrier's issued-history file (real worker, emulators, S3, database)."""

from __future__ import annotations

import asyncio
import uuid
from types import SimpleNamespace

import httpx
import pytest
from temporalio.client import WorkflowUpdateFailedError
from temporalio.testing import ActivityEnvironment

from domain.tracking import is_jp_tracking_number
from tests.workflows.conftest import record_history
from workflows.contracts.fulfillment import RecordOrder
from workflows.contracts.label import (
    CHOOSE_RATE_SIGNAL,
    ChooseRate,
    EnsureShipment,
    ImportIssuedHistory,
    LabelInput,
    LabelStatus,
    Quote,
    label_workflow_id,
)
from workflows.label import LabelWorkflow, pick_quote

pytestmark = pytest.mark.timeout(90)


def q(carrier: str, service: str, amount: str, days: int | None) -> Quote:
    return Quote(carrier=carrier, service=service, amount=amount, currency="JPY", transit_days=days)


def test_policy_cheapest_within_transit_limit() -> None:
    quotes = [
        q("fedex", "INTERNATIONAL_PRIORITY", "9800", 3),
        q("fedex", "INTERNATIONAL_ECONOMY", "6200", 6),
        q("yamato", "TA-Q-BIN", "1200", 9),
    ]
    assert pick_quote(quotes, 7).service == "INTERNATIONAL_ECONOMY"
    assert pick_quote(quotes, 4).service == "INTERNATIONAL_PRIORITY"
    assert pick_quote(quotes, 1).service == "INTERNATIONAL_PRIORITY"  # nothing in time: fastest
    assert pick_quote(quotes, 7, "yamato").carrier == "yamato"  # preferred wins
    assert pick_quote(quotes, 7, "sagawa").service == "INTERNATIONAL_ECONOMY"  # not offered


async def domestic_shipment(settings, sandbox) -> str:
    from activities.deps import Dependencies
    from activities.orders import OrderActivities
    from activities.shipping import ShippingActivities

    async with httpx.AsyncClient() as http:
        created = await http.post(
            f"{sandbox.base_url}/_sandbox/orders",
            json={"orders": [{"sku": f"LBL-{uuid.uuid4().hex[:8]}", "domestic": True}]},
        )
    created.raise_for_status()
    deps = Dependencies(settings)
    acts = SimpleNamespace(orders=OrderActivities(deps), shipping=ShippingActivities(deps))
    env = ActivityEnvironment()
    order = await asyncio.to_thread(
        env.run,
        acts.orders.record_order,
        RecordOrder(ebay_order_id=created.json()["orders"][0]["orderId"]),
    )
    ref = env.run(acts.shipping.ensure_shipment, EnsureShipment(order_id=order.order_id))
    return ref.shipment_id


async def wait_step(handle, step: str) -> LabelStatus:
    status = None
    for _ in range(300):
        status = await handle.query(LabelWorkflow.status)
        if status.step == step:
            return status
        await asyncio.sleep(0.05)
    raise AssertionError(f"never reached {step}: {status}")


async def test_staff_choose_sagawa_and_import_issued_history(worker, settings, sandbox) -> None:
    from adapters.s3 import Storage

    storage = Storage(settings)
    await asyncio.to_thread(storage.ensure_bucket)
    shipment_id = await domestic_shipment(settings, sandbox)
    handle = await worker.client.start_workflow(
        LabelWorkflow.run,
        LabelInput(shipment_id=shipment_id, rate_choice_seconds=60),
        id=label_workflow_id(shipment_id),
        task_queue=worker.task_queue,
    )
    status = await wait_step(handle, "choosing")
    carriers = {quote.carrier for quote in status.quotes}
    assert {"yamato", "sagawa"} <= carriers and status.chosen is not None
    with pytest.raises(WorkflowUpdateFailedError) as err:
        await handle.execute_update(
            LabelWorkflow.choose_rate, ChooseRate(carrier="dhl", service="x")
        )
    assert "was not quoted" in str(err.value.cause)
    sagawa = next(quote for quote in status.quotes if quote.carrier == "sagawa")
    chosen = await handle.execute_update(
        LabelWorkflow.choose_rate, ChooseRate(carrier="sagawa", service=sagawa.service)
    )
    assert chosen.step == "choosing"

    status = await wait_step(handle, "awaiting_tracking")
    assert (
        status.carrier == "sagawa" and status.handoff_key == f"documents/sagawa/{shipment_id}.csv"
    )
    with pytest.raises(WorkflowUpdateFailedError):  # the window closed with the purchase
        await handle.execute_update(
            LabelWorkflow.choose_rate, ChooseRate(carrier="sagawa", service=sagawa.service)
        )

    # Staff upload the CSV to e-Hiden, then hand us the carrier's issued-history file.
    csv = await asyncio.to_thread(storage.get_bytes, status.handoff_key)
    async with httpx.AsyncClient() as http:
        imported = await http.post(
            f"{sandbox.base_url}/_sandbox/sagawa/ehiden/import",
            content=csv,
            headers={"Content-Type": "text/csv"},
        )
        imported.raise_for_status()
        history = await http.get(f"{sandbox.base_url}/_sandbox/sagawa/ehiden/history")
        history.raise_for_status()
    key = f"documents/sagawa/history-{uuid.uuid4().hex[:8]}.csv"
    await asyncio.to_thread(storage.put_bytes, key, history.content, "text/csv")
    with pytest.raises(WorkflowUpdateFailedError) as err:
        await handle.execute_update(
            LabelWorkflow.import_issued_history, ImportIssuedHistory(key="product-images/x")
        )
    assert "must start with" in str(err.value.cause)
    updated = await handle.execute_update(
        LabelWorkflow.import_issued_history, ImportIssuedHistory(key=key)
    )
    assert is_jp_tracking_number(updated.tracking_number)

    result = await handle.result()
    assert result.carrier == "sagawa" and result.tracking_number == updated.tracking_number
    assert result.handoff_key == status.handoff_key and not result.label_key
    from models import Shipment
    from models.db import session_scope

    with session_scope(settings) as session:
        shipment = session.get(Shipment, uuid.UUID(shipment_id))
        assert (
            shipment.tracking_number == result.tracking_number
            and shipment.status == "label_created"
        )
    await record_history(handle, "label_sagawa_history")


async def test_non_latin_address_abroad_stops_the_order_with_the_reason(
    worker, settings, sandbox
) -> None:
    """Refused before any quote or purchase; the order shows the rule's own message."""
    from adapters.s3 import Storage
    from tests.workflows.test_fulfillment import (
        import_order,
        inspect,
        make_product,
        order_row,
        start,
        wait_for,
    )
    from workflows.fulfillment import OrderFulfillmentWorkflow

    await asyncio.to_thread(Storage(settings).ensure_bucket)
    ebay_order_id = import_order(
        sandbox, make_product(settings), country_code="US", ship_to_name="山田 太郎"
    )
    handle = await start(worker, ebay_order_id)
    status = await wait_for(handle, lambda s: s.step == "inspecting", "inspecting")
    await inspect(worker, status.order_id, passed=True)
    result = await handle.result()
    assert result.outcome == "refunded"
    reason = order_row(settings, ebay_order_id).cancel_reason
    assert "Latin-script address" in reason and "recipient name" in reason, reason
    final = await handle.query(OrderFulfillmentWorkflow.status)
    reference = f"label:{final.shipment_id}"
    assert sandbox.ctx.ledger.count("fedex", "label_bought", reference) == 0


async def test_staff_choose_rate_by_signal(worker, settings, sandbox) -> None:
    """The API's way: `request_rate_choice`, answered in the status (recorded for replay)."""
    shipment_id = await domestic_shipment(settings, sandbox)
    handle = await worker.client.start_workflow(
        LabelWorkflow.run,
        LabelInput(shipment_id=shipment_id, rate_choice_seconds=60),
        id=label_workflow_id(shipment_id),
        task_queue=worker.task_queue,
    )
    status = await wait_step(handle, "choosing")
    yamato = next(quote for quote in status.quotes if quote.carrier == "yamato")
    await handle.signal(CHOOSE_RATE_SIGNAL, ChooseRate(carrier="dhl", service="x", request_id="1"))
    choice = ChooseRate(carrier="yamato", service=yamato.service, request_id="2")
    await handle.signal(CHOOSE_RATE_SIGNAL, choice)
    status = await wait_step(handle, "awaiting_tracking")
    assert status.carrier == "yamato" and status.staff_chose
    assert [(a.request_id, a.accepted) for a in status.answers] == [("1", False), ("2", True)]
    await handle.terminate("recorded: the tracking number is another test's")
    await record_history(handle, "label_rate_chosen_by_signal")

"""Order activities against the eBay emulator over HTTP and the real database: each side effect
run twice, and under a lost response, leaves one effect on the emulator's ledger."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest
from sqlmodel import select
from temporalio.exceptions import ApplicationError
from temporalio.testing import ActivityEnvironment

from domain.refunds import RefundReason
from workflows.contracts.fulfillment import (
    RecordOrder,
    RefundOrder,
    RestoreStock,
    SetOrderStatus,
)

pytestmark = pytest.mark.timeout(60)


@pytest.fixture(scope="module")
def acts(settings, migrated_db, sandbox) -> Any:
    from activities.deps import Dependencies
    from activities.orders import OrderActivities

    return OrderActivities(Dependencies(settings))


def new_order(sandbox, sku: str, quantity: int = 1) -> str:
    answer = httpx.post(
        f"{sandbox.base_url}/_sandbox/orders",
        json={"orders": [{"sku": sku, "quantity": quantity, "country_code": "US"}]},
    )
    answer.raise_for_status()
    return answer.json()["orders"][0]["orderId"]


def lose_next(sandbox, service: str, path: str) -> None:
    answer = httpx.post(
        f"{sandbox.base_url}/_sandbox/faults",
        json={service: {"lost_response_rate": 1.0, "times": 1, "path_contains": path}},
    )
    answer.raise_for_status()


def product(settings, sku: str):
    from models import Product
    from models.db import session_scope

    with session_scope(settings) as session:
        return session.exec(select(Product).where(Product.sku == sku)).first()


def test_record_order_upserts_one_row(acts, settings, sandbox) -> None:
    from models import Order
    from models.db import session_scope

    ebay_order_id = new_order(sandbox, f"ORD-{uuid.uuid4().hex[:8]}", quantity=2)
    env = ActivityEnvironment()
    first = env.run(acts.record_order, RecordOrder(ebay_order_id=ebay_order_id, workflow_id="wf-1"))
    env.run(
        acts.set_order_status,
        SetOrderStatus(order_id=first.order_id, status="inspecting"),
    )
    again = env.run(acts.record_order, RecordOrder(ebay_order_id=ebay_order_id))
    assert again.order_id == first.order_id
    assert again.status == "inspecting"  # a re-import never moves our status back
    assert first.lines[0].quantity == 2 and first.buyer_email and first.country_code == "US"
    with session_scope(settings) as session:
        rows = session.exec(select(Order).where(Order.ebay_order_id == ebay_order_id)).all()
        assert len(rows) == 1 and rows[0].workflow_id == "wf-1"


def test_record_unknown_order_is_permanent(acts) -> None:
    with pytest.raises(ApplicationError) as err:
        ActivityEnvironment().run(acts.record_order, RecordOrder(ebay_order_id="00-00000-00000"))
    assert err.value.non_retryable


def test_set_status_of_missing_order_is_permanent(acts) -> None:
    with pytest.raises(ApplicationError) as err:
        ActivityEnvironment().run(
            acts.set_order_status,
            SetOrderStatus(order_id=str(uuid.uuid4()), status="completed"),
        )
    assert err.value.non_retryable and err.value.type == "NotFoundError"


def test_set_status_stamps_completion_once_and_keeps_the_cancel_reason(
    acts, settings, sandbox
) -> None:
    from models import Order
    from models.db import session_scope

    ebay_order_id = new_order(sandbox, f"ORD-{uuid.uuid4().hex[:8]}")
    env = ActivityEnvironment()
    order_id = env.run(acts.record_order, RecordOrder(ebay_order_id=ebay_order_id)).order_id

    def row() -> Order:
        with session_scope(settings) as session:
            return session.get_one(Order, uuid.UUID(order_id))

    env.run(acts.set_order_status, SetOrderStatus(order_id=order_id, status="labelling"))
    assert row().status == "labelling" and row().completed_at is None
    env.run(
        acts.set_order_status,
        SetOrderStatus(order_id=order_id, status="cancelled", cancel_reason="buyer asked"),
    )
    first = row()
    assert first.status == "cancelled" and first.cancel_reason == "buyer asked"
    assert first.completed_at is not None and first.updated_at >= first.created_at
    env.run(acts.set_order_status, SetOrderStatus(order_id=order_id, status="refunded"))
    again = row()
    assert again.status == "refunded" and again.completed_at == first.completed_at
    assert again.cancel_reason == "buyer asked"  # not given: kept


def test_refund_twice_and_lost_response_refund_once(acts, sandbox) -> None:
    ebay_order_id = new_order(sandbox, f"ORD-{uuid.uuid4().hex[:8]}")
    record = ActivityEnvironment().run(acts.record_order, RecordOrder(ebay_order_id=ebay_order_id))
    refund = RefundOrder(
        ebay_order_id=ebay_order_id,
        amount=record.total_value,
        currency=record.total_currency,
        reason=RefundReason.other,
        comment="inspection failed",
    )
    lose_next(sandbox, "ebay", "/issue_refund")
    with pytest.raises(ApplicationError) as err:  # committed on eBay, answer lost
        ActivityEnvironment().run(acts.refund_order, refund)
    assert not err.value.non_retryable
    first = ActivityEnvironment().run(acts.refund_order, refund)
    second = ActivityEnvironment().run(acts.refund_order, refund)
    assert first == second and first
    assert sandbox.ctx.ledger.count("ebay", "refund", ebay_order_id) == 1


def test_restore_stock_once_in_db_and_on_ebay(acts, settings, sandbox) -> None:
    from adapters.ebay import EbayClient
    from models import Product
    from models.db import session_scope
    from tests.workflows.test_fulfillment import list_on_ebay

    sku = f"ORD-{uuid.uuid4().hex[:8]}"
    offer_id = list_on_ebay(settings, sku, quantity=2)
    with session_scope(settings) as session:
        session.add(
            Product(sku=sku, title_ja="急須", price_jpy=8000, quantity=2, ebay_offer_id=offer_id)
        )
    ebay_order_id = new_order(sandbox, sku, quantity=2)
    env = ActivityEnvironment()
    record = env.run(acts.record_order, RecordOrder(ebay_order_id=ebay_order_id))
    assert product(settings, sku).quantity == 0
    first = env.run(acts.restore_stock, RestoreStock(order_id=record.order_id))
    assert first.restored == {sku: 2} and not first.already_done
    # the order sync re-imports the order meanwhile: the restock flag survives
    env.run(acts.record_order, RecordOrder(ebay_order_id=ebay_order_id))
    second = env.run(acts.restore_stock, RestoreStock(order_id=record.order_id))
    assert second.restored == {} and second.already_done
    assert product(settings, sku).quantity == 2
    assert EbayClient(settings).get_offers(sku)[0]["availableQuantity"] == 2


def test_an_order_imported_twice_and_by_the_sync_takes_its_lines_off_once(
    acts, settings, sandbox
) -> None:
    from activities.deps import Dependencies
    from activities.sync import SyncActivities
    from models import Product
    from models.db import session_scope
    from models.stock import StockMovement
    from models.types import utcnow
    from workflows.contracts.ops import FetchOrders

    sku = f"STK-{uuid.uuid4().hex[:8]}"
    with session_scope(settings) as session:
        session.add(Product(sku=sku, title_ja="急須", price_jpy=8000, quantity=3))
    started = utcnow()
    ebay_order_id = new_order(sandbox, sku, quantity=2)
    env = ActivityEnvironment()
    env.run(acts.record_order, RecordOrder(ebay_order_id=ebay_order_id))
    env.run(acts.record_order, RecordOrder(ebay_order_id=ebay_order_id))
    sync = SyncActivities(Dependencies(settings))
    from datetime import timedelta

    env.run(
        sync.fetch_orders,
        FetchOrders(start=started - timedelta(minutes=1), end=utcnow() + timedelta(minutes=1)),
    )
    assert product(settings, sku).quantity == 1
    with session_scope(settings) as session:
        rows = session.exec(select(StockMovement).where(StockMovement.sku == sku)).all()
        assert [(r.reason, r.quantity) for r in rows] == [("sale", -2)]


def test_failed_unit_dispositions_once_each(acts, settings, sandbox) -> None:
    from domain.stock import UnitDisposition
    from models import Product
    from models.db import session_scope
    from workflows.contracts.fulfillment import DisposeUnits

    sku = f"STK-{uuid.uuid4().hex[:8]}"
    with session_scope(settings) as session:
        session.add(Product(sku=sku, title_ja="急須", price_jpy=8000, quantity=1))
    env = ActivityEnvironment()
    record = env.run(acts.record_order, RecordOrder(ebay_order_id=new_order(sandbox, sku)))
    assert product(settings, sku).quantity == 0
    back = DisposeUnits(order_id=record.order_id, disposition=UnitDisposition.restock)
    env.run(acts.dispose_units, back)
    env.run(acts.dispose_units, back)  # a retry after a lost answer changes nothing
    assert product(settings, sku).quantity == 1

"""Order activities: record the eBay order, keep its status current, and the compensations
(refund on eBay, stock back in our catalog and on eBay)."""

from __future__ import annotations

import uuid
from typing import Any

from sqlmodel import select
from temporalio import activity
from temporalio.exceptions import ApplicationError

from activities.base import external_call
from activities.deps import Dependencies
from domain.errors import NOT_FOUND, VALIDATION_FAILED
from models import Order, OrderStatus, Product
from models.db import session_scope
from models.types import utcnow
from workflows.contracts.fulfillment import (
    RECORD_ORDER_ACTIVITY,
    REFUND_ORDER_ACTIVITY,
    RESTORE_STOCK_ACTIVITY,
    SET_ORDER_STATUS_ACTIVITY,
    OrderLine,
    OrderRecord,
    RecordOrder,
    RefundOrder,
    RestoredStock,
    RestoreStock,
    SetOrderStatus,
)

FINAL_STATUSES = {OrderStatus.completed, OrderStatus.cancelled, OrderStatus.refunded}

RESTOCKED_FLAG = "restocked"
"""Set on each line item in `Order.line_items` in the same transaction that adds the stock back,
so a retried compensation never adds it twice."""


def parse_uuid(value: str, what: str) -> uuid.UUID:
    try:
        return uuid.UUID(value)
    except ValueError as error:
        raise ApplicationError(
            f"{what} {value!r} is not a UUID", type=VALIDATION_FAILED, non_retryable=True
        ) from error


def order_record(order: Order) -> OrderRecord:
    lines = [
        OrderLine(
            line_item_id=str(li.get("line_item_id", "")),
            sku=str(li.get("sku", "")),
            title=str(li.get("title", "")),
            quantity=int(li.get("quantity", 1)),
            value=str(li.get("value", "0")),
            currency=str(li.get("currency", order.total_currency)),
        )
        for li in order.line_items
    ]
    return OrderRecord(
        order_id=str(order.id),
        ebay_order_id=order.ebay_order_id,
        buyer_name=str(order.ship_to.get("full_name", "")) or order.buyer_username,
        buyer_email=order.buyer_email or str(order.ship_to.get("email", "")),
        country_code=str(order.ship_to.get("country_code", "")),
        lines=lines,
        total_value=order.total_value,
        total_currency=order.total_currency,
        status=str(order.status),
    )


def load_order(session: Any, order_id: str) -> Order:
    order = session.get(Order, parse_uuid(order_id, "order id"))
    if order is None:
        raise ApplicationError(f"order {order_id} not found", type=NOT_FOUND, non_retryable=True)
    return order


class OrderActivities:
    """The order row and its compensations (refund, stock back).

    One instance per worker; its `@activity.defn` methods are registered by name."""

    def __init__(self, deps: Dependencies) -> None:
        self.deps = deps
        self.settings = deps.settings

    @activity.defn(name=RECORD_ORDER_ACTIVITY)
    @external_call
    def record_order(self, request: RecordOrder) -> OrderRecord:
        """Fetch the order from eBay and upsert it (the order sync may have stored it already;
        our own status column is never moved backwards by this)."""
        ebay_order = self.deps.ebay.get_order(request.ebay_order_id)
        with session_scope(self.settings) as session:
            order = session.exec(
                select(Order).where(Order.ebay_order_id == request.ebay_order_id)
            ).first()
            if order is None:
                order = Order(ebay_order_id=request.ebay_order_id)
            previous = {li.get("line_item_id"): li for li in order.line_items}
            order.buyer_username = ebay_order.buyer_username
            order.buyer_email = ebay_order.buyer_email or ebay_order.ship_to.email
            order.ship_to = ebay_order.ship_to.model_dump(mode="json")
            order.line_items = [
                # keep our own per-line bookkeeping (the restock flag) across re-imports
                {**li.model_dump(mode="json"), **_own_flags(previous.get(li.line_item_id))}
                for li in ebay_order.line_items
            ]
            order.total_value = ebay_order.total_value
            order.total_currency = ebay_order.total_currency
            order.ebay_created_at = ebay_order.created_at
            order.ebay_modified_at = ebay_order.modified_at
            if request.workflow_id:
                order.workflow_id = request.workflow_id
            order.updated_at = utcnow()
            session.add(order)
            session.flush()
            return order_record(order)

    @activity.defn(name=SET_ORDER_STATUS_ACTIVITY)
    def set_order_status(self, request: SetOrderStatus) -> None:
        status = OrderStatus(request.status)
        with session_scope(self.settings) as session:
            order = load_order(session, request.order_id)
            order.status = status
            if request.cancel_reason:
                order.cancel_reason = request.cancel_reason[:500]
            if status in FINAL_STATUSES and order.completed_at is None:
                order.completed_at = utcnow()
            order.updated_at = utcnow()
            session.add(order)

    @activity.defn(name=REFUND_ORDER_ACTIVITY)
    @external_call
    def refund_order(self, request: RefundOrder) -> str:
        """Full refund; the adapter checks the order's existing refunds first (idempotent)."""
        return self.deps.ebay.issue_refund(
            request.ebay_order_id, request.amount, request.currency, request.reason, request.comment
        )

    @activity.defn(name=RESTORE_STOCK_ACTIVITY)
    @external_call
    def restore_stock(self, request: RestoreStock) -> RestoredStock:
        """Put the sold quantities back: once in our catalog (flagged per line in the same
        transaction), then the absolute quantity pushed to eBay (safe to repeat)."""
        restored: dict[str, int] = {}
        pushes: list[tuple[str, str, int]] = []
        with session_scope(self.settings) as session:
            order = load_order(session, request.order_id)
            lines = [dict(li) for li in order.line_items]
            already = bool(lines) and all(li.get(RESTOCKED_FLAG) for li in lines)
            for li in lines:
                sku = str(li.get("sku", ""))
                product = (
                    session.exec(select(Product).where(Product.sku == sku)).first() if sku else None
                )
                if product is None:
                    li[RESTOCKED_FLAG] = True  # nothing of ours to restock (not listed by us)
                    continue
                if not li.get(RESTOCKED_FLAG):
                    qty = int(li.get("quantity", 1))
                    product.quantity += qty
                    product.updated_at = utcnow()
                    session.add(product)
                    restored[sku] = restored.get(sku, 0) + qty
                    li[RESTOCKED_FLAG] = True
                if product.ebay_offer_id:
                    pushes.append((sku, product.ebay_offer_id, product.quantity))
            order.line_items = lines
            order.updated_at = utcnow()
            session.add(order)
        if pushes:
            from adapters.ebay import PriceQuantityUpdate

            results = self.deps.ebay.bulk_update_price_quantity(
                [
                    PriceQuantityUpdate(sku=sku, offer_id=offer, quantity=qty)
                    for sku, offer, qty in pushes
                ]
            )
            failed = [r for r in results if not r.ok]
            if failed:
                raise ApplicationError(
                    "eBay refused the quantity update: "
                    + "; ".join(f"{r.sku}: {', '.join(r.errors)}" for r in failed),
                    type="EbayQuantityUpdateFailed",
                )
        return RestoredStock(restored=restored, already_done=already)


def _own_flags(line: dict[str, Any] | None) -> dict[str, Any]:
    return {RESTOCKED_FLAG: True} if line and line.get(RESTOCKED_FLAG) else {}

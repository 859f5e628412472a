"""Order activities: record the eBay order (its lines taken off our stock), keep its status
current, and the compensations (refund on eBay, stock back after a cancel, the staff's decision
about the units of a failed inspection). Stock rules: `domain/stock.py`."""

from __future__ import annotations

import uuid
from typing import Any

import sqlalchemy as sa
from sqlmodel import select
from temporalio import activity
from temporalio.exceptions import ApplicationError

from activities.base import external_call
from activities.deps import Dependencies
from activities.stock import apply_movement, movement_done, take_sold_lines
from domain.catalog import Condition
from domain.errors import NOT_FOUND, VALIDATION_FAILED
from domain.stock import DISPOSITION_MOVEMENT, MovementReason, UnitDisposition, relist_sku
from models import Order, OrderStatus, Product, ProductStatus
from models.db import connection_scope, session_scope, table_of
from models.types import utcnow
from workflows.contracts.fulfillment import (
    DISPOSE_UNITS_ACTIVITY,
    RECORD_ORDER_ACTIVITY,
    REFUND_ORDER_ACTIVITY,
    RESTORE_STOCK_ACTIVITY,
    SET_ORDER_STATUS_ACTIVITY,
    DisposedUnits,
    DisposeUnits,
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
"""The per-line flag that marked a restock before stock movements; still honoured on old orders."""


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
            order.buyer_name = (ebay_order.ship_to.full_name or "")[:200]
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
            take_sold_lines(session, order)
            return order_record(order)

    @activity.defn(name=SET_ORDER_STATUS_ACTIVITY)
    def set_order_status(self, request: SetOrderStatus) -> None:
        """One UPDATE, no row loaded (three per order): the status, the cancel reason when
        given, `completed_at` the first time a final status is set."""
        status = OrderStatus(request.status)
        order_id = parse_uuid(request.order_id, "order id")
        table = table_of(Order)
        now = utcnow()
        values: dict[str, Any] = {"status": status, "updated_at": now}
        if request.cancel_reason:
            values["cancel_reason"] = request.cancel_reason[:500]
        if status in FINAL_STATUSES:
            values["completed_at"] = sa.func.coalesce(
                table.c.completed_at, sa.literal(now, table.c.completed_at.type)
            )
        with connection_scope(self.settings) as connection:
            found = connection.execute(
                sa.update(table).where(table.c.id == order_id).values(values)
            ).rowcount
        if not found:
            raise ApplicationError(
                f"order {request.order_id} not found", type=NOT_FOUND, non_retryable=True
            )

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
        """A cancel not caused by the item: put back what the sale took off, once per line (a
        `cancel_restock` movement), then push the new absolute quantity to eBay (safe to repeat).
        Lines whose sale was never taken off (imported before stock movements) are left alone,
        as are lines already restocked under the older per-line flag."""
        restored: dict[str, int] = {}
        pushes: dict[str, tuple[str, int]] = {}
        with session_scope(self.settings) as session:
            order = load_order(session, request.order_id)
            already = True
            for li in order.line_items:
                line_id = str(li.get("line_item_id", ""))
                if li.get(RESTOCKED_FLAG) or not movement_done(
                    session, line_id, MovementReason.sale
                ):
                    continue
                if movement_done(session, line_id, MovementReason.cancel_restock):
                    product = session.exec(
                        select(Product).where(Product.sku == str(li.get("sku", "")))
                    ).first()
                else:
                    already = False
                    qty = int(li.get("quantity", 1) or 1)
                    product = apply_movement(
                        session, order, li, MovementReason.cancel_restock, qty, request.reason
                    )
                    if product is not None:
                        restored[product.sku] = restored.get(product.sku, 0) + qty
                if product is not None and product.ebay_offer_id:
                    pushes[product.sku] = (product.ebay_offer_id, product.quantity)
        self._push_quantities(pushes)
        return RestoredStock(restored=restored, already_done=already and not restored)

    @activity.defn(name=DISPOSE_UNITS_ACTIVITY)
    @external_call
    def dispose_units(self, request: DisposeUnits) -> DisposedUnits:
        """Staff's decision (or the default) about the units of a failed inspection: back to
        stock, written off, or a new one-unit draft product under another condition. Recorded
        once per line as a stock movement; only `restock` changes the product's quantity."""
        reason = DISPOSITION_MOVEMENT[request.disposition]
        pushes: dict[str, tuple[str, int]] = {}
        created: list[str] = []
        with session_scope(self.settings) as session:
            order = load_order(session, request.order_id)
            for li in order.line_items:
                qty = int(li.get("quantity", 1) or 1)
                change = qty if request.disposition is UnitDisposition.restock else 0
                product = apply_movement(session, order, li, reason, change, request.note)
                if product is None:
                    continue
                if request.disposition is UnitDisposition.restock and product.ebay_offer_id:
                    pushes[product.sku] = (product.ebay_offer_id, product.quantity)
                if request.disposition is UnitDisposition.relist:
                    created.append(
                        _relist_copy(session, product, li, qty, request.condition, request.note)
                    )
        self._push_quantities(pushes)
        return DisposedUnits(disposition=request.disposition, relisted_skus=created)

    def _push_quantities(self, pushes: dict[str, tuple[str, int]]) -> None:
        """Absolute quantities to eBay for our own restocks (repeating them is harmless)."""
        if not pushes:
            return
        from adapters.ebay import PriceQuantityUpdate

        results = self.deps.ebay.bulk_update_price_quantity(
            [
                PriceQuantityUpdate(sku=sku, offer_id=offer, quantity=qty)
                for sku, (offer, qty) in pushes.items()
            ]
        )
        failed = [r for r in results if not r.ok]
        if failed:
            raise ApplicationError(
                "eBay refused the quantity update: "
                + "; ".join(f"{r.sku}: {', '.join(r.errors)}" for r in failed),
                type="EbayQuantityUpdateFailed",
            )


def _relist_copy(
    session: Any,
    product: Product,
    line: dict[str, Any],
    quantity: int,
    condition: Condition | None,
    note: str,
) -> str:
    """A draft product for the inspected unit(s) under another condition, for staff to list."""
    sku = relist_sku(product.sku, str(line.get("line_item_id", "")))
    if session.exec(select(Product).where(Product.sku == sku)).first() is None:
        copy = Product(
            **product.model_dump(
                exclude={
                    "id",
                    "sku",
                    "quantity",
                    "condition",
                    "condition_notes",
                    "status",
                    "ebay_offer_id",
                    "ebay_listing_id",
                    "listing_workflow_id",
                    "last_error",
                    "created_at",
                    "updated_at",
                    "title_en",
                    "description_html",
                    "ai_generation",
                }
            ),
            sku=sku,
            quantity=quantity,
            condition=condition or Condition.used_acceptable,
            condition_notes=note[:2000],
            status=ProductStatus.draft,
        )
        session.add(copy)
        session.flush()
    return sku


def _own_flags(line: dict[str, Any] | None) -> dict[str, Any]:
    return {RESTOCKED_FLAG: True} if line and line.get(RESTOCKED_FLAG) else {}

"""Scheduled sync activities: eBay orders by modified date, tracking, price/quantity to eBay.

All of them are safe to repeat: orders are upserted by eBay order id, the watermark only moves
forward, tracking refresh writes the parcels whose answer changed (the same projection), and
price/quantity updates are absolute.
Imported orders take their lines off our stock once per line; the inventory sync reads eBay's
available quantity per offer and never pushes more than that or than we hold (`domain/stock.py`).
"""

from __future__ import annotations

import math
import uuid
from collections import defaultdict
from typing import Any

from sqlmodel import col, select
from temporalio import activity

from activities.base import external_call
from activities.deps import Dependencies
from activities.shipping import apply_tracking, tracking_changes
from activities.stock import take_sold_lines
from adapters.carriers import TrackingInfo
from adapters.errors import AdapterError, NotFoundError
from domain.stock import pushable_quantity
from models import Order, Product, ProductStatus, Shipment, ShipmentStatus, SyncState
from models.db import session_scope
from models.types import utcnow
from workflows.contracts.fulfillment import fulfillment_workflow_id
from workflows.contracts.listing import BULK_CHUNK_SIZE
from workflows.contracts.ops import (
    ADVANCE_WATERMARK_ACTIVITY,
    FETCH_ORDERS_ACTIVITY,
    MARK_ORDERS_STARTED_ACTIVITY,
    READ_WATERMARK_ACTIVITY,
    REFRESH_TRACKING_ACTIVITY,
    SYNC_INVENTORY_PAGE_ACTIVITY,
    AdvanceWatermark,
    FetchedOrders,
    FetchOrders,
    InventoryPageResult,
    MarkOrdersStarted,
    ReadWatermark,
    RefreshedTracking,
    RefreshTracking,
    SyncInventoryPage,
    TrackingChange,
    Watermark,
)

FINISHED_ON_EBAY = {"FULFILLED"}
TRACKED = (ShipmentStatus.label_created, ShipmentStatus.in_transit)


def _aware(value: Any) -> Any:
    """SQLite hands datetimes back naive; they are stored in UTC."""
    from datetime import UTC

    return value.replace(tzinfo=UTC) if value is not None and value.tzinfo is None else value


class SyncActivities:
    """The scheduled syncs: eBay orders, tracking refresh, inventory quantities.

    One instance per worker; its `@activity.defn` methods are registered by name."""

    def __init__(self, deps: Dependencies) -> None:
        self.deps = deps
        self.settings = deps.settings

    @activity.defn(name=READ_WATERMARK_ACTIVITY)
    def read_watermark(self, request: ReadWatermark) -> Watermark:
        with session_scope(self.settings) as session:
            state = session.get(SyncState, request.name)
            return Watermark(name=request.name, value=_aware(state.watermark) if state else None)

    @activity.defn(name=ADVANCE_WATERMARK_ACTIVITY)
    def advance_watermark(self, request: AdvanceWatermark) -> Watermark:
        with session_scope(self.settings) as session:
            state = session.get(SyncState, request.name) or SyncState(name=request.name)
            current = _aware(state.watermark)
            if current is None or request.value > current:  # never moves back
                state.watermark = request.value
            state.updated_at = utcnow()
            session.add(state)
            return Watermark(name=request.name, value=_aware(state.watermark))

    @activity.defn(name=FETCH_ORDERS_ACTIVITY)
    @external_call
    def fetch_orders(self, request: FetchOrders) -> FetchedOrders:
        fetched = 0
        to_start: list[str] = []
        newest = None
        for order in self.deps.ebay.iter_orders_modified(request.start, request.end):
            fetched += 1
            if fetched % 50 == 0:
                activity.heartbeat(fetched)
            newest = max(newest, order.modified_at) if newest else order.modified_at
            with session_scope(self.settings) as session:
                row = session.exec(
                    select(Order).where(Order.ebay_order_id == order.order_id)
                ).first()
                if row is None:
                    row = Order(ebay_order_id=order.order_id)
                row.buyer_username = order.buyer_username
                row.buyer_email = order.buyer_email or order.ship_to.email or ""
                row.ship_to = order.ship_to.model_dump(mode="json")
                row.buyer_name = (order.ship_to.full_name or "")[:200]
                row.line_items = [li.model_dump(mode="json") for li in order.line_items]
                row.total_value = str(order.total_value)
                row.total_currency = order.total_currency
                row.ebay_created_at = order.created_at
                row.ebay_modified_at = order.modified_at
                row.updated_at = utcnow()
                session.add(row)
                take_sold_lines(session, row)
                if not row.workflow_id and order.fulfillment_status not in FINISHED_ON_EBAY:
                    to_start.append(order.order_id)
        return FetchedOrders(fetched=fetched, to_start=to_start, max_modified=newest)

    @activity.defn(name=MARK_ORDERS_STARTED_ACTIVITY)
    def mark_orders_started(self, request: MarkOrdersStarted) -> None:
        if not request.ebay_order_ids:
            return
        with session_scope(self.settings) as session:
            rows = session.exec(
                select(Order).where(col(Order.ebay_order_id).in_(request.ebay_order_ids))
            ).all()
            for row in rows:
                if not row.workflow_id:
                    row.workflow_id = fulfillment_workflow_id(row.ebay_order_id)
                    session.add(row)

    @activity.defn(name=REFRESH_TRACKING_ACTIVITY)
    def refresh_tracking(self, request: RefreshTracking) -> RefreshedTracking:
        """One page of shipments in flight, tracked in as few carrier calls as each carrier
        allows (FedEx: 30 numbers a call); events and status stored by the same rule as an
        order's own check (`apply_tracking`); the changes returned for the workflow to signal."""
        query = (
            select(Shipment, Order.ebay_order_id)
            .join(Order, col(Order.id) == col(Shipment.order_id))
            .where(col(Shipment.status).in_(TRACKED), Shipment.tracking_number != "")
            .order_by(col(Shipment.id))
            .limit(request.limit)
        )
        if request.after_id:
            query = query.where(col(Shipment.id) > uuid.UUID(request.after_id))
        with session_scope(self.settings) as session:
            batch = list(session.exec(query).all())
        by_carrier: dict[str, list[tuple[Shipment, str]]] = defaultdict(list)
        for shipment, ebay_order_id in batch:
            by_carrier[shipment.carrier].append((shipment, ebay_order_id))
        changed: list[TrackingChange] = []
        errors = calls = 0
        for carrier_name, shipments in sorted(by_carrier.items()):
            carrier = self.deps.carriers.get(carrier_name)
            if carrier is None:
                errors += len(shipments)
                continue
            try:
                found = carrier.track_many([s.tracking_number for s, _ in shipments])
            except AdapterError as error:  # one carrier's hiccup must not stop the others
                activity.logger.warning("tracking %s failed: %s", carrier_name, error)
                errors += len(shipments)
                continue
            calls += math.ceil(len(shipments) / carrier.track_batch)
            for shipment, ebay_order_id in shipments:
                number = shipment.tracking_number
                info = found.get(number)
                if not isinstance(info, TrackingInfo):
                    activity.logger.warning("tracking %s failed: %s", number, info)
                    errors += 1
                    continue
                if not tracking_changes(shipment, info):
                    continue  # the answer stored already: no session, no write
                change = self._store(shipment.id, info, ebay_order_id)
                if change is not None:
                    changed.append(change)
            activity.heartbeat(carrier_name)
        next_after = str(batch[-1][0].id) if len(batch) == request.limit else ""
        return RefreshedTracking(
            checked=len(batch),
            changed=changed,
            errors=errors,
            carrier_calls=calls,
            next_after_id=next_after,
        )

    def _store(
        self, shipment_id: uuid.UUID, info: TrackingInfo, ebay_order_id: str
    ) -> TrackingChange | None:
        """The tracking into the rows; the change when the shipment's status moved."""
        with session_scope(self.settings) as session:
            shipment = session.get(Shipment, shipment_id)
            if shipment is None:
                return None
            before = shipment.status
            snapshot = apply_tracking(session, shipment, info, self.settings)
            if shipment.status == before:
                return None
            return TrackingChange(
                ebay_order_id=ebay_order_id,
                shipment_id=str(shipment_id),
                tracking_number=info.tracking_number,
                status=snapshot.status,
                delivered=snapshot.delivered,
                last_event=snapshot.last_event,
            )

    @activity.defn(name=SYNC_INVENTORY_PAGE_ACTIVITY)
    @external_call
    def sync_inventory_page(self, request: SyncInventoryPage) -> InventoryPageResult:
        from adapters.ebay import PriceQuantityUpdate

        with session_scope(self.settings) as session:
            products = session.exec(
                select(Product)
                .where(
                    Product.status == ProductStatus.listed,
                    Product.ebay_offer_id != "",
                    Product.sku > request.after_sku,
                )
                .order_by(col(Product.sku))
                .limit(request.limit)
            ).all()
            listed = [(p.sku, p.ebay_offer_id, p.quantity, p.price_usd) for p in products]
        if not listed:
            return InventoryPageResult(updated=0, failed=0, calls=0)
        updates = []
        gone = 0
        for sku, offer_id, ours, price in listed:
            try:
                on_ebay = self._ebay_available(offer_id)
            except NotFoundError:  # the offer no longer exists on eBay: nothing to push
                activity.logger.warning("offer %s of %s not found on eBay", offer_id, sku)
                gone += 1
                continue
            updates.append(
                PriceQuantityUpdate(
                    sku=sku,
                    offer_id=offer_id,
                    # never above what we hold, never above eBay's (a sale not yet imported)
                    quantity=pushable_quantity(ours, on_ebay),
                    price_value=price or None,
                    currency=self.settings.ebay_currency if price else None,
                )
            )
        next_after = listed[-1][0] if len(listed) == request.limit else ""
        if not updates:
            return InventoryPageResult(
                updated=0, failed=gone, calls=len(listed), next_after_sku=next_after
            )
        results = self.deps.ebay.bulk_update_price_quantity(updates)
        failed = sum(1 for r in results if not r.ok)
        return InventoryPageResult(
            updated=len(results) - failed,
            failed=failed + gone,
            calls=math.ceil(len(updates) / BULK_CHUNK_SIZE) + len(listed),
            next_after_sku=next_after,
        )

    def _ebay_available(self, offer_id: str) -> int | None:
        """eBay's own available quantity for the offer (None when eBay does not say)."""
        value = self.deps.ebay.get_offer(offer_id).get("availableQuantity")
        return None if value is None else int(value)

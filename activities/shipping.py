"""Shipping activities: the shipment row, rate quotes, exactly one label, the CSV hand-off,
tracking numbers, the upload to eBay and tracking.

Exactly one billable label, even when the worker dies between the carrier's answer and our write:
1. the intent row (`LabelPurchase`, unique idempotency key `label:{shipment_id}`) is committed
   before the carrier is called, and the same key is sent to the carrier as our reference;
2. a retry that finds the row not yet `bought` first asks the carrier for a label already bought
   under that reference (`find_label`) and keeps it instead of buying again (the attempt that
   writes the row does not ask: nobody called the carrier under that reference before it);
3. after recording the label we keep, any other label the carrier reports for our reference
   (an orphan from a racing attempt) is cancelled;
4. a label found by reference comes without its document (track-by-reference returns numbers,
   not PDFs, and FedEx offers no reprint of a created shipment). A label we cannot print is not
   kept: unless its PDF is already stored, it is cancelled (voided, nothing billed before the
   parcel is tendered) and one more is bought under the same reference. The carrier's ledger
   then reads bought - cancelled = 1 and the shipment always has its PDF (`_printable_or_void`).
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

import sqlalchemy as sa
from sqlmodel import select
from temporalio import activity
from temporalio.exceptions import ApplicationError

from activities.base import external_call
from activities.deps import Dependencies
from activities.orders import load_order, parse_uuid
from adapters.carriers import (
    Address,
    Carrier,
    Commodity,
    Customs,
    Label,
    Parcel,
    ShipmentRequest,
    TrackingInfo,
    TrackingStatus,
)
from adapters.errors import AdapterError
from config import Settings
from domain.addresses import non_latin_fields
from domain.errors import ADDRESS_NOT_LATIN, NOT_FOUND, VALIDATION_FAILED
from domain.parcels import (
    DEFAULT_HEIGHT_CM,
    DEFAULT_LENGTH_CM,
    DEFAULT_WEIGHT_G,
    DEFAULT_WIDTH_CM,
)
from domain.shipping_costs import charge_over_quote
from domain.tracking import closes_without_scan, shipment_status_for
from models import LabelPurchase, Order, OrderStatus, Product, Shipment, ShipmentStatus
from models.db import connection_scope, session_scope, table_of
from models.types import utcnow
from workflows.contracts.label import (
    BUY_LABEL_ACTIVITY,
    ENSURE_SHIPMENT_ACTIVITY,
    IMPORT_ISSUED_HISTORY_ACTIVITY,
    QUOTE_RATES_ACTIVITY,
    RECORD_TRACKING_ACTIVITY,
    TRACK_SHIPMENT_ACTIVITY,
    UPLOAD_TRACKING_ACTIVITY,
    BoughtLabel,
    BuyLabel,
    EnsureShipment,
    ImportHistoryRequest,
    Quote,
    QuoteRates,
    RecordTracking,
    ShipmentRef,
    TrackingSnapshot,
    TrackShipment,
    UploadTracking,
    label_reference,
)

SHIPMENT_NAMESPACE = uuid.UUID("6f1c4c1e-2b53-4a8e-9a57-4d2f0c1e7a10")
"""Shipment ids are uuid5(order id): creating the shipment twice finds the same row."""


def shipment_id_for(order_id: str) -> uuid.UUID:
    return uuid.uuid5(SHIPMENT_NAMESPACE, f"shipment:{order_id}")


def label_key(shipment_id: str) -> str:
    return f"shipping-labels/{shipment_id}.pdf"


def handoff_key(carrier: str, shipment_id: str) -> str:
    return f"documents/{carrier}/{shipment_id}.csv"


def invoice_key(carrier: str, shipment_id: str) -> str:
    """The commercial invoice the carrier generated with an international label."""
    return f"documents/{carrier}/{shipment_id}-invoice.pdf"


def shipper_address(settings: Settings, international: bool = False) -> Address:
    """Our address as the sender: in Japanese for the domestic hand-off files, in English for
    international labels (FedEx prints Latin script only)."""
    if international:
        return Address(
            name=settings.shipper_name_en,
            phone=settings.shipper_phone,
            line1=settings.shipper_address_line1_en,
            city=settings.shipper_city_en,
            state=settings.shipper_prefecture_en,
            postal_code=settings.shipper_postal_code,
            country_code=settings.shipper_country_code,
            residential=False,
        )
    return Address(
        name=settings.shipper_name,
        phone=settings.shipper_phone,
        line1=settings.shipper_address_line1,
        city=settings.shipper_city,
        state=settings.shipper_prefecture,
        postal_code=settings.shipper_postal_code,
        country_code=settings.shipper_country_code,
        residential=False,
    )


def refuse_non_latin(ebay_order_id: str, shipper: Address, recipient: Address) -> None:
    """An international label needs Latin script on both addresses: refused before any quote
    or purchase, for staff to correct (never retried)."""
    problems = [
        f"{side} {field}"
        for side, address in (("shipper", shipper), ("recipient", recipient))
        for field in non_latin_fields(
            {
                "name": address.name,
                "company": address.company,
                "line1": address.line1,
                "line2": address.line2,
                "city": address.city,
                "state": address.state,
                "postal_code": address.postal_code,
                "phone": address.phone,
            }
        )
    ]
    if problems:
        raise ApplicationError(
            f"order {ebay_order_id}: an international label needs a Latin-script address; "
            f"not Latin: {', '.join(problems)} (correct the address, then buy the label)",
            type=ADDRESS_NOT_LATIN,
            non_retryable=True,
        )


def recipient_address(order: Order) -> Address:
    to = order.ship_to
    country = str(to.get("country_code", "")).upper()
    if len(country) != 2 or not to.get("line1") or not to.get("postal_code"):
        raise ApplicationError(
            f"order {order.ebay_order_id} has no usable ship-to address",
            type=VALIDATION_FAILED,
            non_retryable=True,
        )
    return Address(
        name=str(to.get("full_name", "")) or order.buyer_username or "Customer",
        phone=str(to.get("phone", "")),
        email=str(to.get("email", "")) or order.buyer_email,
        line1=str(to["line1"]),
        line2=str(to.get("line2", "")),
        city=str(to.get("city", "")),
        state=str(to.get("state", "")),
        postal_code=str(to["postal_code"]),
        country_code=country,
    )


def _unit_value(line: dict[str, Any]) -> str:
    """eBay's line value is the line total; customs wants the unit value."""
    try:
        total = Decimal(str(line.get("value", "0")))
    except InvalidOperation:
        total = Decimal(0)
    qty = max(int(line.get("quantity", 1)), 1)
    return str((total / qty).quantize(Decimal("0.01")))


def build_request(
    session: Any, settings: Settings, shipment: Shipment, service: str = ""
) -> ShipmentRequest:
    """The carrier-neutral shipment built from our rows (never carried through Temporal)."""
    order = session.get_one(Order, shipment.order_id)
    recipient = recipient_address(order)
    weight = 0
    length = width = height = 0.0
    commodities: list[Commodity] = []
    for line in order.line_items:
        qty = max(int(line.get("quantity", 1)), 1)
        product = session.exec(select(Product).where(Product.sku == line.get("sku", ""))).first()
        unit_weight = product.weight_g if product else DEFAULT_WEIGHT_G
        weight += unit_weight * qty
        if product:
            length = max(length, product.length_cm)
            width = max(width, product.width_cm)
            height += product.height_cm * qty
        commodities.append(
            Commodity(
                description=str(line.get("title", "") or line.get("sku", "item"))[:100],
                quantity=qty,
                unit_value=_unit_value(line),
                currency=str(line.get("currency", order.total_currency)),
                weight_g=unit_weight,
                hs_code=product.hs_code if product else "",
                sku=str(line.get("sku", "")),
            )
        )
    international = recipient.country_code != settings.shipper_country_code
    shipper = shipper_address(settings, international)
    if international:
        refuse_non_latin(order.ebay_order_id, shipper, recipient)
    return ShipmentRequest(
        reference=label_reference(str(shipment.id)),
        shipper=shipper,
        recipient=recipient,
        parcel=Parcel(
            weight_g=max(weight, 1),
            length_cm=length or DEFAULT_LENGTH_CM,
            width_cm=width or DEFAULT_WIDTH_CM,
            height_cm=height or DEFAULT_HEIGHT_CM,
        ),
        service=service,
        customs=Customs(commodities=commodities) if international and commodities else None,
        item_description=", ".join(c.description for c in commodities)[:200],
    )


def load_shipment(session: Any, shipment_id: str) -> Shipment:
    shipment = session.get(Shipment, parse_uuid(shipment_id, "shipment id"))
    if shipment is None:
        raise ApplicationError(
            f"shipment {shipment_id} not found", type=NOT_FOUND, non_retryable=True
        )
    return shipment


class ShippingActivities:
    """The shipment row, rate quotes, exactly one label, tracking upload and tracking.

    One instance per worker; its `@activity.defn` methods are registered by name."""

    def __init__(self, deps: Dependencies) -> None:
        self.deps = deps
        self.settings = deps.settings

    def _carrier(self, name: str) -> Carrier:
        found = self.deps.carriers.get(name)
        if found is None:
            raise ApplicationError(
                f"unknown carrier {name!r}", type=VALIDATION_FAILED, non_retryable=True
            )
        return found

    @activity.defn(name=ENSURE_SHIPMENT_ACTIVITY)
    def ensure_shipment(self, request: EnsureShipment) -> ShipmentRef:
        order_uuid = parse_uuid(request.order_id, "order id")
        shipment_uuid = shipment_id_for(request.order_id)
        with session_scope(self.settings) as session:
            order = load_order(session, request.order_id)
            shipment = session.get(Shipment, shipment_uuid)
            if shipment is None:
                shipment = Shipment(id=shipment_uuid, order_id=order_uuid)
                session.add(shipment)
            domestic = (
                str(order.ship_to.get("country_code", "")).upper()
                == self.settings.shipper_country_code
            )
            return ShipmentRef(
                shipment_id=str(shipment_uuid), domestic=domestic, status=str(shipment.status)
            )

    @activity.defn(name=QUOTE_RATES_ACTIVITY)
    @external_call
    def quote_rates(self, request: QuoteRates) -> list[Quote]:
        """Quotes from every carrier that serves the route; one carrier failing does not hide the
        others (its error is raised only when nobody could quote)."""
        with session_scope(self.settings) as session:
            shipment = load_shipment(session, request.shipment_id)
            ship = build_request(session, self.settings, shipment)
        quotes: list[Quote] = []
        errors: list[AdapterError] = []
        for name, adapter in sorted(self.deps.carriers.items()):
            if not adapter.serves(ship.shipper, ship.recipient):
                continue
            try:
                rates = adapter.rate(ship)
            except AdapterError as error:
                activity.logger.warning("%s could not quote: %s", name, error)
                errors.append(error)
                continue
            quotes += [
                Quote(
                    carrier=r.carrier or name,
                    service=r.service,
                    service_name=r.service_name,
                    amount=r.amount,
                    currency=r.currency,
                    transit_days=r.transit_days,
                )
                for r in rates
            ]
        if not quotes and errors:
            raise errors[0]
        with session_scope(self.settings) as session:
            shipment = load_shipment(session, request.shipment_id)
            shipment.quotes = [q.model_dump(mode="json") for q in quotes]
            if shipment.status == ShipmentStatus.pending:
                shipment.status = ShipmentStatus.rated
            shipment.updated_at = utcnow()
            session.add(shipment)
        return quotes

    @activity.defn(name=BUY_LABEL_ACTIVITY)
    @external_call
    def buy_label(self, request: BuyLabel) -> BoughtLabel:
        reference = label_reference(request.shipment_id)
        kept, first = self._record_intent(request, reference)
        if kept is not None:  # a retry after our write: only look for an orphan to cancel
            if kept.tracking_number:
                kept.orphans_cancelled = self._cancel_found(
                    self._carrier(kept.carrier), reference, keep=kept.tracking_number
                )
            return kept
        # The intent is committed; only now talk to the carrier.
        adapter = self._carrier(request.carrier)
        found = None if first else adapter.find_label(reference)
        label = self._printable_or_void(adapter, request, found)
        if label is not None:
            activity.logger.info("label for %s already bought: keeping it", reference)
        else:
            with session_scope(self.settings) as session:
                ship = build_request(
                    session,
                    self.settings,
                    load_shipment(session, request.shipment_id),
                    request.service,
                )
            label = adapter.ship(ship)
        bought = self._store_label(request, label)
        self._record_bought(request, reference, bought)
        if bought.tracking_number:
            bought.orphans_cancelled = self._cancel_found(
                adapter, reference, keep=bought.tracking_number
            )
        return bought

    def _printable_or_void(
        self, adapter: Carrier, request: BuyLabel, found: Label | None
    ) -> Label | None:
        """The label found by reference if we can print it (its PDF came along or is stored);
        otherwise void it, so that the caller buys one more (rule 4 above)."""
        if found is None or found.label_data or found.label_format.upper() == "CSV":
            return found
        if self.deps.storage.exists(label_key(request.shipment_id)):
            return found
        activity.logger.warning(
            "label %s found without its PDF and the carrier has no reprint: voiding it",
            found.tracking_number,
        )
        adapter.cancel(found.tracking_number)
        return None

    def _record_intent(self, request: BuyLabel, reference: str) -> tuple[BoughtLabel | None, bool]:
        """Commit the intent row before any carrier call: the recorded label if already bought,
        and whether this attempt wrote the row first (no carrier call under it before)."""
        with session_scope(self.settings) as session:
            shipment = load_shipment(session, request.shipment_id)
            purchase = session.exec(
                select(LabelPurchase).where(LabelPurchase.idempotency_key == reference)
            ).first()
            if purchase is not None and purchase.status == "bought":
                return _bought_from_rows(purchase, shipment), False
            first = purchase is None
            if purchase is None:
                purchase = LabelPurchase(
                    shipment_id=shipment.id,
                    idempotency_key=reference,
                    carrier=request.carrier,
                    service=request.service,
                )
            elif purchase.carrier != request.carrier:
                # an earlier attempt chose another carrier: whatever it bought is an orphan now
                self._cancel_found(self._carrier(purchase.carrier), reference, keep="")
                purchase.carrier, purchase.service = request.carrier, request.service
            purchase.updated_at = utcnow()
            session.add(purchase)
        return None, first

    def _record_bought(self, request: BuyLabel, reference: str, bought: BoughtLabel) -> None:
        with session_scope(self.settings) as session:
            purchase = session.exec(
                select(LabelPurchase).where(LabelPurchase.idempotency_key == reference)
            ).one()
            shipment = load_shipment(session, request.shipment_id)
            purchase.status = "bought"
            purchase.service = bought.service
            purchase.tracking_number = bought.tracking_number
            purchase.label_key = bought.label_key or bought.handoff_key
            purchase.detail = {
                "amount": bought.cost_amount,  # what the carrier charged (else the quote)
                "currency": bought.cost_currency,
                "quoted_amount": request.amount,
                "quoted_currency": request.currency,
                "charge_flag": charge_over_quote(
                    bought.cost_amount,
                    bought.cost_currency,
                    request.amount,
                    request.currency,
                    self.settings.label_charge_margin_percent,
                ),
            }
            if purchase.detail["charge_flag"]:
                activity.logger.warning(
                    "label %s: %s", request.shipment_id, purchase.detail["charge_flag"]
                )
            purchase.updated_at = utcnow()
            shipment.carrier, shipment.service = bought.carrier, bought.service
            shipment.tracking_number = bought.tracking_number
            shipment.label_key, shipment.handoff_key = bought.label_key, bought.handoff_key
            shipment.cost_amount = bought.cost_amount
            shipment.cost_currency = bought.cost_currency
            shipment.status = (
                ShipmentStatus.label_created
                if bought.tracking_number
                else ShipmentStatus.awaiting_tracking
            )
            shipment.updated_at = utcnow()
            session.add(purchase)
            session.add(shipment)

    def _store_label(self, request: BuyLabel, label: Label) -> BoughtLabel:
        """Put the label bytes in S3; only the key goes back to the workflow."""
        result = BoughtLabel(
            carrier=label.carrier or request.carrier,
            service=label.service or request.service,
            tracking_number=label.tracking_number,
            cost_amount=label.amount or request.amount,
            cost_currency=label.currency or request.currency,
        )
        if label.label_format.upper() == "CSV":
            key = handoff_key(result.carrier, request.shipment_id)
            if label.label_data:
                self.deps.storage.put_bytes(key, label.label_data, "text/csv")
            elif not self.deps.storage.exists(key):
                raise ApplicationError(
                    f"{result.carrier} returned no hand-off CSV", type="LabelMissing"
                )
            result.handoff_key = key
        else:
            key = label_key(request.shipment_id)
            if label.label_data:
                self.deps.storage.put_bytes(key, label.label_data, "application/pdf")
            elif not self.deps.storage.exists(key):  # `_printable_or_void` let it through
                raise ApplicationError(
                    f"label {label.tracking_number} has no PDF", type="LabelMissing"
                )
            result.label_key = key
            if label.invoice_data:
                self.deps.storage.put_bytes(
                    invoice_key(result.carrier, request.shipment_id),
                    label.invoice_data,
                    "application/pdf",
                )
        return result

    def _cancel_found(self, adapter: Carrier, reference: str, keep: str) -> list[str]:
        """Cancel every label the carrier holds for our reference but the one we keep."""
        cancelled: list[str] = []
        for label in adapter.find_labels(reference):
            number = label.tracking_number
            if number and number != keep and number not in cancelled:
                activity.logger.warning("cancelling orphan label %s for %s", number, reference)
                adapter.cancel(number)
                cancelled.append(number)
        return cancelled

    @activity.defn(name=RECORD_TRACKING_ACTIVITY)
    def record_tracking(self, request: RecordTracking) -> None:
        with session_scope(self.settings) as session:
            shipment = load_shipment(session, request.shipment_id)
            shipment.tracking_number = request.tracking_number
            if shipment.status in (
                ShipmentStatus.pending,
                ShipmentStatus.rated,
                ShipmentStatus.awaiting_tracking,
            ):
                shipment.status = ShipmentStatus.label_created
            shipment.updated_at = utcnow()
            session.add(shipment)
            purchase = session.exec(
                select(LabelPurchase).where(
                    LabelPurchase.idempotency_key == label_reference(request.shipment_id)
                )
            ).first()
            if purchase is not None:
                purchase.tracking_number = request.tracking_number
                purchase.detail = {**purchase.detail, "handed_over_at": utcnow().isoformat()}
                purchase.updated_at = utcnow()
                session.add(purchase)

    @activity.defn(name=IMPORT_ISSUED_HISTORY_ACTIVITY)
    @external_call
    def import_issued_history(self, request: ImportHistoryRequest) -> str:
        """The tracking number the carrier issued for our reference, read from its history file."""
        data = self.deps.storage.get_bytes(request.key)
        reference = label_reference(request.shipment_id)
        try:
            pairs = self._carrier(request.carrier).parse_issued_history(data)
        except ValueError as error:
            raise ApplicationError(
                f"{request.key} is not a {request.carrier} issued-history file: {error}",
                type=VALIDATION_FAILED,
                non_retryable=True,
            ) from error
        for ref, tracking in pairs:
            if ref == reference:
                return tracking
        raise ApplicationError(
            f"{request.key} has no tracking number for {reference} ({len(pairs)} rows)",
            type=VALIDATION_FAILED,
            non_retryable=True,
        )

    @activity.defn(name=UPLOAD_TRACKING_ACTIVITY)
    @external_call
    def upload_tracking(self, request: UploadTracking) -> str:
        """Create the shipping fulfillment on eBay (the adapter reuses one with the same tracking
        number, so a retry after a lost response does not create a second)."""
        shipment_uuid = parse_uuid(request.shipment_id, "shipment id")
        shipments, orders = table_of(Shipment), table_of(Order)
        with connection_scope(self.settings) as connection:  # the columns needed, no ORM load
            found = connection.execute(
                sa.select(
                    shipments.c.tracking_number,
                    shipments.c.carrier,
                    shipments.c.order_id,
                    orders.c.line_items,
                )
                .join(orders, orders.c.id == shipments.c.order_id)
                .where(shipments.c.id == shipment_uuid)
            ).one_or_none()
        if found is None:
            raise ApplicationError(
                f"shipment {request.shipment_id} not found", type=NOT_FOUND, non_retryable=True
            )
        tracking, carrier_name, order_uuid, line_items = found
        if not tracking:
            raise ApplicationError(
                "shipment has no tracking number yet",
                type=VALIDATION_FAILED,
                non_retryable=True,
            )
        lines = [(str(li["line_item_id"]), int(li.get("quantity", 1))) for li in line_items]
        fulfillment_id = self.deps.ebay.create_shipping_fulfillment(
            request.ebay_order_id,
            lines,
            carrier_name,
            tracking,
            datetime.now(UTC),
        )
        now = utcnow()
        with connection_scope(self.settings) as connection:
            connection.execute(  # in transit only once the carrier scans
                sa.update(shipments)
                .where(shipments.c.id == shipment_uuid)
                .values(ebay_fulfillment_id=fulfillment_id, updated_at=now)
            )
            connection.execute(
                sa.update(orders)
                .where(
                    orders.c.id == order_uuid,
                    orders.c.status.in_(
                        (OrderStatus.received, OrderStatus.inspecting, OrderStatus.labelling)
                    ),
                )
                .values(status=OrderStatus.shipped, updated_at=now)
            )
        return fulfillment_id

    @activity.defn(name=TRACK_SHIPMENT_ACTIVITY)
    @external_call
    def track_shipment(self, request: TrackShipment) -> TrackingSnapshot:
        """The carrier's scans decide the shipment's status. A carrier page we do not read
        (status `unknown`) leaves it to staff (`POST /api/shipments/{id}/delivered`) or to the
        `DOMESTIC_CLOSE_AFTER_DAYS` rule, each recorded as an event with its note."""
        with session_scope(self.settings) as session:
            shipment = load_shipment(session, request.shipment_id)
            tracking, carrier_name = shipment.tracking_number, shipment.carrier
        info = self._carrier(carrier_name).track(tracking)
        with session_scope(self.settings) as session:
            shipment = load_shipment(session, request.shipment_id)
            return apply_tracking(session, shipment, info, self.settings)


def apply_tracking(
    session: Any, shipment: Shipment, info: TrackingInfo, settings: Settings
) -> TrackingSnapshot:
    """The carrier's answer into the shipment row (its events and status; a recorded delivery
    stands) and the order (delivered). One rule for the order's own check and the batched
    tracker: a carrier page we do not read (`unknown`) leaves the shipment to staff or to the
    `DOMESTIC_CLOSE_AFTER_DAYS` rule, each recorded as an event with its note."""
    status = str(info.status)
    last = info.events[-1].description if info.events else ""
    if info.events or info.status != TrackingStatus.unknown:
        ours = [e for e in shipment.events if e.get("code") in RECORDED_BY_US]
        shipment.events = [e.model_dump(mode="json") for e in info.events] + ours
    if info.status == TrackingStatus.unknown:
        if shipment.status != ShipmentStatus.delivered and closes_without_scan(
            _days_since_hand_over(session, shipment), settings.domestic_close_after_days
        ):
            note = (
                f"closed {settings.domestic_close_after_days:g} days after hand-off"
                " (carrier tracking not read: DOMESTIC_CLOSE_AFTER_DAYS)"
            )
            shipment.events = [*shipment.events, delivered_event(note, "AUTO")]
            shipment.status = ShipmentStatus.delivered
    else:
        found = shipment_status_for(status)
        if found is not None and shipment.status != ShipmentStatus.delivered:
            shipment.status = ShipmentStatus(found)  # a recorded delivery stands
    shipment.updated_at = utcnow()
    session.add(shipment)
    delivered = shipment.status == ShipmentStatus.delivered
    if delivered:
        mark_order_delivered(session, shipment)
        if not info.delivered:  # closed by staff or the rule: say so
            status, last = str(TrackingStatus.delivered), shipment.events[-1]["description"]
    return TrackingSnapshot(status=status, delivered=delivered, last_event=last)


def tracking_changes(shipment: Shipment, info: TrackingInfo) -> bool:
    """Whether `apply_tracking` could change the shipment: a status it would move to, carrier
    events other than those stored, or a page we do not read (then the close-after-days rule
    decides). False lets the batched tracker skip the write of a parcel whose answer is the one
    already stored (most parcels, most runs)."""
    if info.status == TrackingStatus.unknown:
        return True
    found = shipment_status_for(str(info.status))
    if (
        found is not None
        and shipment.status != ShipmentStatus.delivered
        and ShipmentStatus(found) != shipment.status
    ):
        return True
    if not info.events:
        return False
    ours = [e for e in shipment.events if e.get("code") in RECORDED_BY_US]
    return shipment.events != [e.model_dump(mode="json") for e in info.events] + ours


def _days_since_hand_over(session: Any, shipment: Shipment) -> float:
    purchase = session.exec(
        select(LabelPurchase).where(
            LabelPurchase.idempotency_key == label_reference(str(shipment.id))
        )
    ).first()
    since = purchase.detail.get("handed_over_at") if purchase else None
    start = datetime.fromisoformat(since) if since else shipment.created_at
    if start.tzinfo is None:  # SQLite hands datetimes back naive; they are UTC
        start = start.replace(tzinfo=UTC)
    return (datetime.now(UTC) - start).total_seconds() / 86400


RECORDED_BY_US = ("STAFF", "AUTO")
"""Event codes of deliveries we recorded without a carrier scan (kept beside the carrier's)."""


def delivered_event(note: str, code: str) -> dict[str, Any]:
    """A delivery we record without a carrier scan (staff, or the close-after-days rule)."""
    return {
        "occurred_at": datetime.now(UTC).isoformat(),
        "status": str(TrackingStatus.delivered),
        "code": code,
        "description": note,
        "location": "",
    }


def mark_order_delivered(session: Any, shipment: Shipment) -> None:
    order = session.get(Order, shipment.order_id)
    if order is not None and order.status == OrderStatus.shipped:
        order.status = OrderStatus.delivered
        order.updated_at = utcnow()
        session.add(order)


def _bought_from_rows(purchase: LabelPurchase, shipment: Shipment) -> BoughtLabel:
    return BoughtLabel(
        carrier=purchase.carrier,
        service=purchase.service,
        tracking_number=shipment.tracking_number or purchase.tracking_number,
        label_key=shipment.label_key,
        handoff_key=shipment.handoff_key,
        cost_amount=shipment.cost_amount,
        cost_currency=shipment.cost_currency,
    )

"""Shipping activities against the FedEx / Yamato / Sagawa / eBay emulators over HTTP, local S3
and the real database: exactly one label and one eBay fulfillment whatever is retried or lost."""

from __future__ import annotations

import uuid
from types import SimpleNamespace
from typing import Any

import httpx
import pytest
from sqlmodel import select
from temporalio.exceptions import ApplicationError
from temporalio.testing import ActivityEnvironment

from workflows.contracts.fulfillment import RecordOrder
from workflows.contracts.label import (
    BuyLabel,
    EnsureShipment,
    ImportHistoryRequest,
    QuoteRates,
    TrackShipment,
    UploadTracking,
    label_reference,
)

pytestmark = pytest.mark.timeout(60)


@pytest.fixture(scope="module")
def acts(settings, migrated_db, sandbox) -> Any:
    from activities.deps import Dependencies
    from activities.orders import OrderActivities
    from activities.shipping import ShippingActivities
    from adapters.s3 import Storage

    Storage(settings).ensure_bucket()
    deps = Dependencies(settings)
    return SimpleNamespace(orders=OrderActivities(deps), shipping=ShippingActivities(deps))


def lose_next(sandbox, service: str, path: str) -> None:
    answer = httpx.post(
        f"{sandbox.base_url}/_sandbox/faults",
        json={service: {"lost_response_rate": 1.0, "times": 1, "path_contains": path}},
    )
    answer.raise_for_status()


def shipment_for(acts, sandbox, **spec: Any) -> tuple[str, str, str]:
    """An imported, recorded eBay order and its shipment: (ebay order id, order id, shipment id)."""
    created = httpx.post(
        f"{sandbox.base_url}/_sandbox/orders",
        json={"orders": [{"sku": f"SHP-{uuid.uuid4().hex[:8]}", **spec}]},
    )
    created.raise_for_status()
    ebay_order_id = created.json()["orders"][0]["orderId"]
    env = ActivityEnvironment()
    order = env.run(acts.orders.record_order, RecordOrder(ebay_order_id=ebay_order_id))
    ref = env.run(acts.shipping.ensure_shipment, EnsureShipment(order_id=order.order_id))
    return ebay_order_id, order.order_id, ref.shipment_id


def rows(settings, shipment_id: str):
    from models import LabelPurchase, Shipment
    from models.db import session_scope

    with session_scope(settings) as session:
        shipment = session.get(Shipment, uuid.UUID(shipment_id))
        purchases = session.exec(
            select(LabelPurchase).where(LabelPurchase.shipment_id == uuid.UUID(shipment_id))
        ).all()
        return shipment, purchases


def fedex_label(acts, shipment_id: str) -> BuyLabel:
    quotes = ActivityEnvironment().run(
        acts.shipping.quote_rates, QuoteRates(shipment_id=shipment_id)
    )
    quote = next(q for q in quotes if q.carrier == "fedex")
    return BuyLabel(
        shipment_id=shipment_id,
        carrier="fedex",
        service=quote.service,
        amount=quote.amount,
        currency=quote.currency,
    )


def test_shipment_is_created_once_per_order(acts, sandbox) -> None:
    _, order_id, shipment_id = shipment_for(acts, sandbox, country_code="US")
    again = ActivityEnvironment().run(
        acts.shipping.ensure_shipment, EnsureShipment(order_id=order_id)
    )
    assert again.shipment_id == shipment_id and not again.domestic


def test_quotes_only_from_carriers_serving_the_route(acts, sandbox, settings) -> None:
    _, _, international = shipment_for(acts, sandbox, country_code="GB")
    quotes = ActivityEnvironment().run(
        acts.shipping.quote_rates, QuoteRates(shipment_id=international)
    )
    assert quotes and {q.carrier for q in quotes} == {"fedex"}
    _, _, domestic = shipment_for(acts, sandbox, domestic=True)
    quotes = ActivityEnvironment().run(acts.shipping.quote_rates, QuoteRates(shipment_id=domestic))
    assert {"yamato", "sagawa"} <= {q.carrier for q in quotes}
    shipment, _ = rows(settings, domestic)
    assert shipment.status == "rated" and len(shipment.quotes) == len(quotes)


def test_lost_ship_response_buys_exactly_one_label(acts, sandbox, settings) -> None:
    from adapters.s3 import Storage

    _, _, shipment_id = shipment_for(acts, sandbox, country_code="US")
    request = fedex_label(acts, shipment_id)
    reference = label_reference(shipment_id)
    lose_next(sandbox, "fedex", "/ship/v1/shipments")
    with pytest.raises(ApplicationError) as err:  # FedEx bought it; the answer never came
        ActivityEnvironment().run(acts.shipping.buy_label, request)
    assert not err.value.non_retryable
    _, purchases = rows(settings, shipment_id)
    assert [p.status for p in purchases] == ["intent"]  # the intent was written first

    lost = sandbox.ctx.ledger  # the label FedEx bought is found by reference, without a PDF
    bought = ActivityEnvironment().run(acts.shipping.buy_label, request)  # Temporal's retry
    again = ActivityEnvironment().run(acts.shipping.buy_label, request)  # and once more
    assert again.tracking_number == bought.tracking_number and bought.tracking_number
    # FedEx has no reprint: the label found without its document was voided and one more bought
    assert lost.count("fedex", "label_bought", reference) == 2
    assert lost.count("fedex", "label_cancelled") == 1
    assert lost.count("fedex", "label_cancelled", bought.tracking_number) == 0
    shipment, purchases = rows(settings, shipment_id)
    assert len(purchases) == 1 and purchases[0].status == "bought"
    assert purchases[0].idempotency_key == reference
    assert shipment.tracking_number == bought.tracking_number
    assert shipment.status == "label_created"
    assert bought.label_key == f"shipping-labels/{shipment_id}.pdf"
    assert Storage(settings).get_bytes(bought.label_key).startswith(b"%PDF")


def test_first_label_attempt_does_not_look_up_its_reference_before_buying(
    acts, sandbox, settings
) -> None:
    """The attempt that writes the intent row asks FedEx nothing before buying (no call was
    made under that reference before the row existed): the ship call, then the one lookup of
    rule 3 for an orphan from a racing attempt."""
    _, _, shipment_id = shipment_for(acts, sandbox, country_code="DE")
    request = fedex_label(acts, shipment_id)

    def requests() -> int:
        return sum(sum(n) for n in sandbox.ctx.meter.per_second("fedex").values())

    before = requests()
    bought = ActivityEnvironment().run(acts.shipping.buy_label, request)
    assert bought.tracking_number
    assert requests() - before == 2  # was 3: a reference lookup, the ship call, the lookup


def test_label_activity_twice_buys_once_and_cancels_an_orphan(acts, sandbox, settings) -> None:
    from activities.deps import Dependencies
    from activities.shipping import build_request
    from adapters.s3 import Storage
    from models import Shipment
    from models.db import session_scope

    _, _, shipment_id = shipment_for(acts, sandbox, country_code="DE")
    request = fedex_label(acts, shipment_id)
    reference = label_reference(shipment_id)
    first = ActivityEnvironment().run(acts.shipping.buy_label, request)
    second = ActivityEnvironment().run(acts.shipping.buy_label, request)
    assert first.tracking_number == second.tracking_number
    assert first.label_key == f"shipping-labels/{shipment_id}.pdf"
    assert Storage(settings).get_bytes(first.label_key).startswith(b"%PDF")
    assert sandbox.ctx.ledger.count("fedex", "label_bought", reference) == 1

    # Two attempts raced (the first one's worker died after FedEx answered, before our write):
    # FedEx holds an orphan bought first and the label we recorded. A retry keeps ours and
    # cancels the orphan.
    from models import LabelPurchase

    _, _, raced_id = shipment_for(acts, sandbox, country_code="DE")
    raced = fedex_label(acts, raced_id)
    fedex = Dependencies(settings).carriers["fedex"]
    with session_scope(settings) as session:
        ship = build_request(
            session, settings, session.get(Shipment, uuid.UUID(raced_id)), raced.service
        )
    orphan = fedex.ship(ship)
    ours = fedex.ship(ship)
    with session_scope(settings) as session:
        session.add(
            LabelPurchase(
                shipment_id=uuid.UUID(raced_id),
                idempotency_key=label_reference(raced_id),
                carrier="fedex",
                service=raced.service,
                status="bought",
                tracking_number=ours.tracking_number,
            )
        )
        shipment = session.get(Shipment, uuid.UUID(raced_id))
        shipment.carrier, shipment.tracking_number = "fedex", ours.tracking_number
        session.add(shipment)
    kept = ActivityEnvironment().run(acts.shipping.buy_label, raced)
    assert kept.tracking_number == ours.tracking_number
    assert kept.orphans_cancelled == [orphan.tracking_number]
    ledger = sandbox.ctx.ledger
    assert ledger.count("fedex", "label_cancelled", orphan.tracking_number) == 1
    assert ledger.count("fedex", "label_cancelled", ours.tracking_number) == 0
    assert fedex.find_label(label_reference(raced_id)).tracking_number == ours.tracking_number


def test_tracking_upload_twice_and_lost_is_one_fulfillment(acts, sandbox, settings) -> None:
    ebay_order_id, order_id, shipment_id = shipment_for(acts, sandbox, country_code="US")
    ActivityEnvironment().run(acts.shipping.buy_label, fedex_label(acts, shipment_id))
    upload = UploadTracking(ebay_order_id=ebay_order_id, shipment_id=shipment_id)
    lose_next(sandbox, "ebay", "/shipping_fulfillment")
    with pytest.raises(ApplicationError):
        ActivityEnvironment().run(acts.shipping.upload_tracking, upload)
    first = ActivityEnvironment().run(acts.shipping.upload_tracking, upload)
    second = ActivityEnvironment().run(acts.shipping.upload_tracking, upload)
    assert first == second and first
    assert sandbox.ctx.ledger.count("ebay", "fulfillment", ebay_order_id) == 1
    shipment, _ = rows(settings, shipment_id)
    # uploaded to eBay, but FedEx has not scanned it: the status follows the carrier
    assert shipment.status == "label_created" and shipment.ebay_fulfillment_id == first

    # Tracking: FedEx picks it up, then delivers it; the rows follow.
    snapshot = ActivityEnvironment().run(
        acts.shipping.track_shipment, TrackShipment(shipment_id=shipment_id)
    )
    assert not snapshot.delivered and rows(settings, shipment_id)[0].status == "label_created"
    httpx.post(
        f"{sandbox.base_url}/_sandbox/fedex/advance",
        json={"tracking_number": shipment.tracking_number, "to": "picked_up"},
    ).raise_for_status()
    ActivityEnvironment().run(acts.shipping.track_shipment, TrackShipment(shipment_id=shipment_id))
    assert rows(settings, shipment_id)[0].status == "in_transit"
    httpx.post(
        f"{sandbox.base_url}/_sandbox/fedex/advance",
        json={"tracking_number": shipment.tracking_number, "to": "delivered"},
    ).raise_for_status()
    snapshot = ActivityEnvironment().run(
        acts.shipping.track_shipment, TrackShipment(shipment_id=shipment_id)
    )
    assert snapshot.delivered and snapshot.status == "delivered"
    shipment, _ = rows(settings, shipment_id)
    assert shipment.status == "delivered" and shipment.events

    from models import Order
    from models.db import session_scope

    with session_scope(settings) as session:
        assert session.get(Order, uuid.UUID(order_id)).status == "delivered"


def test_upload_without_tracking_is_permanent(acts, sandbox) -> None:
    ebay_order_id, _, shipment_id = shipment_for(acts, sandbox, country_code="US")
    with pytest.raises(ApplicationError) as err:
        ActivityEnvironment().run(
            acts.shipping.upload_tracking,
            UploadTracking(ebay_order_id=ebay_order_id, shipment_id=shipment_id),
        )
    assert err.value.non_retryable and "no tracking number" in str(err.value)


def test_yamato_handoff_csv_and_issued_history(acts, sandbox, settings) -> None:
    from adapters.s3 import Storage

    _, _, shipment_id = shipment_for(acts, sandbox, domestic=True)
    quotes = ActivityEnvironment().run(
        acts.shipping.quote_rates, QuoteRates(shipment_id=shipment_id)
    )
    quote = next(q for q in quotes if q.carrier == "yamato")
    request = BuyLabel(shipment_id=shipment_id, carrier="yamato", service=quote.service)
    bought = ActivityEnvironment().run(acts.shipping.buy_label, request)
    assert (
        not bought.tracking_number and bought.handoff_key == f"documents/yamato/{shipment_id}.csv"
    )
    shipment, _ = rows(settings, shipment_id)
    assert shipment.status == "awaiting_tracking"
    storage = Storage(settings)
    csv = storage.get_bytes(bought.handoff_key)
    httpx.post(
        f"{sandbox.base_url}/_sandbox/yamato/b2/import",
        content=csv,
        headers={"Content-Type": "text/csv"},
    ).raise_for_status()
    history = httpx.get(f"{sandbox.base_url}/_sandbox/yamato/b2/history")
    history.raise_for_status()
    key = f"documents/yamato/history-{uuid.uuid4().hex[:8]}.csv"
    storage.put_bytes(key, history.content, "text/csv")
    tracking = ActivityEnvironment().run(
        acts.shipping.import_issued_history,
        ImportHistoryRequest(shipment_id=shipment_id, carrier="yamato", key=key),
    )
    assert len(tracking) == 12 and int(tracking[:11]) % 7 == int(tracking[11])

    # A history file without our reference is a clear, permanent refusal.
    _, _, other = shipment_for(acts, sandbox, domestic=True)
    with pytest.raises(ApplicationError) as err:
        ActivityEnvironment().run(
            acts.shipping.import_issued_history,
            ImportHistoryRequest(shipment_id=other, carrier="yamato", key=key),
        )
    assert err.value.non_retryable and "no tracking number for" in str(err.value)


def _pdf_text(data: bytes) -> str:
    import io

    from pypdf import PdfReader

    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)


def test_international_label_prints_the_english_shipper_address(acts, sandbox, settings) -> None:
    """The real FedEx emulator label PDF, read back with pypdf: our address in English, no `?`
    where a character could not print."""
    from adapters.s3 import Storage

    _, _, shipment_id = shipment_for(acts, sandbox, country_code="US")
    bought = ActivityEnvironment().run(acts.shipping.buy_label, fedex_label(acts, shipment_id))
    text = _pdf_text(Storage(settings).get_bytes(bought.label_key))
    assert settings.shipper_address_line1_en in text and settings.shipper_city_en in text
    assert "?" not in text, text


def test_non_latin_address_is_refused_before_any_quote_or_purchase(acts, sandbox) -> None:
    _, _, shipment_id = shipment_for(
        acts, sandbox, country_code="US", ship_to_name="山田 太郎", ship_to_line1="1 Main St"
    )
    with pytest.raises(ApplicationError) as err:
        ActivityEnvironment().run(acts.shipping.quote_rates, QuoteRates(shipment_id=shipment_id))
    assert err.value.type == "AddressNotLatin" and err.value.non_retryable
    assert "recipient name" in err.value.message
    request = BuyLabel(shipment_id=shipment_id, carrier="fedex", service="INTERNATIONAL_ECONOMY")
    with pytest.raises(ApplicationError) as err:
        ActivityEnvironment().run(acts.shipping.buy_label, request)
    assert err.value.type == "AddressNotLatin"
    assert sandbox.ctx.ledger.count("fedex", "label_bought", label_reference(shipment_id)) == 0


def test_domestic_handoff_keeps_the_japanese_shipper_address(acts, sandbox, settings) -> None:
    from adapters.s3 import Storage

    _, _, shipment_id = shipment_for(acts, sandbox, domestic=True)
    request = BuyLabel(shipment_id=shipment_id, carrier="yamato", service="TA-Q-BIN")
    bought = ActivityEnvironment().run(acts.shipping.buy_label, request)
    csv = Storage(settings).get_bytes(bought.handoff_key).decode("cp932")
    assert settings.shipper_address_line1 in csv and settings.shipper_city in csv


def test_recorded_cost_is_the_charge_and_a_surcharge_is_flagged(acts, sandbox, settings) -> None:
    _, _, fair_id = shipment_for(acts, sandbox, country_code="US")
    fair = fedex_label(acts, fair_id)
    bought = ActivityEnvironment().run(acts.shipping.buy_label, fair)
    assert bought.cost_amount and float(bought.cost_amount) == float(fair.amount)
    _, purchases = rows(settings, fair_id)
    assert purchases[0].detail["quoted_amount"] == fair.amount
    assert purchases[0].detail["charge_flag"] == ""

    httpx.post(
        f"{sandbox.base_url}/_sandbox/fedex/settings", json={"surcharge_percent": 20}
    ).raise_for_status()
    try:
        _, _, dear_id = shipment_for(acts, sandbox, country_code="US")
        dear = fedex_label(acts, dear_id)
        charged = ActivityEnvironment().run(acts.shipping.buy_label, dear)
    finally:
        httpx.post(
            f"{sandbox.base_url}/_sandbox/fedex/settings", json={"surcharge_percent": 0}
        ).raise_for_status()
    assert float(charged.cost_amount) == pytest.approx(float(dear.amount) * 1.2, abs=0.02)
    shipment, purchases = rows(settings, dear_id)
    assert shipment.cost_amount == charged.cost_amount  # the charge, not the quote
    assert purchases[0].detail["quoted_amount"] == dear.amount
    assert "+20.0%" in purchases[0].detail["charge_flag"]


def test_domestic_status_follows_the_carrier_scans(acts, sandbox, settings) -> None:
    """Yamato on the emulator: label_created until the pickup scan, then in transit, then
    delivered (the order too)."""
    from workflows.contracts.label import RecordTracking

    ebay_order_id, _, shipment_id = shipment_for(acts, sandbox, domestic=True)
    request = BuyLabel(shipment_id=shipment_id, carrier="yamato", service="TA-Q-BIN")
    bought = ActivityEnvironment().run(acts.shipping.buy_label, request)
    from adapters.s3 import Storage

    csv = Storage(settings).get_bytes(bought.handoff_key)
    httpx.post(
        f"{sandbox.base_url}/_sandbox/yamato/b2/import",
        content=csv,
        headers={"Content-Type": "text/csv"},
    ).raise_for_status()
    history = httpx.get(f"{sandbox.base_url}/_sandbox/yamato/b2/history").content
    tracking = dict(acts.shipping.deps.carriers["yamato"].parse_issued_history(history))[
        label_reference(shipment_id)
    ]
    ActivityEnvironment().run(
        acts.shipping.record_tracking,
        RecordTracking(shipment_id=shipment_id, carrier="yamato", tracking_number=tracking),
    )
    ActivityEnvironment().run(
        acts.shipping.upload_tracking,
        UploadTracking(ebay_order_id=ebay_order_id, shipment_id=shipment_id),
    )
    shipment, _ = rows(settings, shipment_id)
    assert shipment.status == "label_created"  # uploaded to eBay, not scanned yet
    track = TrackShipment(shipment_id=shipment_id)
    steps = _timeline("yamato", sandbox)
    httpx.post(
        f"{sandbox.base_url}/_sandbox/yamato/advance",
        json={"tracking_number": tracking, "to": steps[1]},
    ).raise_for_status()
    snapshot = ActivityEnvironment().run(acts.shipping.track_shipment, track)
    assert not snapshot.delivered and rows(settings, shipment_id)[0].status == "in_transit"
    httpx.post(
        f"{sandbox.base_url}/_sandbox/yamato/advance",
        json={"tracking_number": tracking, "to": steps[-1]},
    ).raise_for_status()
    assert ActivityEnvironment().run(acts.shipping.track_shipment, track).delivered
    assert rows(settings, shipment_id)[0].status == "delivered"


def _timeline(carrier: str, sandbox) -> list[str]:
    from sandbox.sagawa import PROFILE as SAGAWA
    from sandbox.yamato import PROFILE as YAMATO

    profile = YAMATO if carrier == "yamato" else SAGAWA
    return [status for status, _ in profile.timeline]


def test_unread_domestic_tracking_closes_after_the_configured_days(acts, sandbox, settings) -> None:
    """Production without tracking-page reading: the parcel counts as delivered
    DOMESTIC_CLOSE_AFTER_DAYS after hand-off, with a note in its events."""
    from activities.deps import Dependencies
    from activities.shipping import ShippingActivities
    from models import LabelPurchase
    from models.db import session_scope
    from workflows.contracts.label import RecordTracking

    unread = settings.model_copy(update={"yamato_tracking_enabled": False})
    shipping = ShippingActivities(Dependencies(unread))
    _, _, shipment_id = shipment_for(acts, sandbox, domestic=True)
    request = BuyLabel(shipment_id=shipment_id, carrier="yamato", service="TA-Q-BIN")
    ActivityEnvironment().run(shipping.buy_label, request)
    ActivityEnvironment().run(
        shipping.record_tracking,
        RecordTracking(shipment_id=shipment_id, carrier="yamato", tracking_number="123456789014"),
    )
    track = TrackShipment(shipment_id=shipment_id)
    assert not ActivityEnvironment().run(shipping.track_shipment, track).delivered
    with session_scope(settings) as session:  # the parcel was handed over six days ago
        purchase = session.exec(
            select(LabelPurchase).where(LabelPurchase.shipment_id == uuid.UUID(shipment_id))
        ).one()
        purchase.detail = {**purchase.detail, "handed_over_at": "2020-01-01T00:00:00+00:00"}
        session.add(purchase)
    snapshot = ActivityEnvironment().run(shipping.track_shipment, track)
    assert snapshot.delivered and "DOMESTIC_CLOSE_AFTER_DAYS" in snapshot.last_event
    shipment, _ = rows(settings, shipment_id)
    assert shipment.status == "delivered" and shipment.events[-1]["code"] == "AUTO"

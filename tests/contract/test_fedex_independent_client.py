"""karrio's FedEx connector (an independent, widely used FedEx REST client, installed from the
package index as a dev dependency) against the FedEx emulator, unmodified: the only change is
the base URL, which karrio derives from `test_mode` in a read-only property, so a subclass of its
settings supplies ours. Every request it sends is also checked against FedEx's OpenAPI files."""

from __future__ import annotations

import base64
import json
from datetime import datetime
from typing import Any

import attr
import httpx
import karrio.sdk as karrio
import pytest
from karrio.core import models
from karrio.mappers.fedex.settings import Settings as KarrioFedexSettings

from sandbox.oas import load_spec

SCHEMAS = {
    "/rate/v1/rates/quotes": ("fedex-rate", "Full_Schema_Quote_Rate"),
    "/ship/v1/shipments": ("fedex-ship", "Full_Schema_Ship"),
    "/ship/v1/shipments/cancel": ("fedex-ship", "Full_Schema_Cancel_Shipment"),
    "/track/v1/trackingnumbers": ("fedex-track", "Full_Schema_Tracking_Numbers"),
}


@attr.s(auto_attribs=True)
class EmulatorSettings(KarrioFedexSettings):
    base_url: str = ""

    @property
    def server_url(self) -> str:
        return self.base_url


SHIPPER = models.Address(
    company_name="The World Door",
    person_name="Shipping Desk",
    address_line1="1-1 Chiyoda",
    city="Chiyoda-ku",
    postal_code="1000001",
    country_code="JP",
    phone_number="+81312345678",
)
RECIPIENT = models.Address(
    person_name="Jane Doe",
    address_line1="1 Market St",
    city="San Francisco",
    state_code="CA",
    postal_code="94105",
    country_code="US",
    phone_number="+14155550100",
    email="jane@example.com",
    residential=True,
)
# A production client's parcel: pounds and inches, floats everywhere.
PARCEL = models.Parcel(
    weight=2.6, weight_unit="LB", length=12.0, width=8.0, height=4.0, dimension_unit="IN"
)
CUSTOMS = models.Customs(
    commodities=[
        models.Commodity(
            title="Seiko wristwatch",
            description="Seiko wristwatch",
            quantity=1,
            weight=0.6,
            weight_unit="LB",
            value_amount=129.0,
            value_currency="USD",
            hs_code="910211",
            origin_country="JP",
        )
    ],
    incoterm="DDU",
    content_type="merchandise",
    duty=models.Duty(paid_by="recipient"),
    commercial_invoice=True,
)


@pytest.fixture
def gateway(clean_sandbox, settings) -> Any:
    return karrio.gateway["fedex"].create(
        EmulatorSettings(
            base_url=f"{clean_sandbox.base_url}/fedex",
            api_key=settings.fedex_api_key,
            secret_key=settings.fedex_secret_key.get_secret_value(),
            account_number=settings.fedex_account_number,
            # FedEx issues Track a key pair of its own; ours serves both.
            track_api_key=settings.fedex_api_key,
            track_secret_key=settings.fedex_secret_key.get_secret_value(),
            account_country_code="JP",
            test_mode=True,
        )
    )


def _requests(gateway: Any) -> list[tuple[str, dict[str, Any]]]:
    """The JSON bodies karrio sent, from its own tracer."""
    sent = []
    for record in gateway.tracer.records:
        if record.key == "request" and str(record.data.get("url", "")).endswith(tuple(SCHEMAS)):
            path = next(p for p in SCHEMAS if str(record.data["url"]).endswith(p))
            sent.append((path, json.loads(record.data["data"])))
    return sent


def _errors(messages: list[models.Message]) -> list[str]:
    return [f"{m.code}: {m.message}" for m in messages]


def test_karrio_rates_ships_tracks_and_cancels_unmodified(gateway) -> None:
    rates, messages = (
        karrio.Rating.fetch(
            models.RateRequest(
                shipper=SHIPPER,
                recipient=RECIPIENT,
                parcels=[PARCEL],
                customs=CUSTOMS,
                options={"currency": "USD"},
            )
        )
        .from_(gateway)
        .parse()
    )
    assert not _errors(messages)
    assert {r.service for r in rates} == {
        "fedex_international_priority",
        "fedex_international_economy",
        "fedex_international_connect_plus",
    }
    for rate in rates:
        # karrio asks for PREFERRED rates in USD and takes them first.
        assert rate.currency == "USD" and rate.total_charge > 0
        names = {c.name for c in rate.extra_charges}
        assert {"Base Charge", "Discounts", "Fuel Surcharge"} <= names
        assert rate.transit_days and rate.transit_days > 0

    one, messages = (
        karrio.Rating.fetch(
            models.RateRequest(
                shipper=SHIPPER,
                recipient=RECIPIENT,
                parcels=[PARCEL],
                services=["fedex_international_economy"],
                options={"currency": "USD"},
            )
        )
        .from_(gateway)
        .parse()
    )
    assert not _errors(messages) and [r.service for r in one] == ["fedex_international_economy"]

    shipment, messages = (
        karrio.Shipment.create(
            models.ShipmentRequest(
                service="fedex_international_priority",
                shipper=SHIPPER,
                recipient=RECIPIENT,
                parcels=[PARCEL],
                customs=CUSTOMS,
                payment=models.Payment(paid_by="sender"),
                reference="order-1001",
                label_type="PDF",
            )
        )
        .from_(gateway)
        .parse()
    )
    assert not _errors(messages) and shipment is not None
    assert base64.b64decode(shipment.docs.label).startswith(b"%PDF")
    number = shipment.tracking_number

    tracking, messages = (
        karrio.Tracking.fetch(models.TrackingRequest(tracking_numbers=[number]))
        .from_(gateway)
        .parse()
    )
    assert not _errors(messages)
    [details] = tracking
    assert details.tracking_number == number and details.events
    assert all(e.date and e.time for e in details.events)

    cancelled, messages = (
        karrio.Shipment.cancel(models.ShipmentCancelRequest(shipment_identifier=number))
        .from_(gateway)
        .parse()
    )
    assert not _errors(messages) and cancelled.success

    sent = _requests(gateway)
    assert {path for path, _ in sent} == set(SCHEMAS)
    for path, body in sent:
        spec, schema = SCHEMAS[path]
        load_spec(spec)._validate(f"components/schemas/{schema}", body)


def test_karrio_gets_fedex_errors_for_what_fedex_refuses(gateway, clean_sandbox) -> None:
    _rates, messages = (
        karrio.Rating.fetch(
            models.RateRequest(
                shipper=SHIPPER,
                recipient=RECIPIENT,
                parcels=[PARCEL],
                services=["fedex_ground"],
            )
        )
        .from_(gateway)
        .parse()
    )
    assert any("FEDEX_GROUND" in m.message for m in messages)

    domestic = models.Address(**{**attr.asdict(SHIPPER), "postal_code": "5300001"})
    _rates, messages = (
        karrio.Rating.fetch(
            models.RateRequest(shipper=SHIPPER, recipient=domestic, parcels=[PARCEL])
        )
        .from_(gateway)
        .parse()
    )
    assert messages and messages[0].code == "SERVICE.UNAVAILABLE.ERROR"

    # Cancelling with another account number is refused, the shipment stays.
    cancelled, messages = (
        karrio.Shipment.cancel(models.ShipmentCancelRequest(shipment_identifier="794000000000"))
        .from_(gateway)
        .parse()
    )
    assert messages and not (cancelled and cancelled.success)
    assert httpx.get(f"{clean_sandbox.base_url}/_sandbox/health").status_code == 200


def test_scan_dates_are_what_karrio_parses(gateway) -> None:
    """karrio parses scan dates with FedEx's `%Y-%m-%dT%H:%M:%S%z` (microseconds fail)."""
    shipment, _ = (
        karrio.Shipment.create(
            models.ShipmentRequest(
                service="fedex_international_economy",
                shipper=SHIPPER,
                recipient=RECIPIENT,
                parcels=[PARCEL],
                customs=CUSTOMS,
                payment=models.Payment(paid_by="sender"),
            )
        )
        .from_(gateway)
        .parse()
    )
    tracking, _ = (
        karrio.Tracking.fetch(models.TrackingRequest(tracking_numbers=[shipment.tracking_number]))
        .from_(gateway)
        .parse()
    )
    events = tracking[0].events
    assert events and all(e.timestamp for e in events)
    for event in events:
        assert datetime.strptime(event.date, "%Y-%m-%d") and event.time

"""What the FedEx adapter sends and what the emulator answers, checked against FedEx's own
OpenAPI files (the request bodies there are `oneOf` sample payloads, so requests are checked
against each operation's full schema)."""

from __future__ import annotations

import json

import httpx
import pytest

from adapters.carriers.fedex import FedexCarrier
from sandbox.oas import SpecViolation, load_spec
from tests.adapters.carriers.test_fedex import request

REQUEST_SCHEMAS = {
    "/rate/v1/rates/quotes": ("fedex-rate", "Full_Schema_Quote_Rate"),
    "/ship/v1/shipments": ("fedex-ship", "Full_Schema_Ship"),
    "/ship/v1/shipments/cancel": ("fedex-ship", "Full_Schema_Cancel_Shipment"),
    "/track/v1/trackingnumbers": ("fedex-track", "Full_Schema_Tracking_Numbers"),
    "/track/v1/referencenumbers": ("fedex-track", "Full_Schema_Tracking_References"),
}
SPEC_OF = {"/oauth/token": "fedex-auth", **{p: s for p, (s, _) in REQUEST_SCHEMAS.items()}}


def test_every_call_matches_the_fedex_specs(settings, clean_sandbox) -> None:
    exchanges: list[tuple[str, str, bytes, int, bytes]] = []

    def record(response: httpx.Response) -> None:
        response.read()
        path = response.request.url.path.removeprefix("/fedex")
        exchanges.append(
            (
                response.request.method,
                path,
                response.request.content,
                response.status_code,
                response.content,
            )
        )

    carrier = FedexCarrier(settings, http=httpx.Client(event_hooks={"response": [record]}))
    req = request()
    carrier.rate(req)
    label = carrier.ship(req)
    carrier.track(label.tracking_number)
    assert carrier.find_label(req.reference) is not None
    carrier.cancel(label.tracking_number)

    seen = set()
    compared: dict[str, int] = {}
    for method, path, sent, status, received in exchanges:
        seen.add(path)
        spec = load_spec(SPEC_OF[path])
        if path in REQUEST_SCHEMAS:
            spec._validate(f"components/schemas/{REQUEST_SCHEMAS[path][1]}", json.loads(sent))
        spec.validate_response(method, path, status, json.loads(received))
        reply = json.loads(received)
        compared[path] = compared.get(path, 0) + spec.check_examples(method, path, status, reply)
    assert seen == set(SPEC_OF)
    # FedEx documents example replies for each call; ours share their keys and types.
    assert all(compared[p] >= 3 for p in REQUEST_SCHEMAS), compared
    assert compared["/rate/v1/rates/quotes"] >= 40 and compared["/track/v1/trackingnumbers"] >= 20


def test_the_schema_check_can_fail() -> None:
    spec = load_spec("fedex-ship")
    with pytest.raises(SpecViolation):
        spec._validate("components/schemas/Full_Schema_Ship", {"labelResponseOptions": "LABEL"})


def test_the_example_check_can_fail() -> None:
    """What the emulator used to answer: microseconds in scan dates, a string for a charge."""
    spec = load_spec("fedex-track")
    scan = {"date": "2026-12-01T23:49:40.605069+00:00", "eventType": "PU"}
    reply = {"output": {"completeTrackResults": [{"trackResults": [{"scanEvents": [scan]}]}]}}
    with pytest.raises(SpecViolation, match="not written like the example"):
        spec.check_examples("POST", "/track/v1/trackingnumbers", 200, reply)
    scan["date"] = "2026-12-01T23:49:40+09:00"
    assert spec.check_examples("POST", "/track/v1/trackingnumbers", 200, reply) >= 5
    rate = {"output": {"rateReplyDetails": [{"ratedShipmentDetails": [{"totalNetCharge": "1"}]}]}}
    with pytest.raises(SpecViolation, match="string where the example has number"):
        load_spec("fedex-rate").check_examples("POST", "/rate/v1/rates/quotes", 200, rate)


def test_integral_floats_are_integers_and_fractions_are_not() -> None:
    spec = load_spec("fedex-rate")
    body = {
        "accountNumber": {"value": "740561073"},
        "requestedShipment": {
            "shipper": {"address": {"postalCode": "1000001", "countryCode": "JP"}},
            "recipient": {"address": {"postalCode": "94105", "countryCode": "US"}},
            "pickupType": "DROPOFF_AT_FEDEX_LOCATION",
            "requestedPackageLineItems": [
                {
                    "weight": {"units": "KG", "value": 1.2},
                    "dimensions": {"length": 30.0, "width": 20.0, "height": 10.0, "units": "CM"},
                }
            ],
        },
    }
    spec._validate("components/schemas/Full_Schema_Quote_Rate", body)
    body["requestedShipment"]["requestedPackageLineItems"][0]["dimensions"]["height"] = 10.5
    with pytest.raises(SpecViolation, match="integer"):
        spec._validate("components/schemas/Full_Schema_Quote_Rate", body)

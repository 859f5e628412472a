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
    for method, path, sent, status, received in exchanges:
        seen.add(path)
        spec = load_spec(SPEC_OF[path])
        if path in REQUEST_SCHEMAS:
            spec._validate(f"components/schemas/{REQUEST_SCHEMAS[path][1]}", json.loads(sent))
        spec.validate_response(method, path, status, json.loads(received))
    assert seen == set(SPEC_OF)


def test_the_schema_check_can_fail() -> None:
    spec = load_spec("fedex-ship")
    with pytest.raises(SpecViolation):
        spec._validate("components/schemas/Full_Schema_Ship", {"labelResponseOptions": "LABEL"})

"""The FedEx emulator over raw HTTP, sent what a production client sends: the rate shape FedEx
documents, the request honoured (service, currency, units, dimensions, label response option),
FedEx's refusals, one price for a quote and its label, and scans along the route."""

from __future__ import annotations

import base64
import copy
import uuid
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

RATE = "/fedex/rate/v1/rates/quotes"
SHIP = "/fedex/ship/v1/shipments"
CANCEL = "/fedex/ship/v1/shipments/cancel"
TRACK = "/fedex/track/v1/trackingnumbers"
SHIPPER = {
    "contact": {"personName": "Shipping Desk", "phoneNumber": "0312345678"},
    "address": {
        "streetLines": ["1-1 Chiyoda"],
        "city": "Chiyoda-ku",
        "postalCode": "1000001",
        "countryCode": "JP",
    },
}
RECIPIENT = {
    "contact": {"personName": "Jane Doe", "phoneNumber": "4155550100"},
    "address": {
        "streetLines": ["1 Market St"],
        "city": "San Francisco",
        "stateOrProvinceCode": "CA",
        "postalCode": "94105",
        "countryCode": "US",
        "residential": True,
    },
}
PACKAGE = {
    "weight": {"units": "KG", "value": 1.2},
    "dimensions": {"length": 30.0, "width": 20.0, "height": 10.0, "units": "CM"},
}


@pytest.fixture
def http(clean_sandbox, settings) -> httpx.Client:
    client = httpx.Client(base_url=clean_sandbox.base_url, timeout=10)
    token = client.post(
        "/fedex/oauth/token",
        data={
            "grant_type": "client_credentials",
            "client_id": settings.fedex_api_key,
            "client_secret": settings.fedex_secret_key.get_secret_value(),
        },
    ).json()["access_token"]
    client.headers.update({"Authorization": f"Bearer {token}", "x-locale": "en_US"})
    return client


def _rate(settings, package: dict[str, Any] = PACKAGE, **shipment: Any) -> dict[str, Any]:
    return {
        "accountNumber": {"value": settings.fedex_account_number},
        "requestedShipment": {
            "shipper": {"address": SHIPPER["address"]},
            "recipient": {"address": RECIPIENT["address"]},
            "pickupType": "DROPOFF_AT_FEDEX_LOCATION",
            "requestedPackageLineItems": [package],
            **shipment,
        },
    }


def _ship(settings, service: str = "FEDEX_INTERNATIONAL_PRIORITY", **options: Any) -> dict:
    return {
        "labelResponseOptions": "LABEL",
        "accountNumber": {"value": settings.fedex_account_number},
        "requestedShipment": {
            "shipDatestamp": datetime.now(UTC).date().isoformat(),
            "serviceType": service,
            "packagingType": "YOUR_PACKAGING",
            "pickupType": "DROPOFF_AT_FEDEX_LOCATION",
            "shipper": SHIPPER,
            "recipients": [RECIPIENT],
            "shippingChargesPayment": {"paymentType": "SENDER"},
            "labelSpecification": {"imageType": "PDF", "labelStockType": "PAPER_4X6"},
            "totalWeight": 1.2,
            "requestedPackageLineItems": [
                {
                    **PACKAGE,
                    "customerReferences": [
                        {"customerReferenceType": "CUSTOMER_REFERENCE", "value": "ref-1"}
                    ],
                }
            ],
            "customsClearanceDetail": {
                "dutiesPayment": {"paymentType": "RECIPIENT"},
                "commercialInvoice": {"shipmentPurpose": "SOLD", "termsOfSale": "DAP"},
                "commodities": [
                    {
                        "description": "Seiko wristwatch",
                        "countryOfManufacture": "JP",
                        "quantity": 1.0,
                        "quantityUnits": "PCS",
                        "unitPrice": {"amount": 129.0, "currency": "USD"},
                        "customsValue": {"amount": 129.0, "currency": "USD"},
                        "weight": {"units": "KG", "value": 0.3},
                    }
                ],
            },
        },
        **options,
    }


def _details(reply: httpx.Response) -> list[dict[str, Any]]:
    assert reply.status_code == 200, reply.text
    return reply.json()["output"]["rateReplyDetails"]


def test_rates_come_in_fedexs_documented_shape(http, settings):
    details = _details(http.post(RATE, json=_rate(settings, rateRequestType=["LIST"])))
    assert {d["serviceType"] for d in details} == {
        "FEDEX_INTERNATIONAL_PRIORITY",
        "INTERNATIONAL_ECONOMY",
        "FEDEX_INTERNATIONAL_CONNECT_PLUS",
    }
    for detail in details:
        by_type = {r["rateType"]: r for r in detail["ratedShipmentDetails"]}
        account, listed = by_type["ACCOUNT"], by_type["LIST"]
        for rated in (account, listed):
            rate = rated["shipmentRateDetail"]
            assert rated["totalBaseCharge"] - rated["totalDiscounts"] + rate[
                "totalSurcharges"
            ] == pytest.approx(rated["totalNetCharge"])
            assert rate["surCharges"][0]["type"] == "FUEL"
            assert rated["currency"] == "JPY" and isinstance(rated["totalNetCharge"], int)
        assert account["totalDiscounts"] > 0 == listed["totalDiscounts"]
        assert account["totalNetCharge"] < listed["totalNetCharge"]


def test_rates_honour_service_currency_units_and_dimensions(http, settings):
    one = _details(http.post(RATE, json=_rate(settings, serviceType="INTERNATIONAL_ECONOMY")))
    assert [d["serviceType"] for d in one] == ["INTERNATIONAL_ECONOMY"]

    preferred = _details(
        http.post(
            RATE,
            json=_rate(
                settings,
                serviceType="INTERNATIONAL_ECONOMY",
                preferredCurrency="USD",
                rateRequestType=["ACCOUNT", "PREFERRED"],
            ),
        )
    )[0]["ratedShipmentDetails"]
    by_type = {r["rateType"]: r for r in preferred}
    assert by_type["PREFERRED_CURRENCY"]["currency"] == "USD"
    assert by_type["PREFERRED_CURRENCY"]["totalNetCharge"] == pytest.approx(
        by_type["ACCOUNT"]["totalNetCharge"] / 150, abs=0.05
    )

    def account_charge(package: dict[str, Any]) -> float:
        details = _details(
            http.post(RATE, json=_rate(settings, package, serviceType="INTERNATIONAL_ECONOMY"))
        )
        return details[0]["ratedShipmentDetails"][0]["totalNetCharge"]

    small = {"weight": {"units": "KG", "value": 1.6}}
    pounds = {"weight": {"units": "LB", "value": 1.6}}  # 0.73 kg
    assert account_charge(pounds) < account_charge(small)
    bulky = {**small, "dimensions": {"length": 60, "width": 40, "height": 40, "units": "CM"}}
    dimensional = _details(
        http.post(RATE, json=_rate(settings, bulky, serviceType="INTERNATIONAL_ECONOMY"))
    )[0]["ratedShipmentDetails"][0]
    assert dimensional["ratedWeightMethod"] == "DIM"
    assert dimensional["shipmentRateDetail"]["totalBillingWeight"]["value"] == 19.5
    assert dimensional["totalNetCharge"] > account_charge(small)


def test_integral_floats_pass_where_fedex_says_integer(http, settings):
    package = copy.deepcopy(PACKAGE) | {"groupPackageCount": 1.0, "sequenceNumber": 1.0}
    assert http.post(RATE, json=_rate(settings, package)).status_code == 200
    package["dimensions"]["height"] = 10.5  # a real fraction is still refused
    refused = http.post(RATE, json=_rate(settings, package))
    assert refused.status_code == 400
    assert refused.json()["errors"][0]["code"] == "INVALID.INPUT.EXCEPTION"


def test_fedex_refuses_what_it_does_not_carry(http, settings):
    ground = http.post(RATE, json=_rate(settings, serviceType="FEDEX_GROUND"))
    assert ground.status_code == 400 and "FEDEX_GROUND" in ground.json()["errors"][0]["message"]
    assert http.post(SHIP, json=_ship(settings, "FEDEX_GROUND")).status_code == 400
    other = _rate(settings)
    other["accountNumber"]["value"] = "510087000"
    assert http.post(RATE, json=other).status_code == 403


def test_the_label_costs_the_account_quote(http, settings):
    quote = _details(
        http.post(RATE, json=_rate(settings, serviceType="FEDEX_INTERNATIONAL_PRIORITY"))
    )[0]["ratedShipmentDetails"][0]
    shipped = http.post(SHIP, json=_ship(settings)).json()["output"]["transactionShipments"][0]
    rating = shipped["completedShipmentDetail"]["shipmentRating"]
    actual = next(
        r for r in rating["shipmentRateDetails"] if r["rateType"] == rating["actualRateType"]
    )
    assert (actual["totalNetCharge"], actual["currency"]) == (
        quote["totalNetCharge"],
        quote["currency"],
    )


def test_url_only_returns_a_document_url(http, settings):
    shipped = http.post(SHIP, json=_ship(settings, labelResponseOptions="URL_ONLY")).json()
    piece = shipped["output"]["transactionShipments"][0]["pieceResponses"][0]
    document = piece["packageDocuments"][0]
    assert "encodedLabel" not in document
    assert httpx.get(document["url"]).content.startswith(b"%PDF")
    label = http.post(SHIP, json=_ship(settings)).json()["output"]["transactionShipments"][0]
    encoded = label["pieceResponses"][0]["packageDocuments"][0]["encodedLabel"]
    assert base64.b64decode(encoded).startswith(b"%PDF")


def test_cancel_checks_the_account(http, settings):
    number = http.post(SHIP, json=_ship(settings)).json()["output"]["transactionShipments"][0][
        "masterTrackingNumber"
    ]
    body = {
        "accountNumber": {"value": "510087000"},
        "deletionControl": "DELETE_ALL_PACKAGES",
        "trackingNumber": number,
    }
    refused = http.put(CANCEL, json=body)
    assert refused.status_code == 403
    assert refused.json()["errors"][0]["code"] == "SHIPMENT.USER.UNAUTHORIZED"
    body["accountNumber"]["value"] = settings.fedex_account_number
    assert http.put(CANCEL, json=body).json()["output"]["cancelledShipment"] is True


def test_scans_follow_the_route_in_local_time_and_never_ahead(http, settings, clean_sandbox):
    number = http.post(SHIP, json=_ship(settings)).json()["output"]["transactionShipments"][0][
        "masterTrackingNumber"
    ]
    httpx.post(
        f"{clean_sandbox.base_url}/_sandbox/fedex/advance",
        json={"tracking_number": number, "to": "delivered"},
    )
    reply = http.post(
        TRACK,
        json={
            "includeDetailedScans": True,
            "trackingInfo": [{"trackingNumberInfo": {"trackingNumber": number}}],
        },
        headers={"x-customer-transaction-id": (tx := str(uuid.uuid4()))},
    ).json()
    assert reply["customerTransactionId"] == tx
    scans = reply["output"]["completeTrackResults"][0]["trackResults"][0]["scanEvents"]
    assert [s["derivedStatusCode"] for s in scans] == ["DL", "OD", "AR", "IT", "PU", "OC"]
    cities = [s["scanLocation"]["city"] for s in reversed(scans)]
    assert cities[0] == "CHIYODA-KU" and cities[-1] == "SAN FRANCISCO"
    assert cities[2] == "NARITA-SHI" and cities[3] == "MEMPHIS"
    for scan in scans:
        moment = datetime.strptime(scan["date"], "%Y-%m-%dT%H:%M:%S%z")
        assert moment <= datetime.now(UTC)
    assert scans[-1]["date"].endswith("+09:00") and scans[0]["date"].endswith("-08:00")


def _enum(spec: str, schema: str, *path: str) -> list[str]:
    from sandbox.oas import load_spec

    node = load_spec(spec).document["components"]["schemas"][schema]
    for part in path:
        node = node[part]
    return list(node["enum"])


def test_every_documented_pickup_and_rate_request_type_is_answered(http, settings):
    pickups = _enum("fedex-rate", "RequestedShipment", "properties", "pickupType")
    kinds = _enum("fedex-rate", "RequestedShipment", "properties", "rateRequestType", "items")
    for pickup in pickups:
        details = _details(
            http.post(RATE, json=_rate(settings, pickupType=pickup, rateRequestType=kinds))
        )
        assert len(details) == 3 and all(d["ratedShipmentDetails"] for d in details)


def test_every_documented_label_stock_is_answered(http, settings):
    for stock in _enum("fedex-ship", "LabelSpecification", "properties", "labelStockType"):
        body = _ship(settings)
        body["requestedShipment"]["labelSpecification"]["labelStockType"] = stock
        reply = http.post(SHIP, json=body)
        assert reply.status_code == 200, (stock, reply.text)


def test_track_answers_up_to_30_numbers_in_one_request(http, settings, clean_sandbox):
    """FedEx's spec: `trackingInfo` takes at most 30 numbers; each gets its own result, an
    unknown one its own error."""
    numbers = [
        http.post(SHIP, json=_ship(settings)).json()["output"]["transactionShipments"][0][
            "masterTrackingNumber"
        ]
        for _ in range(2)
    ]
    unknown = "794600000000"
    asked = [numbers[0], unknown, numbers[1]]
    reply = http.post(
        TRACK,
        json={
            "includeDetailedScans": False,
            "trackingInfo": [{"trackingNumberInfo": {"trackingNumber": n}} for n in asked],
        },
    )
    assert reply.status_code == 200, reply.text
    results = {r["trackingNumber"]: r["trackResults"][0] for r in _output(reply)}
    assert list(results) == asked
    assert results[unknown]["error"]["code"] == "TRACKING.TRACKINGNUMBER.NOTFOUND"
    assert all("error" not in results[n] for n in numbers)
    too_many = [{"trackingNumberInfo": {"trackingNumber": numbers[0]}}] * 31
    refused = http.post(TRACK, json={"includeDetailedScans": False, "trackingInfo": too_many})
    assert refused.status_code == 400
    assert refused.json()["errors"][0]["code"] == "TRACKING.TRACKINGNUMBER.LIMITEXCEEDED"


def _output(reply: httpx.Response) -> list[dict[str, Any]]:
    return reply.json()["output"]["completeTrackResults"]

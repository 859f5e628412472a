"""Contract: what EbayClient sends and what the emulator answers, checked against eBay's own
OpenAPI files (Sell Inventory 1.18.4, Sell Fulfillment v1.20.7) through sandbox.oas."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from urllib.parse import urlparse

import httpx
import pytest

from adapters.ebay import (
    EbayClient,
    InventoryItem,
    InventoryItemWithSku,
    OfferDraft,
    PriceQuantityUpdate,
)
from domain.refunds import RefundReason
from sandbox.ebay_common import FULFILLMENT_BASE, spec_view
from sandbox.oas import SpecViolation, load_spec

APIS = {"/sell/inventory/v1": "ebay-inventory", "/sell/fulfillment/v1": "ebay-fulfillment"}
INVENTORY_WRITES = (
    "/inventory_item/",
    "/bulk_create_or_replace_inventory_item",
    "/offer",
    "/bulk_create_offer",
)


class Recorder:
    def __init__(self) -> None:
        self.exchanges: list[tuple[httpx.Request, httpx.Response]] = []

    def on_response(self, response: httpx.Response) -> None:
        response.read()
        self.exchanges.append((response.request, response))


def _split(url: httpx.URL) -> tuple[str, str] | None:
    path = urlparse(str(url)).path
    for base, spec in APIS.items():
        if base in path:
            return spec, path.split(base, 1)[1]
    return None


@pytest.fixture
def recorded(clean_sandbox, settings) -> tuple[EbayClient, Recorder]:
    recorder = Recorder()
    http = httpx.Client(timeout=10, event_hooks={"response": [recorder.on_response]})
    return EbayClient(settings, http=http), recorder


def _run_every_operation(ebay: EbayClient, sandbox) -> None:
    item = InventoryItem(
        title="Vintage Nikon F2 body",
        description="<p>Works.</p>",
        aspects={"Brand": ["Nikon"], "Model": ["F2"]},
        image_urls=["https://img.example/f2.jpg"],
        weight_g=840,
        quantity=1,
    )
    ebay.ensure_inventory_location()
    ebay.put_inventory_item("CAM-1", item)
    ebay.bulk_put_inventory_items(
        [InventoryItemWithSku(sku=f"CAM-{i}", item=item) for i in range(2, 5)]
    )
    draft = OfferDraft(
        sku="CAM-1",
        price_value="349.00",
        currency="USD",
        quantity=1,
        category_id="15230",
        listing_description="<p>Works.</p>",
    )
    offer_id = ebay.create_or_get_offer(draft)
    ebay.create_or_get_offer(draft)  # 25002 path: the GET /offer lookup
    ebay.publish_offer(offer_id)
    ebay.bulk_update_price_quantity(
        [
            PriceQuantityUpdate(
                sku="CAM-1", offer_id=offer_id, quantity=2, price_value="329.00", currency="USD"
            )
        ]
    )
    ebay.withdraw_offer(offer_id)
    created = ebay.bulk_create_or_get_offers(
        [draft.model_copy(update={"sku": f"CAM-{i}"}) for i in range(2, 5)]
    )
    assert all(r.ok for r in created)
    published = ebay.bulk_publish_offers([str(r.offer_id) for r in created])
    assert all(r.ok for r in published)
    [order] = httpx.post(
        f"{sandbox.base_url}/_sandbox/orders",
        json={"orders": [{"sku": "CAM-1", "cancel_requested": True}]},
    ).json()["orders"]
    now = datetime.now(UTC)
    assert list(ebay.iter_orders_modified(now - timedelta(minutes=1), now + timedelta(minutes=1)))
    ebay.get_order(order["orderId"])
    lines = [(li["lineItemId"], li["quantity"]) for li in order["lineItems"]]
    ebay.create_shipping_fulfillment(order["orderId"], lines, "fedex", "794600000001", now)
    ebay.issue_refund(
        order["orderId"],
        order["pricingSummary"]["total"]["value"],
        "USD",
        RefundReason.out_of_stock,
        "Item failed inspection",
    )


def test_requests_match_ebays_schemas_and_header_rules(recorded, clean_sandbox):
    ebay, recorder = recorded
    _run_every_operation(ebay, clean_sandbox)
    checked = set()
    for request, _ in recorder.exchanges:
        where = _split(request.url)
        if where is None:
            continue
        spec_name, path = where
        spec = load_spec(spec_name)
        template, _ = spec.operation(request.method, path)  # the operation exists in the spec
        if request.content:
            spec.validate_request(request.method, path, spec_view(json.loads(request.content)))
            assert request.headers["content-type"] == "application/json"
        if (
            request.method in ("PUT", "POST")
            and spec_name == "ebay-inventory"
            and any(path.startswith(p) for p in INVENTORY_WRITES)
            and "/publish" not in path
            and "/withdraw" not in path
        ):
            assert request.headers["content-language"] == "en-US", path
        assert request.headers["authorization"].startswith("Bearer ")
        assert request.headers["x-ebay-c-marketplace-id"] == "EBAY_US"
        checked.add(f"{request.method} {template}")
    assert checked >= {
        "GET /location/{merchantLocationKey}",
        "POST /location/{merchantLocationKey}",
        "PUT /inventory_item/{sku}",
        "POST /bulk_create_or_replace_inventory_item",
        "POST /offer",
        "GET /offer",
        "POST /offer/{offerId}/publish",
        "POST /offer/{offerId}/withdraw",
        "POST /bulk_update_price_quantity",
        "POST /bulk_create_offer",
        "POST /bulk_publish_offer",
        "GET /order",
        "GET /order/{orderId}",
        "GET /order/{orderId}/shipping_fulfillment",
        "POST /order/{orderId}/shipping_fulfillment",
        "POST /order/{order_id}/issue_refund",
    }


def test_emulator_responses_match_ebays_schemas(recorded, clean_sandbox):
    ebay, recorder = recorded
    _run_every_operation(ebay, clean_sandbox)
    validated = 0
    for request, response in recorder.exchanges:
        where = _split(request.url)
        if where is None:
            continue
        spec_name, path = where
        body = response.json() if response.content else None
        if response.status_code < 400:
            load_spec(spec_name).validate_response(request.method, path, response.status_code, body)
            validated += 1
        else:  # eBay's error container, with the fields of its Error schema
            assert body["errors"] and {"errorId", "domain", "category", "message"} <= set(
                body["errors"][0]
            )
            _assert_documented(spec_name, request.method, path, body)
    assert validated >= 16


# Errors eBay answers on every call (OAuth, access, rate limits), outside each operation's list.
GENERIC_ERROR_IDS = {1001, 1100, 2001, 2002, 2003, 2004}


# createOffer's list omits 25002 ("Offer entity already exists"), which eBay answers for a
# second offer on the same SKU and marketplace (public integrations match on it).
OBSERVED_BUT_UNLISTED = {("POST", "/offer"): {25002}, ("POST", "/bulk_create_offer"): {25002}}


def _assert_documented(spec_name: str, method: str, path: str, body: dict) -> None:
    documented = load_spec(spec_name).documented_error_ids(method, path) | GENERIC_ERROR_IDS
    documented |= OBSERVED_BUT_UNLISTED.get((method, path), set())
    for error in body["errors"]:
        assert error["errorId"] in documented, (method, path, error)


INVENTORY_BASE = "/ebay/sell/inventory/v1"


@pytest.fixture
def http_client(clean_sandbox, settings) -> httpx.Client:
    """Raw HTTP with a user token of our adapter's scopes."""
    ebay = EbayClient(settings)
    token = ebay._fetch_token()[0]
    return httpx.Client(
        base_url=clean_sandbox.base_url,
        timeout=10,
        headers={"Authorization": f"Bearer {token}", "Content-Language": "en-US"},
    )


def test_the_emulators_refusals_use_the_ids_ebay_documents(http_client, clean_sandbox):
    """Each refusal the emulator makes carries an errorId that eBay's file lists for that
    operation (or one of eBay's generic access errors)."""
    client = http_client
    client.post(
        f"{INVENTORY_BASE}/location/tokyo",
        json={"location": {"address": {"postalCode": "1000001", "country": "JP"}}},
    )
    client.put(
        f"{INVENTORY_BASE}/inventory_item/P1",
        json={
            "product": {"title": "Teapot", "imageUrls": ["https://i.example/1.jpg"]},
            "condition": "USED_EXCELLENT",
            "availability": {"shipToLocationAvailability": {"quantity": 1}},
        },
    )
    offer = {
        "sku": "P1",
        "marketplaceId": "EBAY_US",
        "format": "FIXED_PRICE",
        "availableQuantity": 1,
        "categoryId": "1",
        "listingPolicies": {
            "fulfillmentPolicyId": "nope",
            "paymentPolicyId": "payment-default",
            "returnPolicyId": "return-default",
        },
        "pricingSummary": {"price": {"value": "80.00", "currency": "USD"}},
        "merchantLocationKey": "tokyo",
    }
    offer_id = client.post(f"{INVENTORY_BASE}/offer", json=offer).json()["offerId"]
    now = datetime.now(UTC)
    refusals = [
        ("POST", "/location/tokyo", {"location": {"address": {"country": "JP", "city": "x"}}}),
        ("POST", f"/offer/{offer_id}/publish", None),
        ("POST", "/offer", offer),  # a duplicate
        ("GET", "/offer/0000000000", None),
    ]
    seen = set()
    for method, path, body in refusals:
        response = client.request(method, f"{INVENTORY_BASE}{path}", json=body)
        assert response.status_code >= 400, (path, response.text)
        _assert_documented("ebay-inventory", method, path, response.json())
        seen.add(response.json()["errors"][0]["errorId"])
    stamp = (now + timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%S.000Z")
    future = client.get(
        f"/ebay{FULFILLMENT_BASE}/order", params={"filter": f"lastmodifieddate:[{stamp}..]"}
    )
    _assert_documented("ebay-fulfillment", "GET", "/order", future.json())
    seen.add(future.json()["errors"][0]["errorId"])
    assert {25803, 25007, 25002, 30850} <= seen


def test_the_schema_check_itself_catches_a_wrong_body():
    spec = load_spec("ebay-inventory")
    bad = {"sku": "A", "availableQuantity": "one", "pricingSummary": {"price": {"value": 5}}}
    with pytest.raises(SpecViolation) as info:
        spec.validate_request("POST", "/offer", bad)
    assert any("availableQuantity" in e for e in info.value.errors)
    with pytest.raises(SpecViolation):
        spec.validate_request("POST", "/bulk_create_offer", {"requests": [bad]})
    with pytest.raises(SpecViolation):
        spec.validate_request("POST", "/bulk_publish_offer", {"requests": [{"offerId": 7}]})
    with pytest.raises(SpecViolation):
        spec.validate_response(
            "POST", "/bulk_publish_offer", 200, {"responses": [{"statusCode": "200"}]}
        )
    with pytest.raises(SpecViolation):
        spec_view({"product": {"aspects": {"Brand": "Nikon"}}})
    fulfillment = load_spec("ebay-fulfillment")
    with pytest.raises(SpecViolation):
        fulfillment.validate_response(
            "GET", "/order/1-2-3", 200, {"lineItems": [{"quantity": "1"}]}
        )

"""ebay-apiroute (an independent eBay REST client generated from eBay's published specs,
installed from the package index as a dev dependency) against the eBay emulator, unmodified: it
takes `base_url` as a constructor argument. It sends what a production client sends: floats
for integers, optional fields we never send, and every documented condition value."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
import pytest
from apiroute.unexpected_response import UnexpectedResponse
from ebay_apiroute.sell.fulfillment.client import SellFulfillmentApi
from ebay_apiroute.sell.inventory.client import SellInventoryApi

from adapters.ebay import EbayClient
from sandbox.ebay_common import CONDITIONS


@pytest.fixture
def apis(clean_sandbox, settings) -> tuple[SellInventoryApi, SellFulfillmentApi]:
    token = EbayClient(settings)._fetch_token()[0]
    base = f"{clean_sandbox.base_url}/ebay/sell"
    return (
        SellInventoryApi(token=token, marketplace_id="EBAY_US", base_url=f"{base}/inventory/v1"),
        SellFulfillmentApi(
            token=token, marketplace_id="EBAY_US", base_url=f"{base}/fulfillment/v1"
        ),
    )


def _item(condition: str = "USED_EXCELLENT", quantity: float = 3.0) -> dict:
    return {
        "product": {
            "title": "Iwachu cast iron teapot 0.6L",
            "description": "Nambu tekki teapot with strainer.",
            "aspects": {"Brand": ["Iwachu"], "Capacity": ["0.6 L"]},
            "brand": "Iwachu",
            "mpn": "16064",
            "imageUrls": ["https://i.example/teapot.jpg"],
        },
        "condition": condition,
        "conditionDescription": "Light marks on the lid.",
        "availability": {"shipToLocationAvailability": {"quantity": quantity}},
        "packageWeightAndSize": {
            "dimensions": {"length": 20.0, "width": 16.0, "height": 12.0, "unit": "CENTIMETER"},
            "packageType": "PACKAGE_THICK_ENVELOPE",
            "weight": {"value": 1.2, "unit": "KILOGRAM"},
        },
    }


def _offer(settings, category: str = "37932") -> dict:
    return {
        "sku": "TEA-1",
        "marketplaceId": "EBAY_US",
        "format": "FIXED_PRICE",
        "availableQuantity": 3.0,
        "categoryId": category,
        "listingDescription": "<p>Nambu tekki teapot.</p>",
        "listingDuration": "GTC",
        "includeCatalogProductDetails": True,
        "hideBuyerDetails": False,
        "quantityLimitPerBuyer": 1.0,
        "listingPolicies": {
            "fulfillmentPolicyId": settings.ebay_fulfillment_policy_id,
            "paymentPolicyId": settings.ebay_payment_policy_id,
            "returnPolicyId": settings.ebay_return_policy_id,
        },
        "pricingSummary": {"price": {"value": "89.00", "currency": "USD"}},
        "merchantLocationKey": "tokyo-warehouse",
    }


def test_ebay_apiroute_lists_sells_and_reads_orders_unmodified(apis, settings, clean_sandbox):
    inventory, fulfillment = apis
    inventory.location.create_inventory_location(
        "tokyo-warehouse",
        body={
            "location": {
                "address": {"city": "Chiyoda-ku", "postalCode": "1000001", "country": "JP"}
            },
            "locationTypes": ["WAREHOUSE"],
            "name": "Tokyo warehouse",
            "merchantLocationStatus": "ENABLED",
        },
    )
    inventory.inventory_item.create_or_replace_inventory_item(
        "TEA-1", body=_item(), content_language="en-US"
    )
    offer_id = inventory.offer.create_offer(body=_offer(settings), content_language="en-US")[
        "offerId"
    ]
    listing = inventory.offer.publish_offer(offer_id)["listingId"]
    assert len(listing) == 12

    httpx.post(
        f"{clean_sandbox.base_url}/_sandbox/orders",
        json={"orders": [{"sku": "TEA-1", "quantity": 1}]},
    )
    assert inventory.offer.get_offer(offer_id)["availableQuantity"] == 2

    orders = fulfillment.order.get_orders()
    assert orders["total"] == 1 and orders["orders"][0]["lineItems"][0]["sku"] == "TEA-1"
    since = (datetime.now(UTC) - timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%S.000Z")
    window = fulfillment.order.get_orders(filter=f"lastmodifieddate:[{since}..]", limit="200")
    order_id = window["orders"][0]["orderId"]
    assert fulfillment.order.get_order(order_id)["orderId"] == order_id


def test_every_documented_condition_is_accepted(apis):
    inventory, _ = apis
    for index, condition in enumerate(sorted(CONDITIONS)):
        inventory.inventory_item.create_or_replace_inventory_item(
            f"COND-{index}", body=_item(condition, quantity=1.0), content_language="en-US"
        )
        assert inventory.inventory_item.get_inventory_item(f"COND-{index}")["condition"] == (
            condition
        )


def test_ebay_apiroute_gets_ebays_refusals(apis, settings):
    inventory, fulfillment = apis
    inventory.location.create_inventory_location(
        "tokyo-warehouse",
        body={"location": {"address": {"postalCode": "1000001", "country": "JP"}}},
    )
    with pytest.raises(UnexpectedResponse) as duplicate:
        inventory.location.create_inventory_location(
            "tokyo-warehouse",
            body={"location": {"address": {"postalCode": "1000001", "country": "JP"}}},
        )
    assert duplicate.value.status_code == 409
    inventory.inventory_item.create_or_replace_inventory_item(
        "TEA-1", body=_item(), content_language="en-US"
    )
    offer_id = inventory.offer.create_offer(
        body=_offer(settings, category="1"), content_language="en-US"
    )["offerId"]
    with pytest.raises(UnexpectedResponse) as refused:
        inventory.offer.publish_offer(offer_id)
    assert refused.value.status_code == 400
    assert refused.value.response.json()["errors"][0]["errorId"] == 25005

    future = (datetime.now(UTC) + timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%S.000Z")
    with pytest.raises(UnexpectedResponse) as ahead:
        fulfillment.order.get_orders(filter=f"lastmodifieddate:[{future}..]")
    assert ahead.value.response.json()["errors"][0]["errorId"] == 30850

"""The eBay emulator over raw HTTP: tokens, eBay's error shapes and ids, limits, orders,
fulfillments, refunds, the ledger and the reset hook."""

from __future__ import annotations

import base64
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlparse

import httpx
import pytest

SELL = "/ebay/sell/inventory/v1"
ORDERS = "/ebay/sell/fulfillment/v1"
SCOPE = "https://api.ebay.com/oauth/api_scope"


def _basic(settings, secret: str | None = None) -> str:
    pair = f"{settings.ebay_client_id}:{secret or settings.ebay_client_secret.get_secret_value()}"
    return "Basic " + base64.b64encode(pair.encode()).decode()


def _token(http: httpx.Client, settings, grant: dict) -> httpx.Response:
    return http.post(
        "/ebay/identity/v1/oauth2/token", data=grant, headers={"Authorization": _basic(settings)}
    )


@pytest.fixture
def http(clean_sandbox, settings) -> httpx.Client:
    client = httpx.Client(base_url=clean_sandbox.base_url, timeout=10)
    token = _token(
        client,
        settings,
        {
            "grant_type": "refresh_token",
            "refresh_token": settings.ebay_oauth_refresh_token.get_secret_value(),
            "scope": f"{SCOPE}/sell.inventory {SCOPE}/sell.fulfillment {SCOPE}/sell.finances",
        },
    ).json()["access_token"]
    client.headers.update({"Authorization": f"Bearer {token}", "Content-Language": "en-US"})
    return client


def _item(title: str = "Kutani porcelain plate") -> dict:
    return {
        "product": {
            "title": title,
            "description": "Hand painted.",
            "aspects": {"Brand": ["Kutani"]},
            "imageUrls": ["https://i.example/1.jpg"],
        },
        "condition": "USED_EXCELLENT",
        "availability": {"shipToLocationAvailability": {"quantity": 1}},
    }


def _offer(sku: str) -> dict:
    """An offer with the seller's business policies (the defaults in config.Settings)."""
    return {
        "sku": sku,
        "marketplaceId": "EBAY_US",
        "format": "FIXED_PRICE",
        "availableQuantity": 1,
        "categoryId": "262",
        "listingDescription": "Hand painted.",
        "listingPolicies": {
            "fulfillmentPolicyId": "fulfillment-default",
            "paymentPolicyId": "payment-default",
            "returnPolicyId": "return-default",
        },
        "pricingSummary": {"price": {"value": "80.00", "currency": "USD"}},
        "merchantLocationKey": "tokyo",
    }


def _first_error(response: httpx.Response) -> dict:
    return response.json()["errors"][0]


def test_token_endpoint_refuses_bad_clients_grants_and_scopes(clean_sandbox, settings):
    http = httpx.Client(base_url=clean_sandbox.base_url)
    good = settings.ebay_oauth_refresh_token.get_secret_value()
    bad_client = http.post(
        "/ebay/identity/v1/oauth2/token",
        data={"grant_type": "refresh_token", "refresh_token": good},
        headers={"Authorization": _basic(settings, "wrong")},
    )
    assert bad_client.status_code == 401 and bad_client.json()["error"] == "invalid_client"
    bad_grant = _token(http, settings, {"grant_type": "refresh_token", "refresh_token": "x"})
    assert bad_grant.status_code == 400 and bad_grant.json()["error"] == "invalid_grant"
    bad_scope = _token(
        http,
        settings,
        {"grant_type": "refresh_token", "refresh_token": good, "scope": f"{SCOPE}/buy.everything"},
    )
    assert bad_scope.json()["error"] == "invalid_scope"
    app = _token(http, settings, {"grant_type": "client_credentials", "scope": SCOPE}).json()
    assert app["token_type"] == "Application Access Token" and app["expires_in"] == 7200
    # An application token is not enough for the Sell APIs.
    refused = http.get(
        f"{SELL}/offer",
        params={"sku": "A"},
        headers={"Authorization": f"Bearer {app['access_token']}"},
    )
    assert refused.status_code == 401 and _first_error(refused)["errorId"] == 1001


def test_expired_or_missing_token_gets_1001(http, clean_sandbox):
    assert http.put(f"{SELL}/inventory_item/A1", json=_item()).status_code == 204
    httpx.post(f"{clean_sandbox.base_url}/_sandbox/tokens/expire")
    expired = http.get(f"{SELL}/inventory_item/A1")
    assert expired.status_code == 401
    assert _first_error(expired) | {"longMessage": ""} == {
        "errorId": 1001,
        "domain": "OAuth",
        "category": "REQUEST",
        "message": "Invalid access token",
        "longMessage": "",
    }


def test_inventory_writes_need_content_language_and_valid_bodies(http):
    no_language = http.put(
        f"{SELL}/inventory_item/A1", json=_item(), headers={"Content-Language": ""}
    )
    assert no_language.status_code == 400 and _first_error(no_language)["errorId"] == 25709
    wrong_type = _item()
    wrong_type["availability"]["shipToLocationAvailability"]["quantity"] = "five"
    response = http.put(f"{SELL}/inventory_item/A1", json=wrong_type)
    assert response.status_code == 400
    assert "quantity" in _first_error(response)["longMessage"]
    bad_aspects = _item()
    bad_aspects["product"]["aspects"] = {"Brand": "Kutani"}
    assert http.put(f"{SELL}/inventory_item/A1", json=bad_aspects).status_code == 400
    assert (
        _first_error(http.put(f"{SELL}/inventory_item/A1", json=_item("t" * 81)))["errorId"]
        == 25709
    )
    mint = {**_item(), "condition": "MINT"}
    assert _first_error(http.put(f"{SELL}/inventory_item/A1", json=mint))["errorId"] == 2004
    assert (
        http.put(
            f"{SELL}/inventory_item/A1",
            content=b"{nope",
            headers={"Content-Type": "application/json"},
        ).status_code
        == 400
    )


def test_bulk_create_limit_and_multi_status(http, clean_sandbox):
    too_many = {"requests": [{"sku": f"S{i}", "locale": "en_US", **_item()} for i in range(26)]}
    response = http.post(f"{SELL}/bulk_create_or_replace_inventory_item", json=too_many)
    assert response.status_code == 400 and _first_error(response)["errorId"] == 25727
    mixed = {
        "requests": [
            {"sku": "OK1", "locale": "en_US", **_item()},
            {"sku": "bad sku", "locale": "en_US", **_item()},
        ]
    }
    response = http.post(f"{SELL}/bulk_create_or_replace_inventory_item", json=mixed)
    assert response.status_code == 207
    results = response.json()["responses"]
    assert [r["statusCode"] for r in results] == [200, 400]
    assert results[1]["errors"][0]["errorId"] == 25707
    same = {"requests": [{"sku": "OK1", "locale": "en_US", **_item()}]}
    assert http.post(f"{SELL}/bulk_create_or_replace_inventory_item", json=same).status_code == 200
    assert clean_sandbox.ctx.ledger.count("ebay", "inventory_item", "OK1") == 1


def test_offer_lifecycle_and_duplicate(http, clean_sandbox):
    location = {
        "location": {"address": {"city": "Chiyoda", "postalCode": "1000001", "country": "JP"}},
        "locationTypes": ["WAREHOUSE"],
        "name": "Tokyo",
    }
    assert http.post(f"{SELL}/location/tokyo", json=location).status_code == 204
    duplicate_location = http.post(f"{SELL}/location/tokyo", json=location)
    assert duplicate_location.status_code == 409
    assert _first_error(duplicate_location)["errorId"] == 25803
    assert http.get(f"{SELL}/location/tokyo").json()["merchantLocationKey"] == "tokyo"
    assert http.post(f"{SELL}/offer", json=_offer("P1")).json()["errors"][0]["errorId"] == 25702
    http.put(f"{SELL}/inventory_item/P1", json=_item())
    created = http.post(f"{SELL}/offer", json=_offer("P1"))
    assert created.status_code == 201
    offer_id = created.json()["offerId"]
    duplicate = http.post(f"{SELL}/offer", json=_offer("P1"))
    assert duplicate.status_code == 400
    error = _first_error(duplicate)
    assert error["errorId"] == 25002 and "already exists" in error["message"]
    assert error["parameters"] == [{"name": "offerId", "value": offer_id}]
    listing = http.post(f"{SELL}/offer/{offer_id}/publish").json()["listingId"]
    assert len(listing) == 12 and listing.isdigit()
    assert http.post(f"{SELL}/offer/{offer_id}/withdraw").json()["listingId"] == listing
    again = http.post(f"{SELL}/offer/{offer_id}/withdraw")
    assert _first_error(again)["errorId"] == 25713
    ledger = clean_sandbox.ctx.ledger
    assert ledger.count("ebay", "offer_created", "P1") == 1
    assert ledger.count("ebay", "offer_published", offer_id) == 1
    assert ledger.count("ebay", "location", "tokyo") == 1


def test_orders_control_and_structure(http, clean_sandbox):
    created = httpx.post(
        f"{clean_sandbox.base_url}/_sandbox/orders",
        json={
            "domestic": True,
            "orders": [
                {"line_items": [{"sku": "K1", "quantity": 2, "price": "12.50"}]},
                {"sku": "K2", "domestic": False, "country_code": "GB"},
            ],
        },
    ).json()["orders"]
    jp, gb = created
    assert [li["sku"] for li in jp["lineItems"]] == ["K1"]
    order = http.get(f"{ORDERS}/order/{jp['orderId']}").json()
    assert order["orderId"].count("-") == 2 and len(order["orderId"]) == 14
    ship_to = order["fulfillmentStartInstructions"][0]["shippingStep"]["shipTo"]
    assert ship_to["contactAddress"]["countryCode"] == "JP"
    assert order["pricingSummary"]["total"] == {"value": "25.00", "currency": "USD"}
    line = order["lineItems"][0]
    assert line["quantity"] == 2 and len(line["legacyItemId"]) == 12 and line["lineItemId"]
    assert order["orderFulfillmentStatus"] == "NOT_STARTED" and order["buyer"]["username"]
    assert (
        http.get(f"{ORDERS}/order/{gb['orderId']}").json()["fulfillmentStartInstructions"][0][
            "shippingStep"
        ]["shipTo"]["contactAddress"]["countryCode"]
        == "GB"
    )
    bad = httpx.post(
        f"{clean_sandbox.base_url}/_sandbox/orders",
        json={"orders": [{"sku": "X", "country_code": "ZZ"}]},
    )
    assert bad.status_code == 400


def test_get_orders_filter_paging_and_errors(http, clean_sandbox):
    httpx.post(f"{clean_sandbox.base_url}/_sandbox/orders", json={"count": 5})
    since = (datetime.now(UTC) - timedelta(minutes=1)).strftime("%Y-%m-%dT%H:%M:%S.000Z")
    window = f"lastmodifieddate:[{since}..]"
    first = http.get(f"{ORDERS}/order", params={"filter": window, "limit": 2}).json()
    assert first["total"] == 5 and len(first["orders"]) == 2 and first["offset"] == 0
    next_query = parse_qs(urlparse(first["next"]).query)
    assert next_query["offset"] == ["2"] and next_query["filter"] == [window]
    last = http.get(f"{ORDERS}/order", params={"filter": window, "limit": 2, "offset": 4}).json()
    assert len(last["orders"]) == 1 and "next" not in last
    seen = {o["orderId"] for o in first["orders"]} | {o["orderId"] for o in last["orders"]}
    assert len(seen) == 3
    status = http.get(
        f"{ORDERS}/order", params={"filter": "orderfulfillmentstatus:{FULFILLED}"}
    ).json()
    assert status["total"] == 0
    for params, error_id in (
        ({"filter": "color:[a..b]"}, 30700),
        ({"filter": "lastmodifieddate:[yesterday..]"}, 30810),
        ({"filter": "lastmodifieddate:[..2024-01-01T00:00:00.000Z]"}, 30820),
        (
            {"filter": "lastmodifieddate:[2024-02-01T00:00:00.000Z..2024-01-01T00:00:00.000Z]"},
            30840,
        ),
        ({"limit": 201}, 31100),
        ({"offset": -1}, 31000),
    ):
        response = http.get(f"{ORDERS}/order", params=params)
        assert response.status_code == 400 and _first_error(response)["errorId"] == error_id


def test_fulfillment_and_refund(http, clean_sandbox):
    [order] = httpx.post(
        f"{clean_sandbox.base_url}/_sandbox/orders",
        json={"orders": [{"sku": "F1", "price": "30.00"}]},
    ).json()["orders"]
    order_id, line = order["orderId"], order["lineItems"][0]["lineItemId"]
    body = {
        "lineItems": [{"lineItemId": line, "quantity": 1}],
        "shippingCarrierCode": "FEDEX",
        "trackingNumber": "794612345678",
        "shippedDate": "2026-01-05T10:00:00.000Z",
    }
    wrong = http.post(
        f"{ORDERS}/order/{order_id}/shipping_fulfillment",
        json={**body, "lineItems": [{"lineItemId": "1", "quantity": 1}]},
    )
    assert _first_error(wrong)["errorId"] == 32200
    created = http.post(f"{ORDERS}/order/{order_id}/shipping_fulfillment", json=body)
    assert created.status_code == 201 and created.json() == {}
    fulfillment_id = created.headers["location"].rsplit("/", 1)[-1]
    assert http.get(created.headers["location"]).json()["fulfillmentId"] == fulfillment_id
    assert http.get(f"{ORDERS}/order/{order_id}").json()["orderFulfillmentStatus"] == "FULFILLED"
    refund = {
        "reasonForRefund": "BUYER_CANCEL",
        "orderLevelRefundAmount": {"value": "10.00", "currency": "USD"},
    }
    first = http.post(f"{ORDERS}/order/{order_id}/issue_refund", json=refund)
    assert first.status_code == 200 and first.json()["refundStatus"] == "PENDING"
    refunds = http.get(f"{ORDERS}/order/{order_id}").json()["paymentSummary"]["refunds"]
    assert refunds[0]["refundId"] == first.json()["refundId"]
    too_much = {**refund, "orderLevelRefundAmount": {"value": "25.00", "currency": "USD"}}
    assert (
        _first_error(http.post(f"{ORDERS}/order/{order_id}/issue_refund", json=too_much))["errorId"]
        == 34915
    )
    no_reason = {"orderLevelRefundAmount": {"value": "1.00", "currency": "USD"}}
    assert (
        _first_error(http.post(f"{ORDERS}/order/{order_id}/issue_refund", json=no_reason))[
            "errorId"
        ]
        == 34903
    )
    missing = http.post(f"{ORDERS}/order/00-00000-00000/issue_refund", json=refund)
    assert missing.status_code == 404 and _first_error(missing)["errorId"] == 34913
    ledger = clean_sandbox.ctx.ledger
    assert ledger.count("ebay", "fulfillment", order_id) == 1
    assert ledger.count("ebay", "refund", order_id) == 1


def test_public_key_needs_an_application_token(http, clean_sandbox, settings):
    kid = httpx.get(f"{clean_sandbox.base_url}/_sandbox/ebay/state").json()["public_key_id"]
    path = f"/ebay/commerce/notification/v1/public_key/{kid}"
    assert http.get(path).status_code == 401  # a user token is not accepted here
    app = _token(http, settings, {"grant_type": "client_credentials", "scope": SCOPE}).json()
    headers = {"Authorization": f"Bearer {app['access_token']}"}
    key = http.get(path, headers=headers).json()
    assert key["algorithm"] == "ECDSA" and key["digest"] == "SHA1"
    assert key["key"].startswith("-----BEGIN PUBLIC KEY-----")
    missing = http.get("/ebay/commerce/notification/v1/public_key/other", headers=headers)
    assert missing.status_code == 404 and _first_error(missing)["errorId"] == 195000


def test_injected_faults_use_ebays_error_shape(http, clean_sandbox):
    httpx.post(
        f"{clean_sandbox.base_url}/_sandbox/faults",
        json={"ebay": {"rate_limit_rate": 1.0, "retry_after": 3, "times": 1}},
    )
    limited = http.get(f"{SELL}/offer", params={"sku": "A"})
    assert limited.status_code == 429 and limited.headers["retry-after"] == "3"
    assert _first_error(limited)["errorId"] == 2001


def test_reset_clears_state(http, clean_sandbox):
    http.put(f"{SELL}/inventory_item/R1", json=_item())
    httpx.post(f"{clean_sandbox.base_url}/_sandbox/orders", json={"count": 2})
    httpx.post(f"{clean_sandbox.base_url}/_sandbox/reset")
    state = httpx.get(f"{clean_sandbox.base_url}/_sandbox/ebay/state").json()
    assert state["inventory_items"] == 0 and state["orders"] == 0
    assert state["tokens_issued"] == {"user": 0, "app": 0}


def _location(http: httpx.Client) -> None:
    http.post(
        f"{SELL}/location/tokyo",
        json={"location": {"address": {"postalCode": "1000001", "country": "JP"}}},
    )


def _scoped_token(clean_sandbox, settings, *scopes: str) -> httpx.Client:
    client = httpx.Client(base_url=clean_sandbox.base_url, timeout=10)
    token = _token(
        client,
        settings,
        {
            "grant_type": "refresh_token",
            "refresh_token": settings.ebay_oauth_refresh_token.get_secret_value(),
            "scope": " ".join(scopes),
        },
    ).json()["access_token"]
    client.headers.update({"Authorization": f"Bearer {token}", "Content-Language": "en-US"})
    return client


def test_each_call_needs_its_scope(clean_sandbox, settings):
    bare = _scoped_token(clean_sandbox, settings, SCOPE)
    refused = bare.get(f"{ORDERS}/order")
    assert refused.status_code == 403
    assert _first_error(refused) | {"longMessage": ""} == {
        "errorId": 1100,
        "domain": "ACCESS",
        "category": "REQUEST",
        "message": "Access denied",
        "longMessage": "",
    }
    assert bare.put(f"{SELL}/inventory_item/A1", json=_item()).status_code == 403
    reader = _scoped_token(clean_sandbox, settings, f"{SCOPE}/sell.fulfillment.readonly")
    assert reader.get(f"{ORDERS}/order").status_code == 200
    order = httpx.post(f"{clean_sandbox.base_url}/_sandbox/orders", json={"count": 1}).json()
    order_id = order["orders"][0]["orderId"]
    write = reader.post(
        f"{ORDERS}/order/{order_id}/shipping_fulfillment",
        json={"lineItems": [], "trackingNumber": "1", "shippingCarrierCode": "FEDEX"},
    )
    assert write.status_code == 403
    seller = _scoped_token(clean_sandbox, settings, f"{SCOPE}/sell.fulfillment")
    refund = seller.post(
        f"{ORDERS}/order/{order_id}/issue_refund",
        json={"reasonForRefund": "BUYER_CANCEL", "orderLevelRefundAmount": {}},
    )
    assert refund.status_code == 403  # issue_refund takes sell.finances


@pytest.mark.parametrize(
    ("field", "error_id"),
    [("fulfillmentPolicyId", 25007), ("paymentPolicyId", 25008), ("returnPolicyId", 25009)],
)
def test_publish_refuses_unknown_business_policies(http, field, error_id):
    _location(http)
    http.put(f"{SELL}/inventory_item/P1", json=_item())
    offer = _offer("P1")
    offer["listingPolicies"][field] = "6196932000"
    offer_id = http.post(f"{SELL}/offer", json=offer).json()["offerId"]
    refused = http.post(f"{SELL}/offer/{offer_id}/publish")
    assert refused.status_code == 400
    error = _first_error(refused)
    assert error["errorId"] == error_id and error["domain"] == "API_INVENTORY"
    assert {"name": field, "value": "6196932000"} in error["parameters"]
    assert http.get(f"{SELL}/offer/{offer_id}").json()["status"] == "UNPUBLISHED"


def test_publish_refuses_a_category_that_is_not_a_leaf(http):
    _location(http)
    http.put(f"{SELL}/inventory_item/P1", json=_item())
    offer_id = http.post(f"{SELL}/offer", json={**_offer("P1"), "categoryId": "1"}).json()[
        "offerId"
    ]
    refused = http.post(f"{SELL}/offer/{offer_id}/publish")
    assert refused.status_code == 400 and _first_error(refused)["errorId"] == 25005


def test_get_orders_defaults_to_90_days_and_bounds_windows(http, clean_sandbox):
    from sandbox.ebay import state_for

    made = httpx.post(f"{clean_sandbox.base_url}/_sandbox/orders", json={"count": 2}).json()
    old_id = made["orders"][0]["orderId"]
    old = (datetime.now(UTC) - timedelta(days=120)).strftime("%Y-%m-%dT%H:%M:%S.000Z")
    state_for(clean_sandbox.ctx).orders[old_id]["creationDate"] = old
    listed = http.get(f"{ORDERS}/order").json()
    assert listed["total"] == 1 and listed["orders"][0]["orderId"] != old_id
    since = (datetime.now(UTC) - timedelta(days=200)).strftime("%Y-%m-%dT%H:%M:%S.000Z")
    wider = http.get(f"{ORDERS}/order", params={"filter": f"creationdate:[{since}..]"})
    assert wider.json()["total"] == 2

    def window(start: datetime, end: datetime) -> httpx.Response:
        stamp = "%Y-%m-%dT%H:%M:%S.000Z"
        value = f"lastmodifieddate:[{start.strftime(stamp)}..{end.strftime(stamp)}]"
        return http.get(f"{ORDERS}/order", params={"filter": value})

    moment = datetime.now(UTC)
    future = window(moment - timedelta(hours=1), moment + timedelta(hours=1))
    assert future.status_code == 400 and _first_error(future)["errorId"] == 30850
    too_long = window(moment - timedelta(days=800), moment - timedelta(days=1))
    assert too_long.status_code == 400 and _first_error(too_long)["errorId"] == 30830


def test_a_sale_takes_the_quantity_off_the_offer(http, clean_sandbox):
    _location(http)
    item = _item()
    item["availability"]["shipToLocationAvailability"]["quantity"] = 3
    http.put(f"{SELL}/inventory_item/P1", json=item)
    offer_id = http.post(f"{SELL}/offer", json={**_offer("P1"), "availableQuantity": 3}).json()[
        "offerId"
    ]
    http.post(f"{SELL}/offer/{offer_id}/publish")
    httpx.post(
        f"{clean_sandbox.base_url}/_sandbox/orders", json={"orders": [{"sku": "P1", "quantity": 2}]}
    )
    offer = http.get(f"{SELL}/offer/{offer_id}").json()
    assert offer["availableQuantity"] == 1 and offer["listing"]["soldQuantity"] == 2
    stock = http.get(f"{SELL}/inventory_item/P1").json()["availability"]
    assert stock["shipToLocationAvailability"]["quantity"] == 1

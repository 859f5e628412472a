"""EbayClient against the eBay emulator over real HTTP: every operation, its idempotency, the
token handling and how faults are classified."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from pydantic import SecretStr, ValidationError

from adapters.ebay import (
    EbayClient,
    InventoryItem,
    InventoryItemWithSku,
    OfferDraft,
    PriceQuantityUpdate,
)
from adapters.errors import (
    AuthenticationError,
    NotFoundError,
    PermanentError,
    RateLimitedError,
    RetryableError,
)
from domain.catalog import Condition
from domain.refunds import RefundReason


@pytest.fixture
def ebay(clean_sandbox, settings) -> EbayClient:
    return EbayClient(settings)


def _faults(sandbox, rule: dict) -> None:
    httpx.post(f"{sandbox.base_url}/_sandbox/faults", json={"ebay": rule}).raise_for_status()


def _orders(sandbox, body: dict) -> list[dict]:
    response = httpx.post(f"{sandbox.base_url}/_sandbox/orders", json=body)
    response.raise_for_status()
    return response.json()["orders"]


def _state(sandbox) -> dict:
    return httpx.get(f"{sandbox.base_url}/_sandbox/ebay/state").json()


def _item(title: str = "Seiko 5 automatic watch, 1970s, Japan") -> InventoryItem:
    return InventoryItem(
        title=title,
        description="<p>Runs well.</p>",
        aspects={"Brand": ["Seiko"], "Type": ["Wristwatch"]},
        image_urls=["https://img.example/1.jpg"],
        condition=Condition.used_excellent,
        quantity=1,
        weight_g=250,
    )


def _listed(ebay: EbayClient, sku: str, price: str = "129.00") -> str:
    ebay.put_inventory_item(sku, _item())
    return ebay.create_or_get_offer(
        OfferDraft(
            sku=sku,
            price_value=price,
            currency="USD",
            quantity=1,
            category_id="31387",
            listing_description="<p>Runs well.</p>",
        )
    )


def test_location_is_created_once_and_then_only_read(ebay, clean_sandbox):
    ebay.ensure_inventory_location()
    ebay.ensure_inventory_location()
    assert clean_sandbox.ctx.ledger.count("ebay", "location") == 1
    assert ebay.api_calls["create_inventory_location"] == 1
    assert ebay.api_calls["get_inventory_location"] == 2
    assert _state(clean_sandbox)["locations"] == [ebay._settings.ebay_merchant_location_key]


def test_location_conflict_counts_as_success(ebay, clean_sandbox, settings):
    EbayClient(settings).ensure_inventory_location()
    # A GET that misses (say, a replica lagging) then a 409 on create is still success.
    _faults(
        clean_sandbox,
        {
            "error_rate": 1.0,
            "error_status": 404,
            "times": 1,
            "path_contains": "/location/",
            "method": "GET",
        },
    )
    ebay.ensure_inventory_location()
    assert ebay.api_calls["create_inventory_location"] == 1
    assert clean_sandbox.ctx.ledger.count("ebay", "location") == 1


def test_list_publish_withdraw(ebay, clean_sandbox):
    ebay.ensure_inventory_location()
    offer_id = _listed(ebay, "WD-0001")
    listing_id = ebay.publish_offer(offer_id)
    assert len(listing_id) == 12 and listing_id.isdigit()
    assert ebay.publish_offer(offer_id) == listing_id  # already published: same listing
    [offer] = ebay.get_offers("WD-0001")
    assert offer["status"] == "PUBLISHED" and offer["listing"]["listingId"] == listing_id
    assert offer["pricingSummary"]["price"] == {"value": "129.00", "currency": "USD"}
    assert ebay.withdraw_offer(offer_id) == listing_id
    assert ebay.get_offers("WD-0001")[0]["status"] == "UNPUBLISHED"
    ledger = clean_sandbox.ctx.ledger
    assert ledger.count("ebay", "offer_published", offer_id) == 1
    assert ledger.count("ebay", "offer_withdrawn", offer_id) == 1
    assert ledger.count("ebay", "inventory_item", "WD-0001") == 1


def test_create_offer_twice_reuses_the_existing_offer(ebay, clean_sandbox):
    first = _listed(ebay, "WD-0002")
    second = _listed(ebay, "WD-0002")
    assert first == second
    assert clean_sandbox.ctx.ledger.count("ebay", "offer_created", "WD-0002") == 1
    assert ebay.api_calls["create_offer"] == 2 and ebay.api_calls["get_offers"] == 1


def test_get_offers_for_unknown_sku_is_empty(ebay):
    assert ebay.get_offers("NOPE-1") == []


def test_business_errors_are_permanent_with_ebays_message(ebay):
    offer_id = _listed(ebay, "WD-0003")  # no merchant location created
    with pytest.raises(PermanentError) as info:
        ebay.publish_offer(offer_id)
    assert info.value.code == "25012" and "inventory location" in info.value.message
    assert not info.value.retryable
    with pytest.raises(PermanentError) as info:
        ebay.create_or_get_offer(
            OfferDraft(
                sku="MISSING-1",
                price_value="10.00",
                currency="USD",
                quantity=1,
                category_id="1",
                listing_description="x",
            )
        )
    assert info.value.code == "25702"
    with pytest.raises(NotFoundError):
        ebay.publish_offer("999")


def test_bad_input_is_refused_before_any_call(ebay):
    with pytest.raises(ValidationError):
        _item(title="x" * 81)
    with pytest.raises(ValidationError):
        ebay.put_inventory_item("bad sku!", _item())
    with pytest.raises(ValidationError):
        InventoryItem(title="t", description="d", condition="MINT")
    with pytest.raises(ValidationError):
        OfferDraft(
            sku="A1",
            price_value="12.345",
            currency="USD",
            quantity=1,
            category_id="1",
            listing_description="x",
        )
    assert sum(ebay.api_calls.values()) == 0


def test_bulk_inventory_goes_in_chunks_of_25_with_per_item_results(ebay, clean_sandbox):
    items = [InventoryItemWithSku(sku=f"BULK-{i:03d}", item=_item()) for i in range(30)]
    # The model refuses a bad SKU, so build one as a stale record could arrive.
    items.append(InventoryItemWithSku.model_construct(sku="bad sku!", item=_item()))
    results = ebay.bulk_put_inventory_items(items)
    assert ebay.api_calls["bulk_create_or_replace_inventory_item"] == 2
    assert len(results) == 31
    assert all(r.ok and r.status_code == 200 for r in results[:30])
    assert not results[30].ok and results[30].errors[0].startswith("25707")
    assert _state(clean_sandbox)["inventory_items"] == 30


def test_bulk_price_quantity(ebay, clean_sandbox):
    offers = {f"PQ-{i:02d}": _listed(ebay, f"PQ-{i:02d}") for i in range(26)}
    updates = [
        PriceQuantityUpdate(sku=sku, offer_id=oid, quantity=3, price_value="99.50", currency="USD")
        for sku, oid in offers.items()
    ]
    updates.append(PriceQuantityUpdate(sku="PQ-00", offer_id="0000000000", quantity=1))
    results = ebay.bulk_update_price_quantity(updates)
    assert ebay.api_calls["bulk_update_price_quantity"] == 2
    assert [r.ok for r in results] == [True] * 26 + [False]
    offer = ebay.get_offers("PQ-05")[0]
    assert offer["availableQuantity"] == 3
    assert offer["pricingSummary"]["price"]["value"] == "99.50"


def test_orders_by_modified_date_with_paging(ebay, clean_sandbox):
    start = datetime.now(UTC) - timedelta(seconds=5)
    created = _orders(clean_sandbox, {"count": 203})
    domestic = _orders(
        clean_sandbox,
        {
            "orders": [
                {"line_items": [{"sku": "WD-9", "quantity": 2, "price": "40.00"}], "domestic": True}
            ]
        },
    )
    end = datetime.now(UTC) + timedelta(seconds=5)
    orders = list(ebay.iter_orders_modified(start, end))
    assert ebay.api_calls["get_orders"] == 2
    assert {o.order_id for o in orders} == {o["orderId"] for o in created + domestic}
    jp = next(o for o in orders if o.order_id == domestic[0]["orderId"])
    assert jp.ship_to.country_code == "JP" and jp.total_value == "80.00"
    assert jp.line_items[0].sku == "WD-9" and jp.line_items[0].quantity == 2
    assert all(o.ship_to.country_code in {"US", "GB", "DE"} for o in orders if o is not jp)
    earlier = ebay.iter_orders_modified(start - timedelta(days=2), start - timedelta(days=1))
    assert list(earlier) == []


def test_get_order_shows_cancel_requests(ebay, clean_sandbox):
    [order] = _orders(clean_sandbox, {"orders": [{"sku": "WD-1", "cancel_requested": True}]})
    got = ebay.get_order(order["orderId"])
    assert got.cancel_requested and got.line_items[0].sku == "WD-1"
    assert got.buyer_email and got.ship_to.full_name
    with pytest.raises(NotFoundError):
        ebay.get_order("00-00000-00000")


def test_shipping_fulfillment_is_created_once(ebay, clean_sandbox):
    [order] = _orders(clean_sandbox, {"orders": [{"skus": ["A-1", "A-2"]}]})
    lines = [(li["lineItemId"], li["quantity"]) for li in order["lineItems"]]
    shipped = datetime.now(UTC)
    first = ebay.create_shipping_fulfillment(
        order["orderId"], lines[:1], "fedex", "7946123", shipped
    )
    assert ebay.get_order(order["orderId"]).fulfillment_status == "IN_PROGRESS"
    again = ebay.create_shipping_fulfillment(
        order["orderId"], lines[:1], "fedex", "7946123", shipped
    )
    assert again == first
    ebay.create_shipping_fulfillment(order["orderId"], lines[1:], "fedex", "7946124", shipped)
    assert ebay.get_order(order["orderId"]).fulfillment_status == "FULFILLED"
    found = ebay.list_shipping_fulfillments(order["orderId"])
    assert [f.tracking_number for f in found] == ["7946123", "7946124"]
    assert found[0].fulfillment_id == first and found[0].line_items == lines[:1]
    assert clean_sandbox.ctx.ledger.count("ebay", "fulfillment", order["orderId"]) == 2
    assert ebay.api_calls["create_shipping_fulfillment"] == 2
    with pytest.raises(PermanentError) as info:
        ebay.create_shipping_fulfillment(order["orderId"], [("1", 1)], "fedex", "79461", shipped)
    assert info.value.code == "32200"


def test_refund_is_issued_once(ebay, clean_sandbox):
    [order] = _orders(clean_sandbox, {"orders": [{"sku": "R-1", "price": "50.00"}]})
    refund_id = ebay.issue_refund(
        order["orderId"], "50.00", "USD", RefundReason.out_of_stock, "Failed inspection"
    )
    assert (
        ebay.issue_refund(order["orderId"], "50.0", "USD", RefundReason.out_of_stock) == refund_id
    )
    assert clean_sandbox.ctx.ledger.count("ebay", "refund", order["orderId"]) == 1
    assert ebay.get_order(order["orderId"]).payment_status == "FULLY_REFUNDED"
    with pytest.raises(PermanentError) as info:
        ebay.issue_refund(order["orderId"], "1.00", "USD", RefundReason.other)
    assert info.value.code == "34915"
    with pytest.raises(ValueError):
        ebay.issue_refund(order["orderId"], "1.00", "USD", "BECAUSE")


# Faults ------------------------------------------------------------------------------------


def test_5xx_and_429_are_retryable(ebay, clean_sandbox):
    _faults(
        clean_sandbox,
        {"error_rate": 1.0, "error_status": 503, "times": 1, "path_contains": "/sell/"},
    )
    with pytest.raises(RetryableError) as info:
        ebay.get_offers("X-1")
    assert info.value.status == 503 and "Internal error" in info.value.message
    _faults(
        clean_sandbox,
        {"rate_limit_rate": 1.0, "retry_after": 1, "times": 1, "path_contains": "/sell/"},
    )
    assert ebay.get_offers("X-1") == []  # the 429 absorbed by the quota after its Retry-After
    unlimited = EbayClient(ebay._settings.model_copy(update={"ebay_calls_per_second": 0}))
    _faults(
        clean_sandbox,
        {"rate_limit_rate": 1.0, "retry_after": 7, "times": 1, "path_contains": "/sell/"},
    )
    with pytest.raises(RateLimitedError) as info:
        unlimited.get_offers("X-1")
    assert info.value.retry_after == 7
    assert unlimited.get_offers("X-1") == []  # faults used up


def test_timeout_is_retryable(clean_sandbox, settings):
    ebay = EbayClient(settings, http=httpx.Client(timeout=0.3))
    ebay.get_offers("warm-token")
    _faults(clean_sandbox, {"latency_ms": 800, "times": 1, "path_contains": "/sell/"})
    with pytest.raises(RetryableError) as info:
        ebay.get_offers("X-1")
    assert "Timeout" in info.value.message


def test_500_concurrent_access_is_retryable():
    body = {
        "errors": [
            {
                "errorId": 25025,
                "domain": "API_INVENTORY",
                "category": "APPLICATION",
                "message": "Concurrent access of the same Inventory or Inventory Item "
                "Group object is not allowed. Please try again later.",
            }
        ]
    }

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/token"):
            return httpx.Response(200, json={"access_token": "t", "expires_in": 7200})
        return httpx.Response(500, json=body)

    from config import Settings

    client = EbayClient(Settings(), http=httpx.Client(transport=httpx.MockTransport(handler)))
    with pytest.raises(RetryableError) as info:
        client.put_inventory_item("A1", _item())
    assert info.value.code == "25025" and "Concurrent access" in info.value.message


def test_lost_create_offer_response_is_recovered_without_duplicate(ebay, clean_sandbox):
    ebay.put_inventory_item("LOST-1", _item())
    _faults(
        clean_sandbox,
        {"lost_response_rate": 1.0, "times": 1, "path_contains": "/offer", "method": "POST"},
    )
    draft = OfferDraft(
        sku="LOST-1",
        price_value="10.00",
        currency="USD",
        quantity=1,
        category_id="1",
        listing_description="x",
    )
    with pytest.raises(RetryableError):
        ebay.create_or_get_offer(draft)
    offer_id = ebay.create_or_get_offer(draft)
    assert ebay.get_offers("LOST-1")[0]["offerId"] == offer_id
    assert clean_sandbox.ctx.ledger.count("ebay", "offer_created", "LOST-1") == 1


def test_lost_publish_and_withdraw_responses_are_recovered(ebay, clean_sandbox):
    ebay.ensure_inventory_location()
    offer_id = _listed(ebay, "LOST-2")
    for step in ("/publish", "/withdraw"):
        _faults(clean_sandbox, {"lost_response_rate": 1.0, "times": 1, "path_contains": step})
        with pytest.raises(RetryableError):
            getattr(ebay, f"{step[1:]}_offer")(offer_id)
    listing_id = ebay.get_offer(offer_id)["listing"]["listingId"]
    assert ebay.withdraw_offer(offer_id) == listing_id  # the repeat after the lost answer
    ledger = clean_sandbox.ctx.ledger
    assert ledger.count("ebay", "offer_published", offer_id) == 1
    assert ledger.count("ebay", "offer_withdrawn", offer_id) == 1
    with pytest.raises(PermanentError):  # never published at all: still an error
        ebay.withdraw_offer(_listed(ebay, "LOST-3"))


def test_lost_fulfillment_and_refund_responses_are_not_repeated(ebay, clean_sandbox):
    [order] = _orders(clean_sandbox, {"orders": [{"sku": "L-2", "price": "20.00"}]})
    order_id, lines = order["orderId"], [(order["lineItems"][0]["lineItemId"], 1)]
    _faults(
        clean_sandbox,
        {
            "lost_response_rate": 1.0,
            "times": 1,
            "path_contains": "/shipping_fulfillment",
            "method": "POST",
        },
    )
    with pytest.raises(RetryableError):
        ebay.create_shipping_fulfillment(
            order_id, lines, "yamato", "123456789012", datetime.now(UTC)
        )
    fulfillment_id = ebay.create_shipping_fulfillment(
        order_id, lines, "yamato", "123456789012", datetime.now(UTC)
    )
    assert [f.fulfillment_id for f in ebay.list_shipping_fulfillments(order_id)] == [fulfillment_id]
    _faults(
        clean_sandbox, {"lost_response_rate": 1.0, "times": 1, "path_contains": "/issue_refund"}
    )
    with pytest.raises(RetryableError):
        ebay.issue_refund(order_id, "20.00", "USD", RefundReason.buyer_cancelled)
    refund_id = ebay.issue_refund(order_id, "20.00", "USD", RefundReason.buyer_cancelled)
    assert refund_id and ebay.get_order(order_id).refunds[0].refund_id == refund_id
    ledger = clean_sandbox.ctx.ledger
    assert ledger.count("ebay", "fulfillment", order_id) == 1
    assert ledger.count("ebay", "refund", order_id) == 1


# Tokens ------------------------------------------------------------------------------------


def test_expired_token_is_refreshed_once_and_the_call_retried(ebay, clean_sandbox):
    ebay.get_offers("T-1")
    httpx.post(f"{clean_sandbox.base_url}/_sandbox/tokens/expire").raise_for_status()
    assert ebay.get_offers("T-1") == []
    assert ebay._tokens.refresh_count == 2
    assert ebay.api_calls["get_offers"] == 3  # the 401 and the retry
    assert _state(clean_sandbox)["tokens_issued"]["user"] == 2


def test_token_renewed_before_expiry(ebay, clean_sandbox):
    ebay.get_offers("T-2")
    ebay._tokens._token.expires_at = time.time() + 120  # inside the 5-minute margin
    ebay.get_offers("T-2")
    assert ebay._tokens.refresh_count == 2 and ebay.api_calls["get_offers"] == 2


def test_exactly_one_refresh_under_concurrency(ebay, clean_sandbox):
    barrier = threading.Barrier(8)
    errors: list[BaseException] = []

    def work() -> None:
        barrier.wait()
        try:
            ebay.get_offers("C-1")
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert ebay._tokens.refresh_count == 1
    assert _state(clean_sandbox)["tokens_issued"]["user"] == 1


def test_refused_refresh_token_is_an_authentication_error(clean_sandbox, settings):
    wrong = settings.model_copy(update={"ebay_oauth_refresh_token": SecretStr("nope")})
    with pytest.raises(AuthenticationError) as info:
        EbayClient(wrong).get_offers("A-1")
    assert "invalid_grant" in info.value.message and not info.value.retryable


def _draft(sku: str, price: str = "129.00") -> OfferDraft:
    return OfferDraft(
        sku=sku,
        price_value=price,
        currency="USD",
        quantity=1,
        category_id="31387",
        listing_description="<p>Runs well.</p>",
    )


def test_bulk_create_offers_in_chunks_of_25_reusing_an_existing_offer(ebay, clean_sandbox):
    skus = [f"BO-{i:02d}" for i in range(27)]
    ebay.bulk_put_inventory_items([InventoryItemWithSku(sku=s, item=_item()) for s in skus])
    existing = ebay.create_or_get_offer(_draft("BO-03"))
    drafts = [_draft(s) for s in skus] + [_draft("BO-NOT-IN-INVENTORY")]
    results = ebay.bulk_create_or_get_offers(drafts)
    assert ebay.api_calls["bulk_create_offer"] == 2
    assert [r.sku for r in results] == [d.sku for d in drafts]
    assert all(r.ok and r.offer_id for r in results[:27])
    assert results[3].offer_id == existing and results[3].reused
    assert not any(r.reused for i, r in enumerate(results[:27]) if i != 3)
    assert not results[27].ok and results[27].errors[0].startswith("25702")
    assert ebay.get_offers("BO-10")[0]["offerId"] == results[10].offer_id
    assert clean_sandbox.ctx.ledger.count("ebay", "offer_created") == 27
    assert clean_sandbox.ctx.ledger.duplicates().get("ebay", {}) == {}


def test_bulk_publish_offers_reports_per_offer_and_repeats_safely(ebay, clean_sandbox):
    ebay.ensure_inventory_location()
    offer_ids = [_listed(ebay, f"BP-{i:02d}") for i in range(26)]
    already = ebay.publish_offer(offer_ids[0])
    results = ebay.bulk_publish_offers([*offer_ids, "0000000000"])
    assert ebay.api_calls["bulk_publish_offer"] == 2
    assert [r.offer_id for r in results] == [*offer_ids, "0000000000"]
    assert all(r.ok and r.listing_id for r in results[:26])
    assert results[0].listing_id == already  # already published: its listing, not a new one
    assert not results[26].ok and results[26].errors[0].startswith("25713")
    assert ebay.get_offer(offer_ids[5])["listing"]["listingId"] == results[5].listing_id
    assert clean_sandbox.ctx.ledger.count("ebay", "offer_published") == 26
    with pytest.raises(ValueError):
        ebay.bulk_publish_offers([""])


def test_bulk_call_over_25_is_refused_by_the_emulator(ebay, clean_sandbox, settings):
    token = ebay._tokens.get()
    response = httpx.post(
        f"{settings.ebay_api_url}/sell/inventory/v1/bulk_publish_offer",
        json={"requests": [{"offerId": str(i)} for i in range(26)]},
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
    )
    assert response.status_code == 400
    assert response.json()["errors"][0]["errorId"] == 25727


def test_lost_bulk_create_offer_answer_is_recovered_without_duplicates(ebay, clean_sandbox):
    ebay.bulk_put_inventory_items(
        [InventoryItemWithSku(sku=f"BL-{i}", item=_item()) for i in range(3)]
    )
    _faults(
        clean_sandbox,
        {"lost_response_rate": 1.0, "times": 1, "path_contains": "/bulk_create_offer"},
    )
    drafts = [_draft(f"BL-{i}") for i in range(3)]
    with pytest.raises(RetryableError):
        ebay.bulk_create_or_get_offers(drafts)
    results = ebay.bulk_create_or_get_offers(drafts)
    assert all(r.ok and r.reused for r in results)
    assert [r.offer_id for r in results] == [ebay.get_offers(d.sku)[0]["offerId"] for d in drafts]
    assert clean_sandbox.ctx.ledger.count("ebay", "offer_created") == 3
    assert clean_sandbox.ctx.ledger.duplicates().get("ebay", {}) == {}


def test_lost_bulk_publish_answer_is_recovered_without_duplicates(ebay, clean_sandbox):
    ebay.ensure_inventory_location()
    offer_ids = [_listed(ebay, f"BLP-{i}") for i in range(3)]
    _faults(
        clean_sandbox,
        {"lost_response_rate": 1.0, "times": 1, "path_contains": "/bulk_publish_offer"},
    )
    with pytest.raises(RetryableError):
        ebay.bulk_publish_offers(offer_ids)
    results = ebay.bulk_publish_offers(offer_ids)
    assert [r.listing_id for r in results] == [
        ebay.get_offer(o)["listing"]["listingId"] for o in offer_ids
    ]
    ledger = clean_sandbox.ctx.ledger
    assert ledger.count("ebay", "offer_published") == 3
    assert ledger.duplicates().get("ebay", {}) == {}


def test_our_words_become_ebays() -> None:
    from adapters.ebay import REFUND_REASON_TO_EBAY, ebay_carrier_code

    body = InventoryItem(title="t", description="d", condition=Condition.for_parts).to_ebay()
    assert body["condition"] == "FOR_PARTS_OR_NOT_WORKING"
    assert set(REFUND_REASON_TO_EBAY) == set(RefundReason)
    assert REFUND_REASON_TO_EBAY[RefundReason.other] == "OTHER"
    assert [ebay_carrier_code(c) for c in ("fedex", "yamato", "sagawa", "dhl")] == [
        "FEDEX",
        "YAMATO",
        "SAGAWA",
        "DHL",
    ]

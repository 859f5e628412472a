"""eBay Sell APIs client: OAuth refresh-token grant, Sell Inventory and Sell Fulfillment.

Sync (runs in Temporal activities on a thread pool). Every call that creates something on eBay
is made safe to repeat here, because eBay offers no idempotency key: createOffer reuses the offer
eBay reports as existing (errorId 25002), shipping fulfillments and refunds look for an earlier
one first. Failures raise `adapters.errors` types with eBay's own message kept.
"""

from __future__ import annotations

import base64
import threading
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any
from urllib.parse import quote

import httpx
from pydantic import BaseModel, Field, field_validator

from adapters.errors import (
    AuthenticationError,
    NotFoundError,
    PermanentError,
    classify_status,
    from_transport_error,
    retry_after_seconds,
)
from adapters.http import DEFAULT_TIMEOUT, TokenCache, call_json
from adapters.quota import api_family, ebay_daily_budget, vendor_quota
from config import Settings
from domain.catalog import Condition
from domain.refunds import RefundReason
from domain.sku import SKU_PATTERN

SERVICE = "ebay"
SCOPES = (
    "https://api.ebay.com/oauth/api_scope/sell.inventory",
    "https://api.ebay.com/oauth/api_scope/sell.fulfillment",
    "https://api.ebay.com/oauth/api_scope/sell.account",
    "https://api.ebay.com/oauth/api_scope/sell.finances",  # issue_refund
)
INVENTORY = "/sell/inventory/v1"
FULFILLMENT = "/sell/fulfillment/v1"
BULK_LIMIT = 25
ORDER_PAGE = 200
PRICE_PATTERN = r"^\d+(\.\d{1,2})?$"
CONDITION_TO_EBAY: dict[Condition, str] = {
    Condition.new: "NEW",
    Condition.like_new: "LIKE_NEW",
    Condition.used_excellent: "USED_EXCELLENT",
    Condition.used_very_good: "USED_VERY_GOOD",
    Condition.used_good: "USED_GOOD",
    Condition.used_acceptable: "USED_ACCEPTABLE",
    Condition.for_parts: "FOR_PARTS_OR_NOT_WORKING",
}
"""Our condition -> eBay's ConditionEnum (we list in these seven of its sixteen)."""
REFUND_REASON_TO_EBAY: dict[RefundReason, str] = {
    RefundReason.buyer_cancelled: "BUYER_CANCEL",
    RefundReason.buyer_returned: "BUYER_RETURN",
    RefundReason.not_received: "ITEM_NOT_RECEIVED",
    RefundReason.wrong_item: "SELLER_WRONG_ITEM",
    RefundReason.out_of_stock: "SELLER_OUT_OF_STOCK",
    RefundReason.other: "OTHER",
}
"""Our refund reason -> eBay's reasonForRefund."""
CARRIER_CODES = {"fedex": "FEDEX", "yamato": "YAMATO", "sagawa": "SAGAWA"}
"""Our carrier names -> the shippingCarrierCode sent in eBay shipping fulfillments."""


def ebay_carrier_code(carrier: str) -> str:
    """eBay's code for one of our carriers (an unknown one is sent upper-cased)."""
    return CARRIER_CODES.get(carrier, carrier.upper())


# Inputs ------------------------------------------------------------------------------------


class PackageDims(BaseModel):
    length_cm: float = Field(gt=0)
    width_cm: float = Field(gt=0)
    height_cm: float = Field(gt=0)


class InventoryItem(BaseModel):
    title: str = Field(min_length=1, max_length=80)
    description: str = Field(min_length=1, max_length=500_000)
    aspects: dict[str, list[str]] = Field(default_factory=dict)
    image_urls: list[str] = Field(default_factory=list, max_length=24)
    condition: Condition = Condition.used_excellent
    quantity: int = Field(default=1, ge=0)
    weight_g: int | None = Field(default=None, gt=0)
    dims: PackageDims | None = None

    def to_ebay(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "product": {
                "title": self.title,
                "description": self.description,
                "aspects": self.aspects,
                "imageUrls": self.image_urls,
            },
            "condition": CONDITION_TO_EBAY[self.condition],
            "availability": {"shipToLocationAvailability": {"quantity": self.quantity}},
        }
        package: dict[str, Any] = {}
        if self.weight_g:
            package["weight"] = {"value": self.weight_g, "unit": "GRAM"}
        if self.dims:
            package["dimensions"] = {
                "length": self.dims.length_cm,
                "width": self.dims.width_cm,
                "height": self.dims.height_cm,
                "unit": "CENTIMETER",
            }
        if package:
            body["packageWeightAndSize"] = package
        return body


class InventoryItemWithSku(BaseModel):
    sku: str = Field(pattern=SKU_PATTERN)
    item: InventoryItem


class OfferDraft(BaseModel):
    sku: str = Field(pattern=SKU_PATTERN)
    price_value: str = Field(pattern=PRICE_PATTERN)
    currency: str = Field(min_length=3, max_length=3)
    quantity: int = Field(ge=0)
    category_id: str = Field(min_length=1)
    listing_description: str = Field(min_length=1)


class PriceQuantityUpdate(BaseModel):
    sku: str = Field(pattern=SKU_PATTERN)
    offer_id: str = Field(min_length=1)
    quantity: int = Field(ge=0)
    price_value: str | None = Field(default=None, pattern=PRICE_PATTERN)
    currency: str | None = None


# Outputs -----------------------------------------------------------------------------------


class BulkItemResult(BaseModel):
    sku: str
    status_code: int
    ok: bool
    errors: list[str] = Field(default_factory=list)
    offer_id: str | None = None


class BulkOfferResult(BaseModel):
    """One offer of bulkCreateOffer: its id (new, or the existing one eBay reported with
    25002), or eBay's errors for that item."""

    sku: str
    status_code: int
    ok: bool
    offer_id: str | None = None
    reused: bool = False
    errors: list[str] = Field(default_factory=list)


class BulkPublishResult(BaseModel):
    """One offer of bulkPublishOffer: the listing id, or eBay's errors for that offer."""

    offer_id: str
    status_code: int
    ok: bool
    listing_id: str | None = None
    errors: list[str] = Field(default_factory=list)


class ShipTo(BaseModel):
    full_name: str = ""
    line1: str = ""
    line2: str = ""
    city: str = ""
    state: str = ""
    postal_code: str = ""
    country_code: str = ""
    phone: str = ""
    email: str = ""


class EbayLineItem(BaseModel):
    line_item_id: str
    sku: str
    title: str
    quantity: int
    value: str
    currency: str
    legacy_item_id: str


class EbayRefund(BaseModel):
    refund_id: str
    status: str
    value: str
    currency: str


class EbayOrder(BaseModel):
    order_id: str
    created_at: datetime
    modified_at: datetime
    fulfillment_status: str
    buyer_username: str
    buyer_email: str
    ship_to: ShipTo
    line_items: list[EbayLineItem]
    total_value: str
    total_currency: str
    cancel_requested: bool = False
    payment_status: str = ""
    refunds: list[EbayRefund] = Field(default_factory=list)

    @field_validator("created_at", "modified_at", mode="before")
    @classmethod
    def _utc(cls, value: Any) -> Any:
        return value.replace("Z", "+00:00") if isinstance(value, str) else value


class ShippingFulfillment(BaseModel):
    fulfillment_id: str
    tracking_number: str
    carrier_code: str
    line_items: list[tuple[str, int]]


# Parsing -----------------------------------------------------------------------------------


def parse_error(response: httpx.Response) -> tuple[str, str | None, Any]:
    """eBay's `{"errors": [{errorId, message, longMessage, parameters, ...}]}` (or OAuth's)."""
    body = response.json()
    if "errors" in body and body["errors"]:
        first = body["errors"][0]
        message = first.get("longMessage") or first.get("message") or ""
        if first.get("message") and first["message"] not in message:
            message = f"{first['message']} {message}"
        return message, str(first.get("errorId", "")) or None, body["errors"]
    if "error" in body:
        return f"{body['error']}: {body.get('error_description', '')}", body["error"], body
    raise ValueError("not an eBay error body")


def _error_messages(errors: list[dict[str, Any]] | None) -> list[str]:
    return [f"{e.get('errorId')}: {e.get('longMessage') or e.get('message')}" for e in errors or []]


def parse_order(raw: dict[str, Any]) -> EbayOrder:
    instructions = raw.get("fulfillmentStartInstructions") or [{}]
    ship = (instructions[0].get("shippingStep") or {}).get("shipTo") or {}
    address = ship.get("contactAddress") or {}
    buyer = raw.get("buyer") or {}
    cancel = raw.get("cancelStatus") or {}
    total = (raw.get("pricingSummary") or {}).get("total") or {}
    return EbayOrder(
        order_id=raw["orderId"],
        created_at=raw["creationDate"],
        modified_at=raw["lastModifiedDate"],
        fulfillment_status=raw.get("orderFulfillmentStatus", ""),
        payment_status=raw.get("orderPaymentStatus", ""),
        buyer_username=buyer.get("username", ""),
        buyer_email=ship.get("email")
        or (buyer.get("buyerRegistrationAddress") or {}).get("email", ""),
        ship_to=ShipTo(
            full_name=ship.get("fullName", ""),
            line1=address.get("addressLine1", ""),
            line2=address.get("addressLine2", ""),
            city=address.get("city", ""),
            state=address.get("stateOrProvince", ""),
            postal_code=address.get("postalCode", ""),
            country_code=address.get("countryCode", ""),
            phone=(ship.get("primaryPhone") or {}).get("phoneNumber", ""),
            email=ship.get("email", ""),
        ),
        line_items=[
            EbayLineItem(
                line_item_id=li["lineItemId"],
                sku=li.get("sku", ""),
                title=li.get("title", ""),
                quantity=li.get("quantity", 1),
                value=(li.get("lineItemCost") or {}).get("value", "0"),
                currency=(li.get("lineItemCost") or {}).get("currency", ""),
                legacy_item_id=li.get("legacyItemId", ""),
            )
            for li in raw.get("lineItems", [])
        ],
        total_value=total.get("value", "0"),
        total_currency=total.get("currency", ""),
        cancel_requested=bool(cancel.get("cancelRequests"))
        or cancel.get("cancelState") in ("CANCEL_REQUESTED", "CANCEL_PENDING"),
        refunds=[
            EbayRefund(
                refund_id=r.get("refundId", ""),
                status=r.get("refundStatus", ""),
                value=(r.get("amount") or {}).get("value", "0"),
                currency=(r.get("amount") or {}).get("currency", ""),
            )
            for r in (raw.get("paymentSummary") or {}).get("refunds", [])
        ],
    )


def ebay_timestamp(moment: datetime) -> str:
    """ISO 8601 in UTC with milliseconds and Z, the only form eBay's date filters accept."""
    if moment.tzinfo is None:
        raise ValueError("eBay timestamps need a time zone")
    moment = moment.astimezone(UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def _chunks(items: list[Any], size: int = BULK_LIMIT) -> Iterator[list[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _same_amount(a: str, b: str) -> bool:
    try:
        return Decimal(a) == Decimal(b)
    except InvalidOperation:
        return False


# Client ------------------------------------------------------------------------------------


class _Counted:
    """Wraps the httpx client so every HTTP call (retries included) counts for its operation
    and against the day's budget of its API family (`spend` raises when that is spent)."""

    def __init__(
        self, client: httpx.Client, count: Any, operation: str, spend: Callable[[], None]
    ) -> None:
        self._client, self._count, self._operation, self._spend = client, count, operation, spend

    def request(self, *args: Any, **kwargs: Any) -> httpx.Response:
        self._spend()
        self._count(self._operation)
        return self._client.request(*args, **kwargs)


class EbayClient:
    def __init__(self, settings: Settings, http: httpx.Client | None = None) -> None:
        self._settings = settings
        self._base = settings.ebay_api_url
        self._http = http or httpx.Client(timeout=DEFAULT_TIMEOUT)
        self._marketplace = settings.ebay_marketplace_id
        self._tokens = TokenCache(self._fetch_token, margin=300)
        self.quota = vendor_quota(
            SERVICE,
            settings.ebay_calls_per_second,
            settings.ebay_call_burst,
            settings.redis_url,
            settings.store_namespace,
        )
        self.daily = ebay_daily_budget(settings)
        self._count_lock = threading.Lock()
        self.api_calls: Counter[str] = Counter()

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> EbayClient:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    # Plumbing ------------------------------------------------------------------------------

    def _count(self, operation: str) -> None:
        with self._count_lock:
            self.api_calls[operation] += 1

    def check_credentials(self) -> None:
        """For `worlddoor doctor`: the refresh token is accepted for our scopes."""
        self._tokens.get()

    def _fetch_token(self) -> tuple[str, float]:
        """Refresh-token grant: a user access token for the Sell scopes (about 2 hours)."""
        basic = base64.b64encode(
            f"{self._settings.ebay_client_id}:"
            f"{self._settings.ebay_client_secret.get_secret_value()}".encode()
        ).decode()
        self._count("oauth_token")
        try:
            response = self._http.post(
                f"{self._base}/identity/v1/oauth2/token",
                headers={
                    "Authorization": f"Basic {basic}",
                    "Content-Type": "application/x-www-form-urlencoded",
                },
                data={
                    "grant_type": "refresh_token",
                    "refresh_token": self._settings.ebay_oauth_refresh_token.get_secret_value(),
                    "scope": " ".join(SCOPES),
                },
            )
        except httpx.TransportError as exc:
            raise from_transport_error(SERVICE, exc) from exc
        if response.status_code != 200:
            message, code, details = _safe(response)
            if response.status_code in (400, 401):
                raise AuthenticationError(
                    SERVICE, message, status=response.status_code, code=code, details=details
                )
            raise classify_status(
                SERVICE,
                response.status_code,
                message,
                code=code,
                retry_after=retry_after_seconds(response),
                details=details,
            )
        body = response.json()
        return body["access_token"], float(body.get("expires_in", 7200))

    def _call(
        self,
        operation: str,
        method: str,
        path: str,
        *,
        json: Any = None,
        params: dict[str, Any] | None = None,
        content_language: bool = False,
        expected: tuple[int, ...] = (200, 201, 204, 207),
    ) -> httpx.Response:
        headers = {"Accept": "application/json", "X-EBAY-C-MARKETPLACE-ID": self._marketplace}
        if json is not None:
            headers["Content-Type"] = "application/json"
        if content_language:
            headers["Content-Language"] = "en-US"
        return call_json(
            _Counted(  # type: ignore[arg-type]
                self._http, self._count, operation, lambda: self.daily.spend(api_family(path))
            ),
            SERVICE,
            method,
            f"{self._base}{path}",
            tokens=self._tokens,
            parse_error=parse_error,
            json=json,
            params=params,
            headers=headers,
            expected=expected,
            quota=self.quota,
        )

    # Sell Inventory --------------------------------------------------------------------------

    def ensure_inventory_location(self) -> None:
        """Our Tokyo warehouse as the merchant location; creating it twice is fine (409)."""
        key = self._settings.ebay_merchant_location_key
        try:
            self._call("get_inventory_location", "GET", f"{INVENTORY}/location/{quote(key)}")
            return
        except NotFoundError:
            pass
        s = self._settings
        body = {
            "location": {
                "address": {
                    "addressLine1": s.shipper_address_line1,
                    "city": s.shipper_city,
                    "stateOrProvince": s.shipper_prefecture,
                    "postalCode": s.shipper_postal_code,
                    "country": s.shipper_country_code,
                }
            },
            "locationTypes": ["WAREHOUSE"],
            "name": s.shipper_name,
            "merchantLocationStatus": "ENABLED",
            "phone": s.shipper_phone,
        }
        self._call(
            "create_inventory_location",
            "POST",
            f"{INVENTORY}/location/{quote(key)}",
            json=body,
            expected=(200, 201, 204, 409),
        )

    def put_inventory_item(self, sku: str, item: InventoryItem) -> None:
        sku = InventoryItemWithSku(sku=sku, item=item).sku
        self._call(
            "put_inventory_item",
            "PUT",
            f"{INVENTORY}/inventory_item/{quote(sku)}",
            json=item.to_ebay(),
            content_language=True,
            expected=(200, 201, 204),
        )

    def bulk_put_inventory_items(self, items: list[InventoryItemWithSku]) -> list[BulkItemResult]:
        results: list[BulkItemResult] = []
        for chunk in _chunks(items):
            body = {
                "requests": [{"sku": i.sku, "locale": "en_US", **i.item.to_ebay()} for i in chunk]
            }
            response = self._call(
                "bulk_create_or_replace_inventory_item",
                "POST",
                f"{INVENTORY}/bulk_create_or_replace_inventory_item",
                json=body,
                content_language=True,
                expected=(200, 207),
            )
            results.extend(self._bulk_results(response))
        return results

    @staticmethod
    def _bulk_results(response: httpx.Response) -> list[BulkItemResult]:
        return [
            BulkItemResult(
                sku=r.get("sku", ""),
                status_code=r.get("statusCode", 0),
                ok=200 <= r.get("statusCode", 0) < 300,
                errors=_error_messages(r.get("errors")),
                offer_id=r.get("offerId"),
            )
            for r in response.json().get("responses", [])
        ]

    def _offer_body(self, offer: OfferDraft) -> dict[str, Any]:
        s = self._settings
        return {
            "sku": offer.sku,
            "marketplaceId": self._marketplace,
            "format": "FIXED_PRICE",
            "availableQuantity": offer.quantity,
            "categoryId": offer.category_id,
            "listingDescription": offer.listing_description,
            "listingPolicies": {
                "fulfillmentPolicyId": s.ebay_fulfillment_policy_id,
                "paymentPolicyId": s.ebay_payment_policy_id,
                "returnPolicyId": s.ebay_return_policy_id,
            },
            "pricingSummary": {"price": {"value": offer.price_value, "currency": offer.currency}},
            "merchantLocationKey": s.ebay_merchant_location_key,
        }

    def _existing_offer_id(self, sku: str) -> str | None:
        """The offer eBay means by 25002: same SKU, our marketplace, fixed price."""
        for offer_found in self.get_offers(sku):
            if (offer_found.get("marketplaceId"), offer_found.get("format")) == (
                self._marketplace,
                "FIXED_PRICE",
            ):
                return str(offer_found["offerId"])
        return None

    def create_or_get_offer(self, offer: OfferDraft) -> str:
        """createOffer is not idempotent: a repeat gets 25002 "Offer entity already exists",
        and then the existing offer (same SKU, marketplace, format) is the answer."""
        try:
            response = self._call(
                "create_offer",
                "POST",
                f"{INVENTORY}/offer",
                json=self._offer_body(offer),
                content_language=True,
                expected=(201,),
            )
            return str(response.json()["offerId"])
        except PermanentError as exc:
            if exc.code != "25002" or "already exists" not in exc.message.lower():
                raise
            existing = self._existing_offer_id(offer.sku)
            if existing is None:
                raise
            return existing

    def bulk_create_or_get_offers(self, offers: list[OfferDraft]) -> list[BulkOfferResult]:
        """bulkCreateOffer, 25 a call, one result per draft in order. Like createOffer it is
        not idempotent: an item refused with 25002 (say, after a lost answer) gets the offer
        that exists for its SKU. Item errors are reported; only a failed call raises."""
        results: list[BulkOfferResult] = []
        for chunk in _chunks(offers):
            response = self._call(
                "bulk_create_offer",
                "POST",
                f"{INVENTORY}/bulk_create_offer",
                json={"requests": [self._offer_body(o) for o in chunk]},
                content_language=True,
                expected=(200, 207),
            )
            by_sku = {r.get("sku"): r for r in response.json().get("responses", [])}
            results.extend(self._offer_result(o.sku, by_sku.get(o.sku)) for o in chunk)
        return results

    def _offer_result(self, sku: str, raw: dict[str, Any] | None) -> BulkOfferResult:
        if raw is None:
            return BulkOfferResult(
                sku=sku, status_code=0, ok=False, errors=["eBay returned no result for this SKU"]
            )
        status = int(raw.get("statusCode", 0))
        if 200 <= status < 300 and raw.get("offerId"):
            return BulkOfferResult(sku=sku, status_code=status, ok=True, offer_id=raw["offerId"])
        errors = raw.get("errors") or []
        exists = any(
            str(e.get("errorId")) == "25002"
            and "already exists" in f"{e.get('message')} {e.get('longMessage')}".lower()
            for e in errors
        )
        existing = self._existing_offer_id(sku) if exists else None
        if existing is not None:
            return BulkOfferResult(
                sku=sku, status_code=status, ok=True, offer_id=existing, reused=True
            )
        return BulkOfferResult(
            sku=sku,
            status_code=status,
            ok=False,
            errors=_error_messages(errors) or [f"eBay status {status}"],
        )

    def bulk_publish_offers(self, offer_ids: list[str]) -> list[BulkPublishResult]:
        """bulkPublishOffer, 25 a call, one result per offer id in order. Publishing an offer
        that is already published answers with its listing (as publishOffer does), so a
        repeat after a lost answer lists nothing twice."""
        for offer_id in offer_ids:
            if not offer_id:
                raise ValueError("offer ids must not be empty")
        results: list[BulkPublishResult] = []
        for chunk in _chunks(offer_ids):
            response = self._call(
                "bulk_publish_offer",
                "POST",
                f"{INVENTORY}/bulk_publish_offer",
                json={"requests": [{"offerId": offer_id} for offer_id in chunk]},
                expected=(200, 207),
            )
            by_id = {str(r.get("offerId")): r for r in response.json().get("responses", [])}
            for offer_id in chunk:
                raw = by_id.get(offer_id) or {}
                status = int(raw.get("statusCode", 0))
                ok = 200 <= status < 300 and bool(raw.get("listingId"))
                results.append(
                    BulkPublishResult(
                        offer_id=offer_id,
                        status_code=status,
                        ok=ok,
                        listing_id=str(raw["listingId"]) if ok else None,
                        errors=[]
                        if ok
                        else _error_messages(raw.get("errors"))
                        or [f"eBay status {status or 'missing'} for offer {offer_id}"],
                    )
                )
        return results

    def publish_offer(self, offer_id: str) -> str:
        response = self._call(
            "publish_offer", "POST", f"{INVENTORY}/offer/{quote(offer_id)}/publish", expected=(200,)
        )
        return str(response.json()["listingId"])

    def withdraw_offer(self, offer_id: str) -> str:
        """End the listing (the offer stays). A repeat, e.g. after a lost answer, gets 25713
        from eBay; an offer whose listing has already ended is then the answer."""
        try:
            response = self._call(
                "withdraw_offer",
                "POST",
                f"{INVENTORY}/offer/{quote(offer_id)}/withdraw",
                expected=(200,),
            )
        except PermanentError as exc:
            if exc.code != "25713":
                raise
            offer = self.get_offer(offer_id)
            listing = offer.get("listing") or {}
            if offer.get("status") == "UNPUBLISHED" and listing.get("listingId"):
                return str(listing["listingId"])
            raise
        return str(response.json()["listingId"])

    def get_offer(self, offer_id: str) -> dict[str, Any]:
        response = self._call(
            "get_offer", "GET", f"{INVENTORY}/offer/{quote(offer_id)}", expected=(200,)
        )
        return dict(response.json())

    def get_offers(self, sku: str) -> list[dict[str, Any]]:
        try:
            response = self._call(
                "get_offers",
                "GET",
                f"{INVENTORY}/offer",
                params={"sku": sku, "marketplace_id": self._marketplace},
                expected=(200,),
            )
        except NotFoundError:  # eBay answers 404 for a SKU without offers
            return []
        return list(response.json().get("offers", []))

    def bulk_update_price_quantity(
        self, updates: list[PriceQuantityUpdate]
    ) -> list[BulkItemResult]:
        results: list[BulkItemResult] = []
        for chunk in _chunks(updates):
            requests = []
            for u in chunk:
                change: dict[str, Any] = {"offerId": u.offer_id, "availableQuantity": u.quantity}
                if u.price_value is not None:
                    change["price"] = {
                        "value": u.price_value,
                        "currency": u.currency or self._settings.ebay_currency,
                    }
                requests.append(
                    {
                        "sku": u.sku,
                        "offers": [change],
                        "shipToLocationAvailability": {"quantity": u.quantity},
                    }
                )
            response = self._call(
                "bulk_update_price_quantity",
                "POST",
                f"{INVENTORY}/bulk_update_price_quantity",
                json={"requests": requests},
                expected=(200, 207),
            )
            results.extend(self._bulk_results(response))
        return results

    # Sell Fulfillment ------------------------------------------------------------------------

    def iter_orders_modified(self, start: datetime, end: datetime) -> Iterator[EbayOrder]:
        """Orders whose lastModifiedDate is in [start, end], 200 a page, following `next`.
        eBay refuses dates in the future (errorId 30850), so the end is cut at our clock."""
        end = min(end, datetime.now(UTC))
        if start > end:
            return
        window = f"lastmodifieddate:[{ebay_timestamp(start)}..{ebay_timestamp(end)}]"
        offset = 0
        while True:
            response = self._call(
                "get_orders",
                "GET",
                f"{FULFILLMENT}/order",
                params={"filter": window, "limit": ORDER_PAGE, "offset": offset},
                expected=(200,),
            )
            page = response.json()
            orders = page.get("orders", [])
            for raw in orders:
                yield parse_order(raw)
            offset += len(orders)
            if not page.get("next") or not orders or offset >= page.get("total", 0):
                return

    def get_order(self, order_id: str) -> EbayOrder:
        return parse_order(self._get_order_raw(order_id))

    def _get_order_raw(self, order_id: str) -> dict[str, Any]:
        response = self._call(
            "get_order", "GET", f"{FULFILLMENT}/order/{quote(order_id)}", expected=(200,)
        )
        return dict(response.json())

    def list_shipping_fulfillments(self, order_id: str) -> list[ShippingFulfillment]:
        response = self._call(
            "get_shipping_fulfillments",
            "GET",
            f"{FULFILLMENT}/order/{quote(order_id)}/shipping_fulfillment",
            expected=(200,),
        )
        return [
            ShippingFulfillment(
                fulfillment_id=f["fulfillmentId"],
                tracking_number=f.get("shipmentTrackingNumber", ""),
                carrier_code=f.get("shippingCarrierCode", ""),
                line_items=[
                    (li["lineItemId"], li.get("quantity", 1)) for li in f.get("lineItems", [])
                ],
            )
            for f in response.json().get("fulfillments", [])
        ]

    def create_shipping_fulfillment(
        self,
        order_id: str,
        line_items: list[tuple[str, int]],
        carrier: str,
        tracking_number: str,
        shipped_at: datetime,
    ) -> str:
        """Mark lines shipped with a tracking number by one of our carriers (`fedex`, ...).
        eBay would accept the same fulfillment twice, so an existing one with this tracking
        number is returned instead."""
        if not line_items or not tracking_number or not carrier:
            raise ValueError("line items, carrier and tracking number are required")
        for existing in self.list_shipping_fulfillments(order_id):
            if existing.tracking_number == tracking_number:
                return existing.fulfillment_id
        body = {
            "lineItems": [{"lineItemId": lid, "quantity": qty} for lid, qty in line_items],
            "shippedDate": ebay_timestamp(shipped_at),
            "shippingCarrierCode": ebay_carrier_code(carrier),
            "trackingNumber": tracking_number,
        }
        response = self._call(
            "create_shipping_fulfillment",
            "POST",
            f"{FULFILLMENT}/order/{quote(order_id)}/shipping_fulfillment",
            json=body,
            expected=(201,),
        )
        location = response.headers.get("location", "")
        fulfillment_id = location.rstrip("/").rsplit("/", 1)[-1]
        if not fulfillment_id:
            raise PermanentError(
                SERVICE,
                "createShippingFulfillment returned no Location",
                status=response.status_code,
            )
        return fulfillment_id

    def issue_refund(
        self, order_id: str, amount: str, currency: str, reason: RefundReason, comment: str = ""
    ) -> str:
        """An order-level refund. A refund of the same amount already on the order (say,
        from a call whose answer was lost) is returned instead of refunding twice."""
        ebay_reason = REFUND_REASON_TO_EBAY[RefundReason(reason)]
        order = parse_order(self._get_order_raw(order_id))
        for refund in order.refunds:
            if (
                refund.status != "FAILED"
                and refund.currency == currency
                and _same_amount(refund.value, amount)
            ):
                return refund.refund_id
        body: dict[str, Any] = {
            "reasonForRefund": ebay_reason,
            "orderLevelRefundAmount": {"value": amount, "currency": currency},
        }
        if comment:
            body["comment"] = comment[:1000]
        response = self._call(
            "issue_refund",
            "POST",
            f"{FULFILLMENT}/order/{quote(order_id)}/issue_refund",
            json=body,
            expected=(200,),
        )
        return str(response.json()["refundId"])


def _safe(response: httpx.Response) -> tuple[str, str | None, Any]:
    try:
        return parse_error(response)
    except (ValueError, KeyError, TypeError, IndexError):
        return response.text[:500] or f"HTTP {response.status_code}", None, None


__all__ = [
    "BulkItemResult",
    "BulkOfferResult",
    "BulkPublishResult",
    "EbayClient",
    "EbayLineItem",
    "EbayOrder",
    "InventoryItem",
    "InventoryItemWithSku",
    "OfferDraft",
    "PackageDims",
    "PriceQuantityUpdate",
    "ShipTo",
    "ShippingFulfillment",
    "parse_order",
]

"""eBay Sell Inventory API emulator: inventory items, locations, offers, publish/withdraw and
the bulk calls, answering what eBay's OAS file describes and recording side effects."""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation
from typing import Any

from litestar import Request, Response, Router, get, post, put
from litestar.params import FromPath

from sandbox.core import SandboxContext
from sandbox.ebay_common import (
    CONDITIONS,
    INVENTORY_BASE,
    EbayError,
    error_entry,
    json_body,
    require_content_language,
    validate,
)
from sandbox.ebay_state import EbayState

SKU_RE = re.compile(r"^[A-Za-z0-9_\-]{1,50}$")
PRICE_RE = re.compile(r"^\d+(\.\d{1,2})?$")
BULK_LIMIT = 25


def _check(method: str, path: str, body: Any) -> None:
    validate("ebay-inventory", method, path, body, error_id=25709, domain="API_INVENTORY")


def _item_problems(sku: str, item: dict[str, Any]) -> list[dict[str, Any]]:
    """The checks eBay makes on an inventory item write (beyond the schema)."""
    problems = []
    if not SKU_RE.match(sku):
        problems.append(
            error_entry(
                25707,
                "This is an invalid value for a SKU. Only alphanumeric characters can be used "
                "for SKUs, and their length must not exceed 50 characters",
                parameters={"sku": sku},
            )
        )
    title = (item.get("product") or {}).get("title") or ""
    if len(title) > 80:
        problems.append(
            error_entry(
                25709,
                "Invalid value for title.",
                long_message="The title exceeds 80 characters.",
                parameters={"fieldName": "product.title"},
            )
        )
    condition = item.get("condition")
    if condition is not None and condition not in CONDITIONS:
        problems.append(
            error_entry(
                2004,
                "Invalid request",
                domain="ACCESS",
                long_message=f"Could not serialize field [condition]: "
                f"{condition!r} is not a ConditionEnum value.",
            )
        )
    quantity = ((item.get("availability") or {}).get("shipToLocationAvailability") or {}).get(
        "quantity", 0
    )
    if quantity < 0:
        problems.append(
            error_entry(25004, "Invalid quantity.", parameters={"fieldName": "quantity"})
        )
    return problems


def _price_ok(price: Any) -> bool:
    if not isinstance(price, dict) or not PRICE_RE.match(str(price.get("value", ""))):
        return False
    try:
        return Decimal(price["value"]) > 0 and bool(price.get("currency"))
    except InvalidOperation:
        return False


def inventory_router(ctx: SandboxContext, state: EbayState, guards: list[Any]) -> Router:
    ledger = ctx.ledger

    def store_item(sku: str, item: dict[str, Any]) -> None:
        created = sku not in state.inventory
        state.inventory[sku] = {k: v for k, v in item.items() if k not in ("sku", "locale")}
        if created:  # a replace is idempotent: only a new SKU is a new side effect
            ledger.record("ebay", "inventory_item", sku)

    def offer_or_404(offer_id: str) -> dict[str, Any]:
        offer = state.offers.get(offer_id)
        if offer is None:
            raise EbayError(
                404,
                25713,
                "This Offer is not available : offerId.",
                parameters={"offerId": offer_id},
            )
        return offer

    @put("/inventory_item/{sku:str}")
    async def put_item(request: Request, sku: FromPath[str]) -> Response:
        require_content_language(request)
        body = await json_body(request)
        _check("PUT", f"/inventory_item/{sku}", body)
        problems = _item_problems(sku, body)
        if problems:
            return Response({"errors": problems}, status_code=400)
        with state.lock:
            store_item(sku, body)
        return Response(None, status_code=204)

    @get("/inventory_item/{sku:str}")
    async def get_item(sku: FromPath[str]) -> Response:
        item = state.inventory.get(sku)
        if item is None:
            raise EbayError(
                404,
                25702,
                f"SKU {sku} could not be found or is not available in the system.",
                parameters={"sku": sku},
            )
        return Response({"sku": sku, "locale": "en_US", **item})

    @post("/bulk_create_or_replace_inventory_item")
    async def bulk_items(request: Request) -> Response:
        require_content_language(request)
        body = await json_body(request)
        _check("POST", "/bulk_create_or_replace_inventory_item", body)
        requests = body.get("requests") or []
        if not requests or len(requests) > BULK_LIMIT:
            raise EbayError(
                400,
                25727,
                f"The number of InventoryItems in the request cannot exceed {BULK_LIMIT}.",
            )
        responses = []
        with state.lock:
            for entry in requests:
                sku = str(entry.get("sku", ""))
                problems = _item_problems(sku, entry)
                if not problems:
                    store_item(sku, entry)
                responses.append(
                    {
                        "statusCode": 400 if problems else 200,
                        "sku": sku,
                        "locale": entry.get("locale", "en_US"),
                        **({"errors": problems} if problems else {}),
                    }
                )
        mixed = any(r["statusCode"] != 200 for r in responses)
        return Response({"responses": responses}, status_code=207 if mixed else 200)

    @get("/location/{key:str}")
    async def get_location(key: FromPath[str]) -> Response:
        location = state.locations.get(key)
        if location is None:
            raise EbayError(
                404,
                25804,
                "Input error. Location not found.",
                parameters={"merchantLocationKey": key},
            )
        return Response({"merchantLocationKey": key, **location})

    @post("/location/{key:str}")
    async def create_location(request: Request, key: FromPath[str]) -> Response:
        body = await json_body(request)
        _check("POST", f"/location/{key}", body)
        if len(key) > 36:
            raise EbayError(400, 25800, "Invalid merchantLocationKey.")
        address = (body.get("location") or {}).get("address") or {}
        if not address.get("country") or not (address.get("postalCode") or address.get("city")):
            raise EbayError(
                400,
                25801,
                "Missing field location.address.",
                long_message="country and postalCode (or city) are required.",
            )
        with state.lock:
            if key in state.locations:
                raise EbayError(
                    409,
                    25803,
                    "merchantLocationKey already exists.",
                    parameters={"fieldName": "merchantLocationKey", "merchantLocationKey": key},
                )
            state.locations[key] = {"merchantLocationStatus": "ENABLED", **body}
            ledger.record("ebay", "location", key)
        return Response(None, status_code=204)

    def new_offer(body: dict[str, Any]) -> str:
        """createOffer's checks and effect, shared by the single and the bulk call."""
        sku = body.get("sku") or ""
        marketplace, fmt = body.get("marketplaceId"), body.get("format")
        if not (sku and marketplace and fmt):
            raise EbayError(
                400,
                25709,
                "Invalid value for sku, marketplaceId or format.",
                long_message="sku, marketplaceId and format are required.",
            )
        price = (body.get("pricingSummary") or {}).get("price")
        if price is not None and not _price_ok(price):
            raise EbayError(400, 25003, "Invalid price.", parameters={"fieldName": "price"})
        with state.lock:
            if sku not in state.inventory:
                raise EbayError(
                    400,
                    25702,
                    f"SKU {sku} could not be found or is not available in the system.",
                    parameters={"sku": sku},
                )
            for existing in state.offers.values():
                if (existing["sku"], existing["marketplaceId"], existing["format"]) == (
                    sku,
                    marketplace,
                    fmt,
                ):
                    raise EbayError(
                        400,
                        25002,
                        "A user error has occurred. Offer entity already exists.",
                        parameters={"offerId": existing["offerId"]},
                    )
            offer_id = state.new_offer_id()
            state.offers[offer_id] = {**body, "offerId": offer_id, "status": "UNPUBLISHED"}
            ledger.record("ebay", "offer_created", sku)
        return offer_id

    def publish_one(offer_id: str) -> str:
        """publishOffer's checks and effect; publishing again revises the same listing."""
        with state.lock:
            offer = offer_or_404(offer_id)
            if offer["status"] == "PUBLISHED":
                return str(offer["listing"]["listingId"])
            _check_publishable(state, offer)
            listing_id = state.new_listing_id()
            offer["status"] = "PUBLISHED"
            offer["listing"] = {
                "listingId": listing_id,
                "listingStatus": "ACTIVE",
                "soldQuantity": 0,
            }
            ledger.record("ebay", "offer_published", offer_id)
        return listing_id

    @post("/offer")
    async def create_offer(request: Request) -> Response:
        require_content_language(request)
        body = await json_body(request)
        _check("POST", "/offer", body)
        return Response({"offerId": new_offer(body), "warnings": []}, status_code=201)

    @post("/bulk_create_offer")
    async def bulk_create_offer(request: Request) -> Response:
        require_content_language(request)
        body = await json_body(request)
        _check("POST", "/bulk_create_offer", body)
        requests = _bulk_requests(body, "offers")
        responses = []
        for entry in requests:
            result: dict[str, Any] = {
                "sku": str(entry.get("sku", "")),
                "marketplaceId": entry.get("marketplaceId", ""),
                "format": entry.get("format", ""),
            }
            try:
                result.update(statusCode=200, offerId=new_offer(entry))
            except EbayError as error:
                result.update(statusCode=error.status, errors=[error.error])
            responses.append(result)
        return _multi_status(responses)

    @post("/bulk_publish_offer")
    async def bulk_publish_offer(request: Request) -> Response:
        body = await json_body(request)
        _check("POST", "/bulk_publish_offer", body)
        responses = []
        for entry in _bulk_requests(body, "offers"):
            offer_id = str(entry.get("offerId", ""))
            result: dict[str, Any] = {"offerId": offer_id}
            try:
                result.update(statusCode=200, listingId=publish_one(offer_id), warnings=[])
            except EbayError as error:
                result.update(statusCode=error.status, errors=[error.error])
            responses.append(result)
        return _multi_status(responses)

    @get("/offer")
    async def get_offers(request: Request) -> Response:
        sku = request.query_params.get("sku")
        if not sku:
            raise EbayError(400, 25709, "Invalid value for sku.", parameters={"fieldName": "sku"})
        if sku not in state.inventory:
            raise EbayError(
                404, 25713, "This Offer is not available : sku.", parameters={"sku": sku}
            )
        marketplace = request.query_params.get("marketplace_id")
        fmt = request.query_params.get("format")
        try:
            limit = int(request.query_params.get("limit", 100))
            offset = int(request.query_params.get("offset", 0))
        except ValueError as exc:
            raise EbayError(400, 25706, "You have provided invalid pagination values.") from exc
        matching = [
            o
            for o in state.offers.values()
            if o["sku"] == sku
            and (not marketplace or o["marketplaceId"] == marketplace)
            and (not fmt or o["format"] == fmt)
        ]
        page = matching[offset : offset + limit]
        return Response(
            {
                "href": str(request.url),
                "limit": limit,
                "size": len(page),
                "total": len(matching),
                "offers": page,
            }
        )

    @get("/offer/{offer_id:str}")
    async def get_offer(offer_id: FromPath[str]) -> Response:
        return Response(offer_or_404(offer_id))

    @post("/offer/{offer_id:str}/publish", status_code=200)
    async def publish(offer_id: FromPath[str]) -> Response:
        return Response({"listingId": publish_one(offer_id), "warnings": []})

    @post("/offer/{offer_id:str}/withdraw", status_code=200)
    async def withdraw(offer_id: FromPath[str]) -> Response:
        with state.lock:
            offer = offer_or_404(offer_id)
            if offer["status"] != "PUBLISHED":
                raise EbayError(
                    400,
                    25713,
                    "This Offer is not available : the offer is not published.",
                    parameters={"offerId": offer_id},
                )
            offer["status"] = "UNPUBLISHED"
            offer["listing"]["listingStatus"] = "ENDED"
            ledger.record("ebay", "offer_withdrawn", offer_id)
        return Response({"listingId": offer["listing"]["listingId"], "warnings": []})

    @post("/bulk_update_price_quantity")
    async def bulk_price_quantity(request: Request) -> Response:
        body = await json_body(request)
        _check("POST", "/bulk_update_price_quantity", body)
        requests = body.get("requests") or []
        if not requests or len(requests) > BULK_LIMIT:
            raise EbayError(400, 25727, f"The number of requests cannot exceed {BULK_LIMIT}.")
        responses: list[dict[str, Any]] = []
        with state.lock:
            for entry in requests:
                responses.extend(_update_price_quantity(state, entry))
        mixed = any(r["statusCode"] != 200 for r in responses)
        return Response({"responses": responses}, status_code=207 if mixed else 200)

    return Router(
        INVENTORY_BASE,
        route_handlers=[
            put_item,
            get_item,
            bulk_items,
            get_location,
            create_location,
            create_offer,
            bulk_create_offer,
            bulk_publish_offer,
            get_offers,
            get_offer,
            publish,
            withdraw,
            bulk_price_quantity,
        ],
        guards=guards,
    )


def _bulk_requests(body: dict[str, Any], what: str) -> list[dict[str, Any]]:
    requests = body.get("requests") or []
    if not requests or len(requests) > BULK_LIMIT:
        raise EbayError(
            400, 25727, f"The number of {what} in the request cannot exceed {BULK_LIMIT}."
        )
    return list(requests)


def _multi_status(responses: list[dict[str, Any]]) -> Response:
    """200 when every item succeeded, 207 (Multi-Status) when any failed."""
    mixed = any(r["statusCode"] != 200 for r in responses)
    return Response({"responses": responses}, status_code=207 if mixed else 200)


def _check_publishable(state: EbayState, offer: dict[str, Any]) -> None:
    item = state.inventory.get(offer["sku"]) or {}
    product = item.get("product") or {}
    missing = [
        name
        for name, value in (
            ("product.title", product.get("title")),
            ("product.imageUrls", product.get("imageUrls")),
            ("condition", item.get("condition")),
            ("categoryId", offer.get("categoryId")),
            ("pricingSummary.price", (offer.get("pricingSummary") or {}).get("price")),
            ("listingPolicies", offer.get("listingPolicies")),
        )
        if not value
    ]
    if missing:
        raise EbayError(
            400,
            25002,
            f"A user error has occurred. Missing {', '.join(missing)}.",
            parameters={"fieldName": missing[0]},
        )
    policies = offer["listingPolicies"]
    for field, kind, error_id in (
        ("fulfillmentPolicyId", "FULFILLMENT", 25007),
        ("paymentPolicyId", "PAYMENT", 25008),
        ("returnPolicyId", "RETURN", 25009),
    ):
        value = str(policies.get(field) or "")
        if value not in state.policies.get(kind, set()):
            raise EbayError(
                400,
                error_id,
                "The eBay listing associated with the inventory item, or the unpublished offer "
                f"has invalid data in the associated {kind.title()} policy. "
                f"{kind.title()} policy {value or '(none)'} was not found for this seller.",
                parameters={"fieldName": f"listingPolicies.{field}", field: value},
            )
    category = str(offer["categoryId"])
    if category not in state.categories:
        raise EbayError(
            400,
            25005,
            "The eBay listing associated with the inventory item, or the unpublished offer has "
            f"an invalid category ID. Category {category} is not a leaf category on this site.",
            parameters={"fieldName": "categoryId", "categoryId": category},
        )
    key = offer.get("merchantLocationKey")
    if not key or key not in state.locations:
        raise EbayError(
            400,
            25012,
            "Invalid inventory location. No Item.Country exists.",
            parameters={"merchantLocationKey": str(key)},
        )


def _update_price_quantity(state: EbayState, entry: dict[str, Any]) -> list[dict[str, Any]]:
    sku = str(entry.get("sku", ""))
    if sku not in state.inventory:
        return [
            {
                "statusCode": 404,
                "sku": sku,
                "errors": [
                    error_entry(
                        25702, f"SKU {sku} could not be found or is not available in the system."
                    )
                ],
            }
        ]
    ship_to = entry.get("shipToLocationAvailability")
    if ship_to and "quantity" in ship_to:
        if ship_to["quantity"] < 0:
            return [
                {
                    "statusCode": 400,
                    "sku": sku,
                    "errors": [
                        error_entry(
                            25759,
                            "shipToLocationAvailability quantity value should be greater than or "
                            "equal to 0.",
                        )
                    ],
                }
            ]
        availability = state.inventory[sku].setdefault("availability", {})
        availability.setdefault("shipToLocationAvailability", {})["quantity"] = ship_to["quantity"]
    results = []
    for change in entry.get("offers") or []:
        offer = state.offers.get(str(change.get("offerId")))
        if offer is None or offer["sku"] != sku:
            results.append(
                {
                    "statusCode": 404,
                    "sku": sku,
                    "offerId": change.get("offerId"),
                    "errors": [error_entry(25713, "This Offer is not available.")],
                }
            )
            continue
        if "price" in change and not _price_ok(change["price"]):
            results.append(
                {
                    "statusCode": 400,
                    "sku": sku,
                    "offerId": offer["offerId"],
                    "errors": [error_entry(25709, "Invalid value for price.")],
                }
            )
            continue
        if "availableQuantity" in change:
            offer["availableQuantity"] = change["availableQuantity"]
        if "price" in change:
            offer.setdefault("pricingSummary", {})["price"] = change["price"]
        results.append({"statusCode": 200, "sku": sku, "offerId": offer["offerId"]})
    return results or [{"statusCode": 200, "sku": sku}]

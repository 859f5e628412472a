"""What the eBay emulator remembers: inventory, locations, offers, orders, fulfillments, refunds,
and the EC key pair it signs notifications with. One instance per sandbox context."""

from __future__ import annotations

import threading
import uuid
from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal
from random import Random
from typing import Any

from cryptography.hazmat.primitives.asymmetric import ec

from sandbox.ebay_common import iso, now

# Ship-to addresses by country: (full name, line1, city, state, postal code, phone).
BUYER_ADDRESSES: dict[str, list[tuple[str, str, str, str, str, str]]] = {
    "US": [
        ("Jamie Carter", "1208 SW Morrison St", "Portland", "OR", "97205", "5035550142"),
        ("Alex Rivera", "455 Market St", "San Francisco", "CA", "94105", "4155550199"),
    ],
    "GB": [("Olivia Hughes", "221 Baker Street", "London", "", "NW1 6XE", "02079460123")],
    "DE": [("Lukas Becker", "Friedrichstraße 43", "Berlin", "", "10117", "03012345678")],
    "JP": [("山田 太郎", "西新宿2-8-1", "新宿区", "東京都", "1630001", "09012345678")],
}


@dataclass
class EbayState:
    settings_currency: str
    rng: Random
    lock: threading.RLock = field(default_factory=threading.RLock)
    inventory: dict[str, dict[str, Any]] = field(default_factory=dict)
    locations: dict[str, dict[str, Any]] = field(default_factory=dict)
    offers: dict[str, dict[str, Any]] = field(default_factory=dict)
    orders: dict[str, dict[str, Any]] = field(default_factory=dict)
    cancel_requests: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    fulfillments: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    tokens_issued: dict[str, int] = field(default_factory=lambda: {"user": 0, "app": 0})
    signing_key: ec.EllipticCurvePrivateKey = field(
        default_factory=lambda: ec.generate_private_key(ec.SECP256R1())
    )
    key_id: str = field(default_factory=lambda: uuid.uuid4().hex)
    # The seller's business policies by type (FULFILLMENT, PAYMENT, RETURN) and the leaf
    # categories the marketplace knows: account and site configuration, kept across resets.
    policies: dict[str, set[str]] = field(default_factory=dict)
    categories: dict[str, str] = field(default_factory=dict)

    def reset(self) -> None:
        with self.lock:
            for table in (
                self.inventory,
                self.locations,
                self.offers,
                self.orders,
                self.cancel_requests,
                self.fulfillments,
            ):
                table.clear()
            self.tokens_issued = {"user": 0, "app": 0}

    # Identifiers shaped like eBay's -----------------------------------------------------------

    def digits(self, n: int) -> str:
        rest = "".join(str(self.rng.randint(0, 9)) for _ in range(n - 1))
        return str(self.rng.randint(1, 9)) + rest

    def new_offer_id(self) -> str:
        return self._unique(lambda: self.digits(10), self.offers)

    def new_listing_id(self) -> str:
        return self.digits(12)

    def new_order_id(self) -> str:
        return self._unique(
            lambda: f"{self.digits(2)}-{self.digits(5)}-{self.digits(5)}", self.orders
        )

    @staticmethod
    def _unique(make: Any, taken: dict[str, Any]) -> str:
        while (value := make()) in taken:
            pass
        return value

    # Orders ----------------------------------------------------------------------------------

    def make_order(self, spec: dict[str, Any], default_domestic: bool) -> dict[str, Any]:
        """A buyer's paid order with eBay's structure, for the SKUs given (or a random one)."""
        domestic = bool(spec.get("domestic", default_domestic))
        country = (
            "JP" if domestic else (spec.get("country_code") or self.rng.choice(["US", "GB", "DE"]))
        )
        if country not in BUYER_ADDRESSES:
            raise ValueError(f"no sample addresses for country {country!r}")
        name, line1, city, state, postal, phone = self.rng.choice(BUYER_ADDRESSES[country])
        # a buyer who typed their own name or street (any script) overrides the sample
        name = spec.get("ship_to_name") or name
        line1 = spec.get("ship_to_line1") or line1
        username = spec.get("buyer_username") or f"buyer_{self.digits(6)}"
        email = spec.get("buyer_email") or f"{username}@buyers.example"
        currency = spec.get("currency") or self.settings_currency
        created = now()
        line_items = [self._line_item(line, currency) for line in self._line_specs(spec)]
        total = sum((Decimal(li["lineItemCost"]["value"]) for li in line_items), Decimal("0"))
        order_id = self.new_order_id()
        money = {"value": f"{total:.2f}", "currency": currency}
        order: dict[str, Any] = {
            "orderId": order_id,
            "legacyOrderId": f"{line_items[0]['legacyItemId']}-{self.digits(13)}",
            "creationDate": iso(created),
            "lastModifiedDate": iso(created),
            "orderFulfillmentStatus": "NOT_STARTED",
            "orderPaymentStatus": "PAID",
            "sellerId": "theworlddoor",
            "buyer": {
                "username": username,
                "buyerRegistrationAddress": {"fullName": name, "email": email},
            },
            "pricingSummary": {
                "priceSubtotal": dict(money),
                "deliveryCost": {"value": "0.00", "currency": currency},
                "total": dict(money),
            },
            "cancelStatus": {"cancelState": "NONE_REQUESTED", "cancelRequests": []},
            "paymentSummary": {
                "totalDueSeller": dict(money),
                "refunds": [],
                "payments": [
                    {
                        "paymentMethod": "EBAY",
                        "paymentReferenceId": self.digits(12),
                        "paymentDate": iso(created),
                        "amount": dict(money),
                        "paymentStatus": "PAID",
                    }
                ],
            },
            "fulfillmentStartInstructions": [
                {
                    "fulfillmentInstructionsType": "SHIP_TO",
                    "ebaySupportedFulfillment": False,
                    "minEstimatedDeliveryDate": iso(created + timedelta(days=5)),
                    "maxEstimatedDeliveryDate": iso(created + timedelta(days=12)),
                    "shippingStep": {
                        "shippingServiceCode": "ExpeditedShippingFromOutsideUS"
                        if country != "JP"
                        else "JP_StandardShipping",
                        "shipTo": {
                            "fullName": name,
                            "contactAddress": {
                                "addressLine1": line1,
                                "city": city,
                                "stateOrProvince": state,
                                "postalCode": postal,
                                "countryCode": country,
                            },
                            "primaryPhone": {"phoneNumber": phone},
                            "email": email,
                        },
                    },
                }
            ],
            "fulfillmentHrefs": [],
            "lineItems": line_items,
            "salesRecordReference": self.digits(4),
        }
        if spec.get("cancel_requested"):
            order["cancelStatus"]["cancelState"] = "CANCEL_REQUESTED"
            self.cancel_requests[order_id] = [
                {
                    "cancelRequestId": self.digits(10),
                    "cancelInitiator": "BUYER",
                    "cancelReason": "BUYER_ASKED_CANCEL",
                    "cancelRequestState": "REQUESTED",
                    "cancelRequestedDate": iso(created),
                }
            ]
        self.orders[order_id] = order
        return order

    def _line_specs(self, spec: dict[str, Any]) -> list[dict[str, Any]]:
        if spec.get("line_items"):
            return list(spec["line_items"])
        skus = spec.get("skus") or ([spec["sku"]] if spec.get("sku") else [])
        if not skus:
            listed = [o["sku"] for o in self.offers.values() if o["status"] == "PUBLISHED"]
            skus = [self.rng.choice(listed) if listed else f"SKU-{self.digits(6)}"]
        return [
            {"sku": s, "quantity": spec.get("quantity", 1), "price": spec.get("price")}
            for s in skus
        ]

    def _line_item(self, line: dict[str, Any], currency: str) -> dict[str, Any]:
        sku = str(line["sku"])
        quantity = int(line.get("quantity") or 1)
        if quantity < 1:
            raise ValueError("quantity must be at least 1")
        offer = next((o for o in self.offers.values() if o["sku"] == sku), None)
        listed_price = offer["pricingSummary"]["price"]["value"] if offer else None
        unit = Decimal(str(line.get("price") or listed_price or f"{self.rng.randint(20, 400)}.00"))
        title = (
            self.inventory.get(sku, {}).get("product", {}).get("title")
            or f"Japanese vintage item {sku}"
        )
        if offer is not None:
            self._sell(offer, quantity)
        listing_id = (offer or {}).get("listing", {}).get("listingId") or self.new_listing_id()
        cost = {"value": f"{unit * quantity:.2f}", "currency": currency}
        return {
            "lineItemId": self.digits(14),
            "legacyItemId": listing_id,
            "legacyVariationId": "",
            "sku": sku,
            "title": title,
            "quantity": quantity,
            "lineItemCost": cost,
            "total": dict(cost),
            "soldFormat": "FIXED_PRICE",
            "listingMarketplaceId": "EBAY_US",
            "purchaseMarketplaceId": "EBAY_US",
            "lineItemFulfillmentStatus": "NOT_STARTED",
            "itemLocation": {"location": "Tokyo", "countryCode": "JP", "postalCode": "1000001"},
            "deliveryCost": {"shippingCost": {"value": "0.00", "currency": currency}},
            "refunds": [],
        }

    def _sell(self, offer: dict[str, Any], quantity: int) -> None:
        """A sale takes the quantity off the offer and the item's ship-to availability, and
        counts it on the listing, as eBay does (never below zero)."""
        available = int(offer.get("availableQuantity") or 0)
        offer["availableQuantity"] = max(0, available - quantity)
        if "listing" in offer:
            offer["listing"]["soldQuantity"] = offer["listing"].get("soldQuantity", 0) + quantity
        item = self.inventory.get(offer["sku"])
        ship_to = ((item or {}).get("availability") or {}).get("shipToLocationAvailability")
        if ship_to is not None:
            ship_to["quantity"] = max(0, int(ship_to.get("quantity") or 0) - quantity)

    def touch(self, order: dict[str, Any]) -> None:
        order["lastModifiedDate"] = iso(now())

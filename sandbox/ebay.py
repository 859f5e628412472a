"""The eBay emulator, mounted at /ebay: OAuth token endpoint, Sell Inventory, Sell Fulfillment,
the Notification API's public key, and the sandbox controls (buyer orders, account deletion).

The APIs live in `ebay_inventory.py` and `ebay_fulfillment.py`; state in `ebay_state.py`.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import secrets
import uuid
from typing import Any
from urllib.parse import parse_qs

import httpx
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from litestar import Litestar, Request, Response, get, post
from litestar.exceptions import HTTPException
from litestar.params import FromPath, FromQuery, JSONBody

from sandbox.core import SandboxContext
from sandbox.ebay_common import (
    API_SCOPE,
    APP_TOKEN_PREFIX,
    USER_TOKEN_PREFIX,
    EbayError,
    ebay_error_handler,
    error_body,
    iso,
    now,
    token_guard,
)
from sandbox.ebay_fulfillment import fulfillment_router
from sandbox.ebay_inventory import inventory_router
from sandbox.ebay_state import EbayState
from sandbox.openai_listing import CATEGORIES

# Leaf categories of eBay US the emulator knows (those its listing-copy model suggests, and a
# few more); publishOffer refuses others with errorId 25005, as eBay refuses non-leaf ones.
LEAF_CATEGORIES = {
    **{cid: name for cid, name in CATEGORIES.values()},
    "262": "Collectibles > Asian Antiques > Other Asian Antiques",
    "20081": "Antiques > Other Antiques",
    "99": "Everything Else > Other",
}

TOKEN_TTL = 7200
CONSENTED_SCOPES = {API_SCOPE} | {
    f"{API_SCOPE}/{name}"
    for name in (
        "sell.inventory",
        "sell.inventory.readonly",
        "sell.fulfillment",
        "sell.fulfillment.readonly",
        "sell.finances",
        "sell.account",
        "sell.account.readonly",
        "sell.marketing",
        "sell.analytics.readonly",
        "commerce.identity.readonly",
    )
}

INVALID_SCOPE = (
    "The requested scope is invalid, unknown, malformed, or exceeds the scope granted to the client"
)

_STATES: dict[int, tuple[SandboxContext, EbayState]] = {}


def state_for(ctx: SandboxContext) -> EbayState:
    """One state per sandbox context, shared by the app and its control handlers."""
    entry = _STATES.get(id(ctx))
    if entry is None or entry[0] is not ctx:
        settings = ctx.settings
        state = EbayState(settings_currency=settings.ebay_currency, rng=ctx.rng)
        state.policies = {
            "FULFILLMENT": {settings.ebay_fulfillment_policy_id},
            "PAYMENT": {settings.ebay_payment_policy_id},
            "RETURN": {settings.ebay_return_policy_id},
        }
        state.categories = dict(LEAF_CATEGORIES)
        ctx.reset_hooks.append(state.reset)
        entry = _STATES[id(ctx)] = (ctx, state)
    return entry[1]


def _oauth_error(status: int, error: str, description: str) -> Response:
    return Response({"error": error, "error_description": description}, status_code=status)


def public_key_text(state: EbayState) -> str:
    """The key as eBay's getPublicKey returns it: PEM markers around base64 DER, no newlines."""
    der = state.signing_key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return f"-----BEGIN PUBLIC KEY-----{base64.b64encode(der).decode()}-----END PUBLIC KEY-----"


def sign_notification(state: EbayState, body: bytes) -> str:
    """X-EBAY-SIGNATURE: base64 JSON {alg, kid, signature, digest}, ECDSA over SHA1 of the body."""
    signature = state.signing_key.sign(body, ec.ECDSA(hashes.SHA1()))  # noqa: S303 - eBay's choice
    header = {
        "alg": "ECDSA",
        "kid": state.key_id,
        "signature": base64.b64encode(signature).decode(),
        "digest": "SHA1",
    }
    return base64.b64encode(json.dumps(header).encode()).decode()


def create_app(ctx: SandboxContext) -> Litestar:
    state = state_for(ctx)
    book = ctx.tokens["ebay"]
    settings = ctx.settings

    def client_ok(header: str | None) -> bool:
        if not header or not header.lower().startswith("basic "):
            return False
        try:
            client_id, _, secret = base64.b64decode(header[6:]).decode().partition(":")
        except (binascii.Error, UnicodeDecodeError):
            return False
        expected_secret = settings.ebay_client_secret.get_secret_value()
        return secrets.compare_digest(client_id, settings.ebay_client_id) and (
            secrets.compare_digest(secret, expected_secret)
        )

    @post("/identity/v1/oauth2/token", status_code=200)
    async def token(request: Request) -> Response:
        if not client_ok(request.headers.get("authorization")):
            return _oauth_error(401, "invalid_client", "client authentication failed")
        form = {k: v[0] for k, v in parse_qs((await request.body()).decode()).items()}
        grant = form.get("grant_type")
        scopes = set(form.get("scope", "").split())
        if grant == "refresh_token":
            expected = settings.ebay_oauth_refresh_token.get_secret_value()
            if not secrets.compare_digest(form.get("refresh_token", ""), expected):
                return _oauth_error(
                    400,
                    "invalid_grant",
                    "the provided authorization refresh "
                    "token is invalid or was issued to another client",
                )
            if not scopes <= CONSENTED_SCOPES:
                return _oauth_error(400, "invalid_scope", INVALID_SCOPE)
            # Without `scope`, eBay grants what the seller consented to.
            granted = frozenset(scopes or CONSENTED_SCOPES)
            with state.lock:
                state.tokens_issued["user"] += 1
            return Response(
                {
                    "access_token": book.issue(TOKEN_TTL, USER_TOKEN_PREFIX, granted),
                    "expires_in": TOKEN_TTL,
                    "token_type": "User Access Token",
                }
            )
        if grant == "client_credentials":
            if scopes != {API_SCOPE}:
                return _oauth_error(400, "invalid_scope", INVALID_SCOPE)
            with state.lock:
                state.tokens_issued["app"] += 1
            return Response(
                {
                    "access_token": book.issue(TOKEN_TTL, APP_TOKEN_PREFIX, frozenset(scopes)),
                    "expires_in": TOKEN_TTL,
                    "token_type": "Application Access Token",
                }
            )
        return _oauth_error(400, "unsupported_grant_type", f"grant type {grant!r} is not supported")

    @get(
        "/commerce/notification/v1/public_key/{key_id:str}",
        guards=[token_guard(book, APP_TOKEN_PREFIX)],
    )
    async def public_key(key_id: FromPath[str]) -> Response:
        if key_id != state.key_id:
            raise EbayError(
                404,
                195000,
                "Resource not found",
                domain="API_NOTIFICATION",
                long_message=f"No public key with id {key_id}.",
            )
        return Response({"algorithm": "ECDSA", "digest": "SHA1", "key": public_key_text(state)})

    user_guard = [token_guard(book, USER_TOKEN_PREFIX, check_scope=True)]
    return Litestar(
        [
            token,
            public_key,
            inventory_router(ctx, state, user_guard),
            fulfillment_router(ctx, state, user_guard),
        ],
        exception_handlers={Exception: ebay_error_handler},
        openapi_config=None,
    )


def control_handlers(ctx: SandboxContext) -> list[Any]:
    state = state_for(ctx)

    @post("/_sandbox/orders", status_code=201)
    async def create_orders(data: JSONBody[dict[str, Any]]) -> dict[str, Any]:
        """`{"orders": [{sku|skus|line_items, quantity, price, domestic, country_code,
        buyer_username, buyer_email, cancel_requested}], "count": n, "domestic": bool}`."""
        specs = list(data.get("orders") or [])
        count = data.get("count", 0 if specs else 1)
        if not isinstance(count, int) or count < 0 or not all(isinstance(s, dict) for s in specs):
            raise HTTPException(status_code=400, detail="orders must be objects, count >= 0")
        specs += [{} for _ in range(count)]
        try:
            with state.lock:
                created = [state.make_order(s, bool(data.get("domestic"))) for s in specs]
        except (ValueError, TypeError, ArithmeticError) as exc:
            raise HTTPException(status_code=400, detail=str(exc)) from exc
        return {"orders": created}

    @get("/_sandbox/ebay/state")
    async def show_state() -> dict[str, Any]:
        with state.lock:
            return {
                "tokens_issued": dict(state.tokens_issued),
                "inventory_items": len(state.inventory),
                "offers": len(state.offers),
                "orders": len(state.orders),
                "locations": sorted(state.locations),
                "policies": {k: sorted(v) for k, v in state.policies.items()},
                "categories": state.categories,
                "public_key_id": state.key_id,
            }

    @get("/_sandbox/ebay/listing")
    async def show_listing(sku: FromQuery[str]) -> dict[str, Any]:
        """What a buyer sees for a SKU: quantity on the inventory item, the offer's quantity,
        price and status (the demo compares them with our stock)."""
        with state.lock:
            item = state.inventory.get(sku) or {}
            offer = next((o for o in state.offers.values() if o.get("sku") == sku), None) or {}
            availability = (item.get("availability") or {}).get("shipToLocationAvailability") or {}
            price = (offer.get("pricingSummary") or {}).get("price") or {}
            return {
                "sku": sku,
                "exists": bool(item),
                "quantity": availability.get("quantity"),
                "offer_quantity": offer.get("availableQuantity"),
                "price": price.get("value"),
                "currency": price.get("currency"),
                "status": offer.get("status", ""),
            }

    @post("/_sandbox/ebay/account-deletion", status_code=200)
    async def account_deletion(data: JSONBody[dict[str, Any]]) -> dict[str, Any]:
        """Post a signed MARKETPLACE_ACCOUNT_DELETION notification to our endpoint."""
        username = data.get("username")
        if not username:
            raise HTTPException(status_code=400, detail="username is required")
        url = data.get("endpoint_url") or ctx.settings.ebay_deletion_endpoint_url
        moment = iso(now())
        notification = {
            "metadata": {
                "topic": "MARKETPLACE_ACCOUNT_DELETION",
                "schemaVersion": "1.0",
                "deprecated": False,
            },
            "notification": {
                "notificationId": str(uuid.uuid4()),
                "eventDate": moment,
                "publishDate": moment,
                "publishAttemptCount": 1,
                "data": {
                    "username": username,
                    "userId": data.get("user_id") or state.digits(10),
                    "eiasToken": base64.b64encode(username.encode()).decode(),
                },
            },
        }
        body = json.dumps(notification).encode()
        headers = {
            "Content-Type": "application/json",
            "X-EBAY-SIGNATURE": sign_notification(state, body),
        }
        try:
            async with httpx.AsyncClient(timeout=10) as client:
                answer = await client.post(url, content=body, headers=headers)
        except httpx.HTTPError as exc:
            raise HTTPException(status_code=502, detail=f"{url}: {exc!r}") from exc
        return {"status": answer.status_code, "notification": notification}

    @post("/_sandbox/ebay/account-deletion/challenge", status_code=200)
    async def challenge(data: JSONBody[dict[str, Any]]) -> dict[str, Any]:
        """eBay's endpoint check: GET ?challenge_code=..., expect sha256(code+token+url)."""
        url = data.get("endpoint_url") or ctx.settings.ebay_deletion_endpoint_url
        code = secrets.token_hex(16)
        token = ctx.settings.ebay_verification_token.get_secret_value()
        expected = hashlib.sha256((code + token + url).encode()).hexdigest()
        try:
            async with httpx.AsyncClient(timeout=10) as client:
                answer = await client.get(url, params={"challenge_code": code})
            got = answer.json().get("challengeResponse") if answer.status_code == 200 else None
        except (httpx.HTTPError, ValueError, AttributeError) as exc:
            raise HTTPException(status_code=502, detail=f"{url}: {exc!r}") from exc
        return {"status": answer.status_code, "valid": got == expected}

    return [create_orders, show_state, show_listing, account_deletion, challenge]


__all__ = ["control_handlers", "create_app", "error_body", "sign_notification", "state_for"]

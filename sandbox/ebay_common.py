"""Pieces every part of the eBay emulator shares: eBay's error shape, request parsing with
validation against eBay's own OpenAPI files, the bearer-token guard and time formats."""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime
from typing import Any

from litestar import Request, Response
from litestar.connection import ASGIConnection
from litestar.exceptions import HTTPException
from litestar.handlers import BaseRouteHandler

from sandbox.core import TokenBook
from sandbox.oas import SpecViolation, load_spec

INVENTORY_BASE = "/sell/inventory/v1"
FULFILLMENT_BASE = "/sell/fulfillment/v1"
USER_TOKEN_PREFIX = "v^1.1#i^1#u^"
APP_TOKEN_PREFIX = "v^1.1#i^1#a^"
CONDITIONS = frozenset(
    {
        "NEW",
        "LIKE_NEW",
        "NEW_OTHER",
        "NEW_WITH_DEFECTS",
        "CERTIFIED_REFURBISHED",
        "EXCELLENT_REFURBISHED",
        "VERY_GOOD_REFURBISHED",
        "GOOD_REFURBISHED",
        "SELLER_REFURBISHED",
        "USED_EXCELLENT",
        "USED_VERY_GOOD",
        "USED_GOOD",
        "USED_ACCEPTABLE",
        "FOR_PARTS_OR_NOT_WORKING",
        "PRE_OWNED_EXCELLENT",
        "PRE_OWNED_FAIR",
    }
)
"""eBay's ConditionEnum (Sell Inventory)."""


class EbayError(Exception):
    """An answer in eBay's error shape: `{"errors": [{errorId, domain, category, ...}]}`."""

    def __init__(
        self,
        status: int,
        error_id: int,
        message: str,
        *,
        long_message: str = "",
        domain: str = "API_INVENTORY",
        category: str = "REQUEST",
        parameters: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.error = error_entry(
            error_id,
            message,
            long_message=long_message,
            domain=domain,
            category=category,
            parameters=parameters,
        )


def error_entry(
    error_id: int,
    message: str,
    *,
    long_message: str = "",
    domain: str = "API_INVENTORY",
    category: str = "REQUEST",
    parameters: dict[str, str] | None = None,
) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "errorId": error_id,
        "domain": domain,
        "category": category,
        "message": message,
        "longMessage": long_message or message,
    }
    if parameters:
        entry["parameters"] = [{"name": k, "value": v} for k, v in parameters.items()]
    return entry


def error_body(status: int, message: str) -> dict[str, Any]:
    """eBay's generic errors (ACCESS domain), used for injected faults and routing errors."""
    if status == 401:
        entry = error_entry(1001, "Invalid access token", domain="OAuth")
    elif status == 429:
        entry = error_entry(2001, "Too many requests", long_message=message, domain="ACCESS")
    elif status >= 500:
        entry = error_entry(
            2003,
            "Internal error",
            domain="ACCESS",
            category="APPLICATION",
            long_message=f"{message}. Please wait a few minutes and try the call again.",
        )
    elif status == 404:
        entry = error_entry(2002, "Resource not found", long_message=message, domain="ACCESS")
    else:
        entry = error_entry(2004, "Invalid request", long_message=message, domain="ACCESS")
    return {"errors": [entry]}


def ebay_error_handler(_: Request, exc: Exception) -> Response:
    if isinstance(exc, EbayError):
        return Response({"errors": [exc.error]}, status_code=exc.status)
    status = exc.status_code if isinstance(exc, HTTPException) else 500
    detail = exc.detail if isinstance(exc, HTTPException) else "Internal error"
    return Response(error_body(status, str(detail)), status_code=status)


API_SCOPE = "https://api.ebay.com/oauth/api_scope"


def scopes_accepted(method: str, path: str) -> frozenset[str]:
    """The OAuth scopes eBay accepts for a Sell call, from the operation's `security` in
    eBay's OpenAPI file (reads take the `.readonly` scope too; issue_refund needs
    `sell.finances`)."""
    spec, base = (
        ("ebay-inventory", INVENTORY_BASE)
        if path.startswith(INVENTORY_BASE)
        else ("ebay-fulfillment", FULFILLMENT_BASE)
    )
    try:
        _template, op = load_spec(spec).operation(method, path.removeprefix(base))
    except KeyError:
        return frozenset({f"{API_SCOPE}/{spec.replace('ebay-', 'sell.')}"})
    return frozenset(s for rule in op.get("security", []) for s in rule.get("api_auth", []))


def token_guard(tokens: TokenBook, prefix: str, *, check_scope: bool = False):
    """Sell APIs take user tokens granted the call's scope (else 403, errorId 1100); the
    notification key endpoint takes application tokens."""

    def guard(connection: ASGIConnection, _: BaseRouteHandler) -> None:
        header = connection.headers.get("authorization")
        token = header.split(" ", 1)[1].strip() if header and " " in header else ""
        if not (tokens.valid(header) and token.startswith(prefix)):
            raise EbayError(
                401,
                1001,
                "Invalid access token",
                domain="OAuth",
                long_message="Invalid access token. Check the value of the Authorization "
                "HTTP request header.",
            )
        if check_scope and not (
            tokens.scopes(header)
            & scopes_accepted(connection.scope["method"], connection.scope["path"])  # type: ignore[typeddict-item]
        ):
            raise EbayError(
                403,
                1100,
                "Access denied",
                domain="ACCESS",
                long_message="Insufficient permissions to fulfill the request.",
            )

    return guard


async def json_body(request: Request, *, required: bool = True) -> Any:
    raw = await request.body()
    if not raw:
        if required:
            raise EbayError(
                400,
                2004,
                "Invalid request",
                domain="ACCESS",
                long_message="The request has no body.",
            )
        return None
    try:
        return json.loads(raw)
    except ValueError as exc:
        raise EbayError(
            400,
            2004,
            "Invalid request",
            domain="ACCESS",
            long_message=f"Unable to parse the JSON request body: {exc}",
        ) from exc


def spec_view(body: Any) -> Any:
    """eBay's OAS file types `product.aspects` as a string, yet the API takes (and eBay's docs
    show) an object of name -> [values]. Check that object here and hand the schema validator
    the string the file expects, so every other field is still checked against the file."""
    if not isinstance(body, dict):
        return body
    view = copy.deepcopy(body)
    products = [view.get("product")] + [
        r.get("product") for r in view.get("requests", []) if isinstance(r, dict)
    ]
    for product in products:
        if isinstance(product, dict) and "aspects" in product:
            aspects = product["aspects"]
            if not _valid_aspects(aspects):
                raise SpecViolation(["product/aspects: must map names to lists of strings"])
            product["aspects"] = json.dumps(aspects)
    return view


def _valid_aspects(aspects: Any) -> bool:
    return isinstance(aspects, dict) and all(
        isinstance(k, str) and isinstance(v, list) and all(isinstance(x, str) for x in v)
        for k, v in aspects.items()
    )


def validate(
    spec_name: str, method: str, path: str, body: Any, *, error_id: int, domain: str
) -> None:
    """Refuse what the vendor's schema refuses, with eBay's 'invalid value' error."""
    try:
        load_spec(spec_name).validate_request(method, path, spec_view(body))
    except SpecViolation as exc:
        first = exc.errors[0]
        field = first.split(":", 1)[0]
        raise EbayError(
            400,
            error_id,
            f"Invalid value for {field}.",
            long_message="; ".join(exc.errors[:5]),
            domain=domain,
            parameters={"fieldName": field},
        ) from exc


def require_content_language(request: Request) -> None:
    """eBay's inventory writes refuse a request without a supported Content-Language."""
    value = request.headers.get("content-language", "")
    if value.replace("_", "-").lower() not in {"en-us", "en-gb", "en-au", "de-de", "en-ca"}:
        raise EbayError(
            400,
            25709,
            "Invalid value for header Content-Language.",
            long_message=f"Content-Language {value!r} is missing or not supported.",
            parameters={"fieldName": "Content-Language"},
        )


def now() -> datetime:
    return datetime.now(UTC)


def iso(moment: datetime) -> str:
    """eBay's timestamp format: UTC with milliseconds and a Z."""
    moment = moment.astimezone(UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def parse_iso(value: str) -> datetime:
    parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    if parsed.tzinfo is None:
        raise ValueError(f"{value} has no time zone")
    return parsed.astimezone(UTC)

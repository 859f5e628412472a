"""eBay Sell Fulfillment API emulator: getOrders (filter + paging), getOrder, shipping
fulfillments and refunds, with eBay's error ids from its OAS file."""

from __future__ import annotations

import copy
import re
from datetime import datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any
from urllib.parse import urlencode

from litestar import Request, Response, Router, get, post
from litestar.params import FromPath

from sandbox.core import SandboxContext
from sandbox.ebay_common import (
    FULFILLMENT_BASE,
    EbayError,
    iso,
    json_body,
    now,
    parse_iso,
    validate,
)
from sandbox.ebay_state import EbayState

FILTER_RE = re.compile(r"(\w+):(\[[^\]]*\]|\{[^}]*\})")
FILTER_NAMES = {"creationdate", "lastmodifieddate", "orderfulfillmentstatus"}
REFUND_REASONS = {
    "BUYER_CANCEL",
    "BUYER_RETURN",
    "ITEM_NOT_RECEIVED",
    "SELLER_WRONG_ITEM",
    "SELLER_OUT_OF_STOCK",
    "SELLER_FOUND_CHEAPER_PRICE",
    "OTHER",
}
MONEY_RE = re.compile(r"^\d+(\.\d{1,2})?$")
DOMAIN = "API_FULFILLMENT"


def _error(status: int, error_id: int, message: str, **params: str) -> EbayError:
    return EbayError(status, error_id, message, domain=DOMAIN, parameters=params or None)


DEFAULT_WINDOW = timedelta(days=90)  # no date filter: orders created in the last 90 days
LONGEST_WINDOW = timedelta(days=730)  # orders go back two years; windows are as long at most


def _check_window(start: datetime, end: datetime | None) -> None:
    moment = now()
    if start > moment or (end is not None and end > moment):
        raise _error(400, 30850, "Start and end dates can't be in the future")
    if (end or moment) - start > LONGEST_WINDOW or moment - start > LONGEST_WINDOW:
        raise _error(
            400,
            30830,
            "Time range between start date and end date must be within '2' years.",
            allowedTime="2",
        )


def _parse_filter(raw: str) -> tuple[str | None, datetime | None, datetime | None, set[str]]:
    """`lastmodifieddate:[a..b],orderfulfillmentstatus:{A|B}` -> (field, start, end, states).
    Without a date filter eBay returns the orders created in the last 90 days."""
    date_field, start, end, statuses = None, None, None, set()
    consumed = FILTER_RE.sub("", raw).replace(",", "").strip()
    if consumed:
        raise _error(400, 30700, f"Invalid filter name: {consumed}", fieldname=consumed)
    dates: dict[str, tuple[datetime | None, datetime | None]] = {}
    for name, value in FILTER_RE.findall(raw):
        if name not in FILTER_NAMES:
            raise _error(400, 30700, f"Invalid filter name: {name}", fieldname=name)
        if name == "orderfulfillmentstatus":
            statuses = set(value.strip("{}").split("|"))
            continue
        low, sep, high = value.strip("[]").partition("..")
        if not sep or not low:
            raise _error(400, 30820, "Start date is missing")
        try:
            dates[name] = (parse_iso(low), parse_iso(high) if high else None)
        except ValueError as exc:
            raise _error(400, 30810, "Invalid date format") from exc
        low_dt, high_dt = dates[name]
        if high_dt is not None and low_dt is not None and low_dt > high_dt:
            raise _error(400, 30840, "Start date should be before end date")
    # eBay: when both date filters are given, creationdate wins.
    for name in ("creationdate", "lastmodifieddate"):
        if name in dates:
            date_field = name
            start, end = dates[name]
            break
    if start is None:
        return "creationdate", now() - DEFAULT_WINDOW, None, statuses
    _check_window(start, end)
    return date_field, start, end, statuses


def _int_param(
    request: Request, name: str, default: int, low: int, high: int, error_id: int
) -> int:
    raw = request.query_params.get(name)
    try:
        value = int(raw) if raw is not None else default
    except ValueError:
        value = -1
    if not low <= value <= high:
        raise _error(400, error_id, f"Invalid {name}: {raw}")
    return value


def _public(order: dict[str, Any]) -> dict[str, Any]:
    """getOrders leaves cancelRequests empty; getOrder carries them (as eBay does)."""
    return copy.deepcopy(order)


def fulfillment_router(ctx: SandboxContext, state: EbayState, guards: list[Any]) -> Router:
    ledger = ctx.ledger

    def order_or_404(order_id: str) -> dict[str, Any]:
        order = state.orders.get(order_id)
        if order is None:
            raise _error(404, 32100, f"Invalid order ID: {order_id}", orderId=order_id)
        return order

    def base_url(request: Request) -> str:
        return f"{request.url.scheme}://{request.url.netloc}{request.scope.get('root_path', '')}"

    @get("/order")
    async def get_orders(request: Request) -> Response:
        limit = _int_param(request, "limit", 50, 1, 200, 31100)
        offset = _int_param(request, "offset", 0, 0, 10**9, 31000)
        raw_filter = request.query_params.get("filter", "")
        order_ids = request.query_params.get("orderIds")
        with state.lock:
            if order_ids:
                ids = order_ids.split(",")
                if len(ids) > 50:
                    raise _error(400, 30900, "Exceeded maximum number of order IDs")
                found = [state.orders[i] for i in ids if i in state.orders]
            else:
                field, start, end, statuses = _parse_filter(raw_filter)
                key = {"creationdate": "creationDate"}.get(field or "", "lastModifiedDate")
                found = [
                    o
                    for o in state.orders.values()
                    if (start is None or parse_iso(o[key]) >= start)
                    and (end is None or parse_iso(o[key]) <= end)
                    and (not statuses or o["orderFulfillmentStatus"] in statuses)
                ]
            found.sort(key=lambda o: (o["creationDate"], o["orderId"]), reverse=True)
            page = [_public(o) for o in found[offset : offset + limit]]
        query = {k: v for k, v in (("filter", raw_filter), ("orderIds", order_ids)) if v}
        href = f"{base_url(request)}{FULFILLMENT_BASE}/order?"
        body: dict[str, Any] = {
            "href": href + urlencode({**query, "limit": limit, "offset": offset}),
            "total": len(found),
            "limit": limit,
            "offset": offset,
            "orders": page,
            "warnings": [],
        }
        if offset + limit < len(found):
            body["next"] = href + urlencode({**query, "limit": limit, "offset": offset + limit})
        if offset > 0:
            body["prev"] = href + urlencode(
                {**query, "limit": limit, "offset": max(0, offset - limit)}
            )
        return Response(body)

    @get("/order/{order_id:str}")
    async def get_order(order_id: FromPath[str]) -> Response:
        with state.lock:
            order = _public(order_or_404(order_id))
            order["cancelStatus"]["cancelRequests"] = copy.deepcopy(
                state.cancel_requests.get(order_id, [])
            )
        return Response(order)

    @get("/order/{order_id:str}/shipping_fulfillment")
    async def list_fulfillments(order_id: FromPath[str]) -> Response:
        with state.lock:
            if order_id not in state.orders:
                raise _error(400, 32100, f"Invalid order ID: {order_id}", orderId=order_id)
            found = copy.deepcopy(state.fulfillments.get(order_id, []))
        return Response({"fulfillments": found, "total": len(found), "warnings": []})

    @get("/order/{order_id:str}/shipping_fulfillment/{fulfillment_id:str}")
    async def get_fulfillment(order_id: FromPath[str], fulfillment_id: FromPath[str]) -> Response:
        for item in state.fulfillments.get(order_id, []):
            if item["fulfillmentId"] == fulfillment_id:
                return Response(item)
        raise _error(404, 32100, f"Invalid fulfillment ID: {fulfillment_id}")

    @post("/order/{order_id:str}/shipping_fulfillment")
    async def create_fulfillment(request: Request, order_id: FromPath[str]) -> Response:
        body = await json_body(request)
        validate(
            "ebay-fulfillment",
            "POST",
            f"/order/{order_id}/shipping_fulfillment",
            body,
            error_id=32600,
            domain=DOMAIN,
        )
        with state.lock:
            order = state.orders.get(order_id)
            if order is None:
                raise _error(400, 32100, f"Invalid Order Id: {order_id}", orderId=order_id)
            lines = _check_fulfillment(order, body)
            fulfillment_id = state.digits(20)
            record = {
                "fulfillmentId": fulfillment_id,
                "lineItems": body["lineItems"],
                "shipmentTrackingNumber": body["trackingNumber"],
                "shippingCarrierCode": body["shippingCarrierCode"],
                "shippedDate": body.get("shippedDate") or iso(now()),
            }
            state.fulfillments.setdefault(order_id, []).append(record)
            for line in lines:
                line["lineItemFulfillmentStatus"] = "FULFILLED"
            done = all(li["lineItemFulfillmentStatus"] == "FULFILLED" for li in order["lineItems"])
            order["orderFulfillmentStatus"] = "FULFILLED" if done else "IN_PROGRESS"
            location = (
                f"{base_url(request)}{FULFILLMENT_BASE}/order/{order_id}"
                f"/shipping_fulfillment/{fulfillment_id}"
            )
            order["fulfillmentHrefs"].append(location)
            state.touch(order)
            ledger.record("ebay", "fulfillment", order_id)
        return Response({}, status_code=201, headers={"Location": location})

    @post("/order/{order_id:str}/issue_refund", status_code=200)
    async def issue_refund(request: Request, order_id: FromPath[str]) -> Response:
        body = await json_body(request)
        validate(
            "ebay-fulfillment",
            "POST",
            f"/order/{order_id}/issue_refund",
            body,
            error_id=34902,
            domain=DOMAIN,
        )
        with state.lock:
            order = state.orders.get(order_id)
            if order is None:
                raise _error(404, 34913, "Can not find the order.", orderId=order_id)
            amount = _check_refund(order, body)
            refund_id = state.digits(13)
            moment = iso(now())
            money = {
                "value": f"{amount:.2f}",
                "currency": order["pricingSummary"]["total"]["currency"],
            }
            order["paymentSummary"]["refunds"].append(
                {
                    "refundId": refund_id,
                    "refundStatus": "REFUNDED",
                    "amount": money,
                    "refundDate": moment,
                    "refundReferenceId": state.digits(12),
                }
            )
            refunds = order["paymentSummary"]["refunds"]
            refunded = sum(Decimal(r["amount"]["value"]) for r in refunds)
            total = Decimal(order["pricingSummary"]["total"]["value"])
            order["orderPaymentStatus"] = (
                "FULLY_REFUNDED" if refunded >= total else ("PARTIALLY_REFUNDED")
            )
            state.touch(order)
            ledger.record("ebay", "refund", order_id)
        return Response({"refundId": refund_id, "refundStatus": "PENDING"})

    return Router(
        FULFILLMENT_BASE,
        route_handlers=[
            get_orders,
            get_order,
            list_fulfillments,
            get_fulfillment,
            create_fulfillment,
            issue_refund,
        ],
        guards=guards,
    )


def _check_fulfillment(order: dict[str, Any], body: dict[str, Any]) -> list[dict[str, Any]]:
    requested = body.get("lineItems") or []
    if not requested:
        raise _error(400, 32600, "Invalid input data", fieldName="lineItems")
    ids = [r.get("lineItemId") for r in requested]
    if len(set(ids)) != len(ids):
        raise _error(400, 32210, "Duplicate line item in the request")
    by_id = {li["lineItemId"]: li for li in order["lineItems"]}
    lines = []
    for ref in requested:
        line = by_id.get(ref.get("lineItemId"))
        quantity = int(ref.get("quantity") or 1)
        if line is None or not 1 <= quantity <= line["quantity"]:
            raise _error(
                400,
                32200,
                f"Invalid line item id: {ref.get('lineItemId')}",
                lineItemId=str(ref.get("lineItemId")),
            )
        lines.append(line)
    if not body.get("trackingNumber") or not body.get("shippingCarrierCode"):
        raise _error(400, 32300, "Invalid shipment tracking number or carrier")
    if not re.fullmatch(r"[A-Za-z0-9]+", body["trackingNumber"]):
        raise _error(400, 32300, "Invalid shipment tracking number or carrier")
    if body.get("shippedDate"):
        try:
            parse_iso(body["shippedDate"])
        except ValueError as exc:
            raise _error(400, 32500, "Invalid shipped date") from exc
    return lines


def _check_refund(order: dict[str, Any], body: dict[str, Any]) -> Decimal:
    if not body:
        raise _error(400, 34902, "Request can't be empty.")
    if body.get("reasonForRefund") not in REFUND_REASONS:
        raise _error(400, 34903, "The refund reason must be specified.")
    if len(body.get("comment") or "") > 1000:
        raise _error(400, 34921, "The comment exceeds the length limit.")
    currency = order["pricingSummary"]["total"]["currency"]
    amounts = []
    if body.get("orderLevelRefundAmount"):
        amounts.append(body["orderLevelRefundAmount"])
    for item in body.get("refundItems") or []:
        if not any(li["lineItemId"] == item.get("lineItemId") for li in order["lineItems"]):
            raise _error(400, 34914, "Can't find the item in the order.")
        amounts.append(item.get("refundAmount") or {})
    if not amounts:
        raise _error(400, 34905, "Either orderLevelRefundAmount or refundItems must be specified.")
    total = Decimal("0")
    for money in amounts:
        if not money.get("value"):
            raise _error(400, 34906, "The amount value must be specified.")
        if not money.get("currency"):
            raise _error(400, 34908, "The amount currency must be specified.")
        if money["currency"] != currency:
            raise _error(400, 34909, "The amount currency isn't correct.")
        try:
            value = Decimal(money["value"])
        except InvalidOperation:
            value = Decimal("-1")
        if not MONEY_RE.match(money["value"]) or value <= 0:
            raise _error(400, 34907, "The amount value must be positive and within two decimals.")
        total += value
    refunded = sum(Decimal(r["amount"]["value"]) for r in order["paymentSummary"]["refunds"])
    if refunded + total > Decimal(order["pricingSummary"]["total"]["value"]):
        raise _error(400, 34915, "The refund amount exceeds order amount.")
    return total

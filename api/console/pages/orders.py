"""Orders: the list with filters, one order with its timeline and documents, cancel with a
reason, the failed-inspection decision, and the "sync now" button."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from datetime import date, datetime, time
from typing import Any

from litestar import get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, Parameter
from litestar.response import Redirect, Template
from litestar.status_codes import HTTP_202_ACCEPTED

from api.console.forms import FormInvalid, parse
from api.console.i18n import JST, gettext, language_of
from api.console.labels import N_
from api.console.pages.common import (
    NOT_ANSWERED_YET,
    PAGE_SIZE,
    AnyRequest,
    act,
    choice,
    submit,
)
from api.console.render import page
from api.pagination import Page
from api.queries.orders import order_filters, order_page
from api.routes import operations as api_operations
from api.routes import orders as api_orders
from api.security.guards import ANY_ROLE, STAFF
from api.temporal import TemporalGateway
from config import Settings
from domain.stock import RefundTiming, UnitDisposition
from models import Condition, OrderStatus
from workflows.contracts.fulfillment import FailedInspectionDecision

TIMELINE = [
    "recording",
    "confirming",
    "inspecting",
    "labelling",
    "uploading_tracking",
    "notifying",
    "in_transit",
    "completed",
]

OFF_THE_LINE = {"awaiting_decision": "inspecting", "contacting_buyer": "inspecting"}
"""Steps beside the main line (a failed inspection waiting on staff), shown in the timeline at
the main step they wait in, under their own name."""

REFUND_WORDS = {
    RefundTiming.now: N_("Refund now and apologise"),
    RefundTiming.contact_buyer: N_("Contact the buyer first, refund later"),
}
UNIT_WORDS = {
    UnitDisposition.restock: N_("Back to stock"),
    UnitDisposition.write_off: N_("Write off"),
    UnitDisposition.relist: N_("Relist under another condition"),
}


async def _order_page(
    request: AnyRequest,
    order_id: uuid.UUID,
    settings: Settings,
    temporal: TemporalGateway,
    *,
    errors: dict[str, str] | None = None,
    values: dict[str, Any] | None = None,
    status_code: int = 200,
) -> Template:
    order = await api_orders.get_order.fn(
        request=request, order_id=order_id, settings=settings, temporal=temporal
    )
    step = order.live.step if order.live else ""
    on_line = OFF_THE_LINE.get(step, step)
    reached = TIMELINE.index(on_line) if on_line in TIMELINE else -1
    return page(
        request,
        "order",
        order=order,
        timeline=[step if index == reached else name for index, name in enumerate(TIMELINE)],
        reached=reached,
        errors=errors or {},
        values=values or {},
        refunds=list(RefundTiming),
        units=list(UnitDisposition),
        refund_words=REFUND_WORDS,
        unit_words=UNIT_WORDS,
        conditions=list(Condition),
        status_code=status_code,
    )


@get("/orders", guards=[ANY_ROLE])
async def orders(
    request: AnyRequest,
    settings: NamedDependency[Settings],
    q: str = Parameter(default="", max_length=120),
    status: str = Parameter(default="", max_length=30),
    carrier: str = Parameter(default="", max_length=20),
    received_from: str = Parameter(default="", max_length=10),
    received_to: str = Parameter(default="", max_length=10),
    offset: int = Parameter(default=0, ge=0),
) -> Template:
    errors: dict[str, str] = {}
    start = jst_day_bound(received_from, "from", errors)
    end = jst_day_bound(received_to, "to", errors)
    filters = order_filters(
        choice(OrderStatus, status), q, carrier if carrier in CARRIERS else None, start, end
    )
    found = await order_page(settings, filters, limit=PAGE_SIZE, offset=offset, with_total=True)
    listed: Page[Any] = Page(
        items=found.rows, total=found.total or 0, limit=PAGE_SIZE, offset=offset
    )
    return page(
        request,
        "orders",
        page_=listed,
        q=q,
        status=status,
        statuses=list(OrderStatus),
        carrier=carrier,
        carriers=CARRIERS,
        received_from=received_from,
        received_to=received_to,
        errors=errors,
    )


CARRIERS = ("fedex", "yamato", "sagawa")


def jst_day_bound(day: str, side: str, errors: dict[str, str]) -> str | None:
    """A `YYYY-MM-DD` from a date field as the start ("from") or end ("to") of that day in Japan,
    in the API's ISO 8601 form; a malformed date is a field error and no filter."""
    if not day:
        return None
    try:
        parsed = date.fromisoformat(day)
    except ValueError:
        errors[f"received_{side}"] = N_("The date is not valid.")
        return None
    clock = time.min if side == "from" else time.max
    return datetime.combine(parsed, clock, tzinfo=JST).isoformat()


@get("/orders/{order_id:uuid}", guards=[ANY_ROLE])
async def order_detail(
    request: AnyRequest,
    order_id: FromPath[uuid.UUID],
    settings: NamedDependency[Settings],
    temporal: NamedDependency[TemporalGateway],
) -> Template:
    return await _order_page(request, order_id, settings, temporal)


def _again(
    request: AnyRequest, order_id: uuid.UUID, settings: Settings, temporal: TemporalGateway
) -> Callable[[dict[str, str], dict[str, str]], Awaitable[Template]]:
    async def again(values: dict[str, str], errors: dict[str, str]) -> Template:
        return await _order_page(
            request, order_id, settings, temporal, errors=errors, values=values, status_code=400
        )

    return again


@post("/orders/{order_id:uuid}/cancel", guards=[STAFF])
async def order_cancel(
    request: AnyRequest,
    order_id: FromPath[uuid.UUID],
    settings: NamedDependency[Settings],
    temporal: NamedDependency[TemporalGateway],
) -> Template | Redirect:
    async def cancel(values: dict[str, str], lang: str) -> str:
        reason = {"reason": values.get("reason", "").strip()}
        sent = await api_orders.cancel_order.fn(
            request=request,
            order_id=order_id,
            data=parse(api_orders.CancelRequest, reason, lang),
            settings=settings,
            temporal=temporal,
        )
        if sent.status_code == HTTP_202_ACCEPTED:
            return NOT_ANSWERED_YET
        return N_("The order is being cancelled and refunded.")

    here = f"/console/orders/{order_id}"
    return await submit(request, here, cancel, _again(request, order_id, settings, temporal))


def decision_fields(values: dict[str, str], lang: str) -> dict[str, str]:
    """The decision form onto the contract: the condition goes with a relisted unit only; a
    relist without one is a field error here, in the page's language."""
    fields = {k: values.get(k, "") for k in ("refund", "unit", "condition", "note")}
    if fields["unit"] != UnitDisposition.relist:
        fields["condition"] = ""
    elif not fields["condition"]:
        raise FormInvalid(
            {"condition": gettext(lang, "Choose the condition the unit is relisted under.")}
        )
    return fields


@post("/orders/{order_id:uuid}/decision", guards=[STAFF])
async def order_decision(
    request: AnyRequest,
    order_id: FromPath[uuid.UUID],
    settings: NamedDependency[Settings],
    temporal: NamedDependency[TemporalGateway],
) -> Template | Redirect:
    """After a failed inspection: refund now or contact the buyer first, and the unit's fate."""

    async def decide(values: dict[str, str], lang: str) -> str:
        # the contract's own rules give the field errors; the route takes the caller as staff
        data = parse(FailedInspectionDecision, decision_fields(values, lang), lang)
        body = api_orders.InspectionDecisionRequest(
            **data.model_dump(exclude={"staff_id", "request_id"})
        )
        sent = await api_orders.decide_failed_inspection.fn(
            request=request, order_id=order_id, data=body, settings=settings, temporal=temporal
        )
        if sent.status_code == HTTP_202_ACCEPTED:
            return NOT_ANSWERED_YET
        if data.refund is RefundTiming.contact_buyer:
            return N_("Decision recorded: the buyer is contacted first.")
        return N_("Decision recorded: the refund and apology go out now.")

    here = f"/console/orders/{order_id}"
    return await submit(request, here, decide, _again(request, order_id, settings, temporal))


@post("/orders/sync", guards=[STAFF])
async def order_sync(
    request: AnyRequest,
    settings: NamedDependency[Settings],
    temporal: NamedDependency[TemporalGateway],
) -> Redirect:
    return await act(
        request,
        "/console/orders",
        lambda: api_operations.trigger_order_sync.fn(settings=settings, temporal=temporal),
        gettext(language_of(request), "Order sync started."),
    )


ROUTES = [orders, order_detail, order_cancel, order_decision, order_sync]

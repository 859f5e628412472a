"""Orders (read: admin, staff, inspector; cancel: admin, staff): paginated, filterable list from
the database; detail with the live fulfillment status (workflow query); cancel and the
failed-inspection decision (workflow signals, answered in the status query: api/workflows.py
`command`)."""

from __future__ import annotations

import uuid
from typing import Any

from litestar import Request, Response, Router, get, post
from litestar.di import NamedDependency
from litestar.enums import MediaType
from litestar.exceptions import ClientException, NotFoundException
from litestar.params import FromPath, FromQuery, JSONBody, Parameter
from litestar.security.jwt import Token
from litestar.serialization import encode_json
from litestar.status_codes import HTTP_200_OK
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from sqlmodel import Session, select

from api import workflows as wf
from api.change_feed import order_pages
from api.db import in_session
from api.fields import RequestBody
from api.pagination import (
    RANGE_ERRORS,
    CreatedFrom,
    CreatedTo,
    limit_param,
    offset_param,
    search_param,
)
from api.queries.orders import order_filters, order_page, summary_json
from api.security.guards import ANY_ROLE, STAFF
from api.security.tokens import AuthUser
from api.temporal import TemporalGateway
from config import Settings
from domain.catalog import Condition
from domain.stock import (
    DEFAULT_REFUND_TIMING,
    DEFAULT_UNIT_DISPOSITION,
    RefundTiming,
    UnitDisposition,
)
from models import Inspection, Order, OrderStatus, Role, Shipment
from models.types import UTCDateTime
from workflows.contracts.common import STATUS_QUERY
from workflows.contracts.fulfillment import (
    CANCEL_SIGNAL,
    FAILED_INSPECTION_DECISION_SIGNAL,
    CancelOrder,
    FailedInspectionDecision,
    FulfillmentStatus,
    cancel_refusal,
    decision_refusal,
    fulfillment_workflow_id,
)

AuthRequest = Request[AuthUser, Token, Any]


class OrderSummary(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    ebay_order_id: str
    buyer_username: str
    buyer_name: str
    status: str
    total_value: str
    total_currency: str
    ebay_created_at: UTCDateTime | None
    created_at: UTCDateTime
    updated_at: UTCDateTime


class ShipmentSummary(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    carrier: str
    service: str
    service_name: str = ""  # as the carrier names it (models.Shipment.service_name)
    tracking_number: str
    status: str


class InspectionSummary(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    result: str
    notes: str
    media_keys: list[str]
    completed_at: UTCDateTime | None


class OrderDetail(OrderSummary):
    buyer_email: str | None = Field(description="null for inspectors (not needed to inspect)")
    ship_to: dict[str, Any] | None = Field(
        description="the buyer's address and phone; null for inspectors"
    )
    line_items: list[dict[str, Any]]
    workflow_id: str
    cancel_reason: str
    completed_at: UTCDateTime | None
    shipments: list[ShipmentSummary] = Field(default_factory=list)
    inspection: InspectionSummary | None = None
    live: FulfillmentStatus | None = Field(
        default=None, description="The running workflow's status (null when unavailable)"
    )


class CancelRequest(RequestBody):
    reason: str = Field(min_length=1, max_length=500)


def load_order(session: Session, order_id: uuid.UUID) -> Order:
    order = session.get(Order, order_id)
    if order is None:
        raise NotFoundException(f"order {order_id} not found")
    return order


class OrderPage(BaseModel):
    """A page of the order list (api.queries.orders: no exact total unless asked)."""

    items: list[OrderSummary]
    limit: int
    offset: int
    has_more: bool = Field(description="another page follows")
    next_after: str | None = Field(description="`after` of the next page (null on the last)")
    total: int | None = Field(description="every match; null unless `total=true`")


@get(
    "/",
    summary="List orders (filter by status, carrier and date, search order id or buyer)",
    opt=RANGE_ERRORS,
)
async def list_orders(
    settings: NamedDependency[Settings],
    status: FromQuery[OrderStatus | None] = None,
    q: str | None = search_param(120, "eBay order id, buyer name or buyer username contains"),
    carrier: str | None = search_param(20, "a shipment of the order goes with this carrier"),
    created_from: CreatedFrom = None,
    created_to: CreatedTo = None,
    limit: int = limit_param(),
    offset: int = offset_param(),
    after: str | None = Parameter(
        default=None,
        max_length=200,
        pattern=r"^[A-Za-z0-9_-]*$",
        description="the `next_after` of the previous page",
    ),
    total: bool = Parameter(default=False, description="also count every match (slower)"),
) -> Response[OrderPage]:  # the shape, for the document
    filters = order_filters(status, q, carrier, created_from, created_to)

    async def read() -> bytes:
        found = await order_page(
            settings, filters, limit=limit, offset=offset, after=after, with_total=total
        )
        # Encoded straight from the rows (a pydantic model per row was most of the route's own
        # time); OrderPage documents the shape and a test keeps the two equal.
        return encode_json(
            {
                "items": [summary_json(row) for row in found.rows],
                "limit": limit,
                "offset": offset,
                "has_more": found.has_more,
                "next_after": found.next_after,
                "total": found.total,
            }
        )

    pages = order_pages(settings)  # None: every page is read
    page = await (
        read() if pages is None else pages.page((filters, limit, offset, after, total), read)
    )
    content: Any = page  # encoded already; the return type documents the shape
    return Response(content=content, media_type=MediaType.JSON)


@get("/{order_id:uuid}", summary="One order with shipments, inspection and live status")
async def get_order(
    request: AuthRequest,
    order_id: FromPath[uuid.UUID],
    settings: NamedDependency[Settings],
    temporal: NamedDependency[TemporalGateway],
) -> OrderDetail:
    def run(session: Session) -> OrderDetail:
        order = load_order(session, order_id)
        shipments = session.exec(select(Shipment).where(Shipment.order_id == order_id)).all()
        inspection = session.exec(select(Inspection).where(Inspection.order_id == order_id)).first()
        detail = OrderDetail.model_validate(order, from_attributes=True)
        detail.shipments = [ShipmentSummary.model_validate(s) for s in shipments]
        detail.inspection = InspectionSummary.model_validate(inspection) if inspection else None
        return detail

    detail = await in_session(settings, run)
    if request.user.role == Role.inspector:
        # Inspectors check the items against the photos; the buyer's contact details and
        # address are not theirs to see (README, roles).
        detail.buyer_email = None
        detail.ship_to = None
    workflow_id = detail.workflow_id or fulfillment_workflow_id(detail.ebay_order_id)
    detail.live = await wf.live_status(temporal, workflow_id, STATUS_QUERY, FulfillmentStatus)
    return detail


async def _command_fulfillment(
    settings: Settings,
    temporal: TemporalGateway,
    order_id: uuid.UUID,
    signal: str,
    arg: CancelOrder | FailedInspectionDecision,
) -> Response[Any]:
    """Send a staff command to the order's fulfillment workflow (404 for an unknown order): 200
    with its status when accepted, 422 with the reason when refused, 202 when not answered yet."""
    order = await in_session(settings, lambda s: load_order(s, order_id))
    client = await temporal.client()
    workflow_id = order.workflow_id or fulfillment_workflow_id(order.ebay_order_id)
    if isinstance(arg, CancelOrder):
        request = arg

        def refusal(status: FulfillmentStatus) -> str | None:
            return cancel_refusal(status, request)
    else:
        decision = arg

        def refusal(status: FulfillmentStatus) -> str | None:
            return decision_refusal(status, decision)

    answer = await wf.command(
        client, workflow_id, signal, arg, arg.request_id, FulfillmentStatus, refusal
    )
    return wf.command_response(answer)


@post(
    "/{order_id:uuid}/cancel",
    guards=[STAFF],
    status_code=HTTP_200_OK,
    responses=wf.command_responses(FulfillmentStatus),
    summary="Cancel before the label is bought (refunds through the workflow)",
)
async def cancel_order(
    request: AuthRequest,
    order_id: FromPath[uuid.UUID],
    data: JSONBody[CancelRequest],
    settings: NamedDependency[Settings],
    temporal: NamedDependency[TemporalGateway],
) -> Response[Any]:
    cancel = CancelOrder(
        reason=data.reason, staff_id=str(request.user.id), request_id=uuid.uuid4().hex
    )
    return await _command_fulfillment(settings, temporal, order_id, CANCEL_SIGNAL, cancel)


class InspectionDecisionRequest(RequestBody):
    """Staff's decision after a failed inspection (FailedInspectionDecision without the staff id,
    which is the caller). `condition` only with `unit: relist`, and then required (422)."""

    refund: RefundTiming = DEFAULT_REFUND_TIMING
    unit: UnitDisposition = DEFAULT_UNIT_DISPOSITION
    condition: Condition | None = None
    note: str = Field(default="", max_length=500)


@post(
    "/{order_id:uuid}/inspection-decision",
    guards=[STAFF],
    status_code=HTTP_200_OK,
    responses=wf.command_responses(FulfillmentStatus),
    summary="Decide after a failed inspection: refund now or contact the buyer; the unit's fate",
)
async def decide_failed_inspection(
    request: AuthRequest,
    order_id: FromPath[uuid.UUID],
    data: JSONBody[InspectionDecisionRequest],
    settings: NamedDependency[Settings],
    temporal: NamedDependency[TemporalGateway],
) -> Response[Any]:
    try:
        decision = FailedInspectionDecision(
            **data.model_dump(), staff_id=str(request.user.id), request_id=uuid.uuid4().hex
        )
    except ValidationError as exc:  # the contract's cross-field rule (relist <-> condition)
        messages = "; ".join(e["msg"].removeprefix("Value error, ") for e in exc.errors())
        raise ClientException(status_code=422, detail=messages) from exc
    return await _command_fulfillment(
        settings, temporal, order_id, FAILED_INSPECTION_DECISION_SIGNAL, decision
    )


def routers() -> list[Router]:
    return [
        Router(
            path="/api/orders",
            guards=[ANY_ROLE],
            tags=["orders"],
            route_handlers=[list_orders, get_order, cancel_order, decide_failed_inspection],
        )
    ]

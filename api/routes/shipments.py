"""Shipments (admin, staff): list and detail from the database with the live label status, rate
quotes and the staff choice, the label PDF / commercial invoice / carrier CSV by presigned GET,
tracking, and the
Yamato/Sagawa tracking number typed in by staff or read from the carrier's issued-history file
(LabelWorkflow updates)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Annotated, Any

import anyio.to_thread
from litestar import Request, Response, Router, get, post
from litestar.datastructures import UploadFile
from litestar.di import NamedDependency
from litestar.enums import RequestEncodingType
from litestar.exceptions import ClientException, NotFoundException
from litestar.params import Body, FromPath, FromQuery, JSONBody
from litestar.security.jwt import Token
from litestar.status_codes import HTTP_200_OK
from pydantic import BaseModel, ConfigDict, Field
from sqlmodel import Session, col, select

from activities.shipping import delivered_event, invoice_key, mark_order_delivered
from api import workflows as wf
from api.db import in_session
from api.downloads import Download, signed_download
from api.fields import RequestBody
from api.pagination import (
    RANGE_ERRORS,
    CreatedFrom,
    CreatedTo,
    Page,
    date_range,
    in_range,
    limit_param,
    offset_param,
    page_of,
    search_param,
)
from api.security.guards import STAFF
from api.security.tokens import AuthUser
from api.services import Services
from api.temporal import TemporalGateway
from config import Settings
from models import LabelPurchase, Order, Shipment, ShipmentStatus
from models.types import UTCDateTime, utcnow
from workflows.contracts.common import STATUS_QUERY
from workflows.contracts.fulfillment import TRACKING_REFRESH_SIGNAL, fulfillment_workflow_id
from workflows.contracts.label import (
    CHOOSE_RATE_SIGNAL,
    IMPORT_ISSUED_HISTORY_UPDATE,
    SUBMIT_TRACKING_UPDATE,
    ChooseRate,
    ImportIssuedHistory,
    LabelStatus,
    Quote,
    SubmitTracking,
    label_workflow_id,
    rate_choice_refusal,
)

AuthRequest = Request[AuthUser, Token, Any]
DOMESTIC = {"yamato", "sagawa"}  # carriers that issue the tracking number after hand-off
ISSUED_HISTORY_MAX_BYTES = 2 * 1024 * 1024


class ShipmentPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    order_id: uuid.UUID
    carrier: str
    service: str
    service_name: str = ""  # as the carrier names it (models.Shipment.service_name)
    tracking_number: str
    status: str
    cost_amount: str  # what the carrier charged for the label (the quote when it says nothing)
    cost_currency: str
    quoted_amount: str = ""  # the quote chosen before purchase
    quoted_currency: str = ""
    charge_flag: str = ""  # why the charge needs a look (above the quote past the margin)
    has_label: bool = False
    has_handoff: bool = False
    created_at: UTCDateTime
    updated_at: UTCDateTime


class ShipmentDetail(ShipmentPublic):
    ebay_order_id: str = ""
    quotes: list[dict[str, Any]] = Field(default_factory=list)
    events: list[dict[str, Any]] = Field(default_factory=list)
    live: LabelStatus | None = None


class Quotes(BaseModel):
    shipment_id: uuid.UUID
    quotes: list[Quote]
    source: str  # "workflow" (live) or "database"


class RateChoice(RequestBody):
    carrier: str = Field(min_length=1, max_length=20)
    service: str = Field(min_length=1, max_length=60)


class TrackingNumber(RequestBody):
    tracking_number: str = Field(min_length=6, max_length=40, pattern=r"^[0-9A-Za-z-]+$")


class Tracking(BaseModel):
    shipment_id: uuid.UUID
    carrier: str
    tracking_number: str
    status: str
    events: list[dict[str, Any]]


class Delivered(RequestBody):
    note: str = Field(min_length=1, max_length=500)


def _purchases(session: Session, ids: list[uuid.UUID]) -> dict[uuid.UUID, dict[str, Any]]:
    """The bought label's charge details by shipment id."""
    if not ids:
        return {}
    rows = session.exec(
        select(LabelPurchase).where(
            col(LabelPurchase.shipment_id).in_(ids), LabelPurchase.status == "bought"
        )
    ).all()
    return {row.shipment_id: row.detail for row in rows}


def _public(shipment: Shipment, detail: dict[str, Any] | None = None) -> dict[str, Any]:
    detail = detail or {}
    return {
        **ShipmentPublic.model_validate(shipment).model_dump(),
        "quoted_amount": str(detail.get("quoted_amount", "")),
        "quoted_currency": str(detail.get("quoted_currency", "")),
        "charge_flag": str(detail.get("charge_flag", "")),
        "has_label": bool(shipment.label_key),
        "has_handoff": bool(shipment.handoff_key),
    }


def _load(session: Session, shipment_id: uuid.UUID) -> Shipment:
    shipment = session.get(Shipment, shipment_id)
    if shipment is None:
        raise NotFoundException(f"shipment {shipment_id} not found")
    return shipment


@get("/", summary="List shipments (filter by status, carrier and date)", opt=RANGE_ERRORS)
async def list_shipments(
    settings: NamedDependency[Settings],
    status: FromQuery[ShipmentStatus | None] = None,
    carrier: str | None = search_param(20),
    created_from: CreatedFrom = None,
    created_to: CreatedTo = None,
    limit: int = limit_param(),
    offset: int = offset_param(),
) -> Page[ShipmentPublic]:
    start, end = date_range(created_from, created_to)

    def run(session: Session) -> Page[ShipmentPublic]:
        query = select(Shipment)
        if status is not None:
            query = query.where(Shipment.status == status)
        if carrier:
            query = query.where(Shipment.carrier == carrier)
        query = in_range(query, col(Shipment.created_at), start, end)
        rows, total = page_of(
            session,
            query,
            col(Shipment.created_at).desc(),
            col(Shipment.id),
            limit=limit,
            offset=offset,
        )
        details = _purchases(session, [s.id for s in rows])
        items = [ShipmentPublic(**_public(s, details.get(s.id))) for s in rows]
        return Page(items=items, total=total, limit=limit, offset=offset)

    return await in_session(settings, run)


@get("/{shipment_id:uuid}", summary="One shipment with quotes, events and live label status")
async def get_shipment(
    shipment_id: FromPath[uuid.UUID],
    settings: NamedDependency[Settings],
    temporal: NamedDependency[TemporalGateway],
) -> ShipmentDetail:
    def run(session: Session) -> ShipmentDetail:
        shipment = _load(session, shipment_id)
        order = session.get(Order, shipment.order_id)
        return ShipmentDetail(
            **_public(shipment, _purchases(session, [shipment.id]).get(shipment.id)),
            ebay_order_id=order.ebay_order_id if order else "",
            quotes=shipment.quotes,
            events=shipment.events,
        )

    body = await in_session(settings, run)
    body.live = await wf.live_status(
        temporal, label_workflow_id(str(shipment_id)), STATUS_QUERY, LabelStatus
    )
    return body


@get("/{shipment_id:uuid}/quotes", summary="Rate quotes across carriers")
async def quotes(
    shipment_id: FromPath[uuid.UUID],
    settings: NamedDependency[Settings],
    temporal: NamedDependency[TemporalGateway],
) -> Quotes:
    shipment = await in_session(settings, lambda s: _load(s, shipment_id))
    live = await wf.live_status(
        temporal, label_workflow_id(str(shipment_id)), STATUS_QUERY, LabelStatus
    )
    if live is not None and live.quotes:
        return Quotes(shipment_id=shipment_id, quotes=live.quotes, source="workflow")
    stored = [Quote.model_validate(q) for q in shipment.quotes if isinstance(q, dict)]
    return Quotes(shipment_id=shipment_id, quotes=stored, source="database")


@post(
    "/{shipment_id:uuid}/rate",
    status_code=HTTP_200_OK,
    responses=wf.command_responses(LabelStatus),
    summary="Choose a quoted rate (while the label's choice window is open)",
)
async def choose_rate(
    request: AuthRequest,
    shipment_id: FromPath[uuid.UUID],
    data: JSONBody[RateChoice],
    temporal: NamedDependency[TemporalGateway],
) -> Response[Any]:
    client = await temporal.client()
    choice = ChooseRate(
        carrier=data.carrier,
        service=data.service,
        staff_id=str(request.user.id),
        request_id=uuid.uuid4().hex,
    )
    answer = await wf.command(
        client,
        label_workflow_id(str(shipment_id)),
        CHOOSE_RATE_SIGNAL,
        choice,
        choice.request_id,
        LabelStatus,
        lambda status: rate_choice_refusal(status, choice),
    )
    return wf.command_response(answer)


async def _download(
    settings: Settings, services: Services, shipment_id: uuid.UUID, field: str
) -> Download:
    shipment = await in_session(settings, lambda s: _load(s, shipment_id))
    key = getattr(shipment, field)
    if not key:
        what = "label" if field == "label_key" else "carrier hand-off file"
        raise NotFoundException(f"no {what} for shipment {shipment_id} yet")
    return await signed_download(settings, services, key)


@get("/{shipment_id:uuid}/label", summary="Label PDF download (presigned GET)")
async def label(
    shipment_id: FromPath[uuid.UUID],
    settings: NamedDependency[Settings],
    services: NamedDependency[Services],
) -> Download:
    return await _download(settings, services, shipment_id, "label_key")


@get("/{shipment_id:uuid}/handoff", summary="Yamato/Sagawa import CSV download (presigned GET)")
async def handoff(
    shipment_id: FromPath[uuid.UUID],
    settings: NamedDependency[Settings],
    services: NamedDependency[Services],
) -> Download:
    return await _download(settings, services, shipment_id, "handoff_key")


@get(
    "/{shipment_id:uuid}/invoice",
    summary="Commercial invoice PDF download (presigned GET; international FedEx labels)",
)
async def invoice(
    shipment_id: FromPath[uuid.UUID],
    settings: NamedDependency[Settings],
    services: NamedDependency[Services],
) -> Download:
    shipment = await in_session(settings, lambda s: _load(s, shipment_id))
    key = invoice_key(shipment.carrier, str(shipment.id)) if shipment.carrier else ""
    if not key or not await anyio.to_thread.run_sync(lambda: services.storage.exists(key)):
        raise NotFoundException(f"no commercial invoice for shipment {shipment_id}")
    return await signed_download(settings, services, key)


@get("/{shipment_id:uuid}/tracking", summary="Tracking status and events")
async def tracking(
    shipment_id: FromPath[uuid.UUID], settings: NamedDependency[Settings]
) -> Tracking:
    shipment = await in_session(settings, lambda s: _load(s, shipment_id))
    return Tracking(
        shipment_id=shipment.id,
        carrier=shipment.carrier,
        tracking_number=shipment.tracking_number,
        status=str(shipment.status),
        events=shipment.events,
    )


async def _domestic(settings: Settings, shipment_id: uuid.UUID) -> Shipment:
    """The shipment, when its carrier issues tracking numbers later (Yamato, Sagawa)."""
    shipment = await in_session(settings, lambda s: _load(s, shipment_id))
    if shipment.carrier and shipment.carrier not in DOMESTIC:
        raise ClientException(
            status_code=409,
            detail=f"{shipment.carrier} issues tracking numbers itself; nothing to submit",
        )
    return shipment


@post(
    "/{shipment_id:uuid}/tracking",
    status_code=HTTP_200_OK,
    summary="Submit the Yamato/Sagawa tracking number issued for the label",
)
async def submit_tracking(
    request: AuthRequest,
    shipment_id: FromPath[uuid.UUID],
    data: JSONBody[TrackingNumber],
    settings: NamedDependency[Settings],
    temporal: NamedDependency[TemporalGateway],
) -> LabelStatus:
    await _domestic(settings, shipment_id)
    client = await temporal.client()
    submitted = SubmitTracking(tracking_number=data.tracking_number, staff_id=str(request.user.id))
    return await wf.update(
        client, label_workflow_id(str(shipment_id)), SUBMIT_TRACKING_UPDATE, submitted, LabelStatus
    )


@post(
    "/{shipment_id:uuid}/delivered",
    status_code=HTTP_200_OK,
    summary="Mark a shipment delivered (domestic parcels whose tracking page is not read)",
)
async def mark_delivered(
    request: AuthRequest,
    shipment_id: FromPath[uuid.UUID],
    data: JSONBody[Delivered],
    settings: NamedDependency[Settings],
    temporal: NamedDependency[TemporalGateway],
) -> Tracking:
    """Records the delivery with the staff's note as an event, then asks the order's workflow to
    check the tracking now (it completes the order)."""

    def run(session: Session) -> tuple[Tracking, str]:
        shipment = _load(session, shipment_id)
        if shipment.status in (
            ShipmentStatus.pending,
            ShipmentStatus.rated,
            ShipmentStatus.awaiting_tracking,
        ):
            raise ClientException(
                status_code=409, detail="no label with a tracking number for this shipment yet"
            )
        if shipment.status == ShipmentStatus.cancelled:
            raise ClientException(status_code=409, detail="the shipment was cancelled")
        if shipment.status != ShipmentStatus.delivered:
            note = f"marked delivered by {request.user.email}: {data.note.strip()}"
            shipment.events = [*shipment.events, delivered_event(note, "STAFF")]
            shipment.status = ShipmentStatus.delivered
            shipment.updated_at = utcnow()
            session.add(shipment)
            mark_order_delivered(session, shipment)
            session.commit()
        order = session.get(Order, shipment.order_id)
        return (
            Tracking(
                shipment_id=shipment.id,
                carrier=shipment.carrier,
                tracking_number=shipment.tracking_number,
                status=str(shipment.status),
                events=shipment.events,
            ),
            order.ebay_order_id if order else "",
        )

    body, ebay_order_id = await in_session(settings, run)
    if ebay_order_id:
        client = await temporal.client()
        await wf.signal_if_running(
            client, fulfillment_workflow_id(ebay_order_id), TRACKING_REFRESH_SIGNAL
        )
    return body


@dataclass
class IssuedHistoryUpload:
    file: UploadFile


@post(
    "/{shipment_id:uuid}/issued-history",
    status_code=HTTP_200_OK,
    summary="Upload the Yamato/Sagawa issued-history file (CSV) that holds the tracking number",
    description="multipart/form-data with `file`: the carrier's issued-history export "
    "(発行済データ, "
    f"at most {ISSUED_HISTORY_MAX_BYTES // 1024} KiB). It is stored under documents/ and the "
    "label workflow reads this shipment's tracking number from it; a file that is not the "
    "carrier's, or has no row for this shipment, is refused (422) and changes nothing.",
)
async def upload_issued_history(
    shipment_id: FromPath[uuid.UUID],
    data: Annotated[IssuedHistoryUpload, Body(media_type=RequestEncodingType.MULTI_PART)],
    settings: NamedDependency[Settings],
    services: NamedDependency[Services],
    temporal: NamedDependency[TemporalGateway],
) -> LabelStatus:
    shipment = await _domestic(settings, shipment_id)
    content = await data.file.read(ISSUED_HISTORY_MAX_BYTES + 1)
    if not content or len(content) > ISSUED_HISTORY_MAX_BYTES:
        raise ClientException(
            status_code=422,
            detail=f"the file must hold 1 byte to {ISSUED_HISTORY_MAX_BYTES // 1024} KiB",
        )
    carrier = shipment.carrier or "domestic"
    key = f"documents/{carrier}/issued-history-{shipment_id}-{uuid.uuid4().hex[:8]}.csv"
    await anyio.to_thread.run_sync(lambda: services.storage.put_bytes(key, content, "text/csv"))
    client = await temporal.client()
    return await wf.update(
        client,
        label_workflow_id(str(shipment_id)),
        IMPORT_ISSUED_HISTORY_UPDATE,
        ImportIssuedHistory(key=key),
        LabelStatus,
    )


def routers() -> list[Router]:
    return [
        Router(
            path="/api/shipments",
            guards=[STAFF],
            tags=["shipments"],
            route_handlers=[
                list_shipments,
                get_shipment,
                quotes,
                choose_rate,
                label,
                handoff,
                invoice,
                tracking,
                submit_tracking,
                mark_delivered,
                upload_issued_history,
            ],
        )
    ]

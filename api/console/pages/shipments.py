"""Shipments: the list, one shipment with its quotes and charge, the rate choice, the domestic
tracking number (typed in or read from the carrier's issued-history file), marking a domestic
parcel delivered, the tracking events and the documents (label PDF, invoice, hand-off CSV)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Annotated, Any

from litestar import get, post
from litestar.datastructures import UploadFile
from litestar.di import NamedDependency
from litestar.enums import RequestEncodingType
from litestar.exceptions import HTTPException, NotFoundException
from litestar.params import Body, FromPath, Parameter
from litestar.response import Redirect, Template
from litestar.status_codes import HTTP_202_ACCEPTED

from api.console.forms import FormInvalid, parse, problem
from api.console.i18n import gettext, language_of
from api.console.labels import N_
from api.console.pages.common import (
    NOT_ANSWERED_YET,
    PAGE_SIZE,
    AnyRequest,
    back,
    choice,
    form_values,
    submit,
)
from api.console.render import page
from api.routes import shipments as api_shipments
from api.security.guards import STAFF
from api.services import Services
from api.temporal import TemporalGateway
from config import Settings
from models import ShipmentStatus


def here(shipment_id: uuid.UUID) -> str:
    return f"/console/shipments/{shipment_id}"


async def _shipment_page(
    request: AnyRequest,
    shipment_id: uuid.UUID,
    settings: Settings,
    temporal: TemporalGateway,
    *,
    errors: dict[str, str] | None = None,
    values: dict[str, Any] | None = None,
    status_code: int = 200,
) -> Template:
    shipment = await api_shipments.get_shipment.fn(
        shipment_id=shipment_id, settings=settings, temporal=temporal
    )
    return page(
        request,
        "shipment",
        shipment=shipment,
        errors=errors or {},
        values=values or {},
        status_code=status_code,
    )


@get("/shipments", guards=[STAFF])
async def shipments(
    request: AnyRequest,
    settings: NamedDependency[Settings],
    status: str = Parameter(default="", max_length=30),
    carrier: str = Parameter(default="", max_length=20),
    offset: int = Parameter(default=0, ge=0),
) -> Template:
    found = await api_shipments.list_shipments.fn(
        settings=settings,
        status=choice(ShipmentStatus, status),
        carrier=carrier or None,
        limit=PAGE_SIZE,
        offset=offset,
    )
    return page(
        request,
        "shipments",
        page_=found,
        status=status,
        carrier=carrier,
        statuses=list(ShipmentStatus),
    )


@get("/shipments/{shipment_id:uuid}", guards=[STAFF])
async def shipment_detail(
    request: AnyRequest,
    shipment_id: FromPath[uuid.UUID],
    settings: NamedDependency[Settings],
    temporal: NamedDependency[TemporalGateway],
) -> Template:
    return await _shipment_page(request, shipment_id, settings, temporal)


@post("/shipments/{shipment_id:uuid}/rate", guards=[STAFF])
async def shipment_rate(
    request: AnyRequest,
    shipment_id: FromPath[uuid.UUID],
    temporal: NamedDependency[TemporalGateway],
) -> Redirect:
    lang = language_of(request)
    values = await form_values(request)
    carrier, _, service = values.get("rate", "").partition("|")
    try:
        data = parse(api_shipments.RateChoice, {"carrier": carrier, "service": service}, lang)
        sent = await api_shipments.choose_rate.fn(
            request=request, shipment_id=shipment_id, data=data, temporal=temporal
        )
    except FormInvalid:
        return back(request, here(shipment_id), gettext(lang, "Choose one of the quotes."), "error")
    except HTTPException as exc:
        return back(request, here(shipment_id), problem(exc, lang), "error")
    if sent.status_code == HTTP_202_ACCEPTED:
        return back(request, here(shipment_id), gettext(lang, NOT_ANSWERED_YET))
    return back(
        request, here(shipment_id), gettext(lang, "Rate chosen: the label is being bought.")
    )


@post("/shipments/{shipment_id:uuid}/tracking", guards=[STAFF])
async def shipment_tracking(
    request: AnyRequest,
    shipment_id: FromPath[uuid.UUID],
    settings: NamedDependency[Settings],
    temporal: NamedDependency[TemporalGateway],
) -> Template | Redirect:
    lang = language_of(request)
    values = await form_values(request)
    number = values.get("tracking_number", "").strip()
    try:
        data = parse(api_shipments.TrackingNumber, {"tracking_number": number}, lang)
        await api_shipments.submit_tracking.fn(
            request=request,
            shipment_id=shipment_id,
            data=data,
            settings=settings,
            temporal=temporal,
        )
    except FormInvalid as exc:
        errors = exc.errors
    except HTTPException as exc:
        errors = {"tracking_number": problem(exc, lang)}
    else:
        return back(request, here(shipment_id), gettext(lang, "Tracking number recorded."))
    return await _shipment_page(
        request, shipment_id, settings, temporal, errors=errors, values=values, status_code=400
    )


@post("/shipments/{shipment_id:uuid}/delivered", guards=[STAFF])
async def shipment_delivered(
    request: AnyRequest,
    shipment_id: FromPath[uuid.UUID],
    settings: NamedDependency[Settings],
    temporal: NamedDependency[TemporalGateway],
) -> Template | Redirect:
    async def deliver(values: dict[str, str], lang: str) -> str:
        note = {"note": values.get("note", "").strip()}
        await api_shipments.mark_delivered.fn(
            request=request,
            shipment_id=shipment_id,
            data=parse(api_shipments.Delivered, note, lang),
            settings=settings,
            temporal=temporal,
        )
        return N_("Marked delivered: the order completes.")

    async def again(values: dict[str, str], errors: dict[str, str]) -> Template:
        return await _shipment_page(
            request, shipment_id, settings, temporal, errors=errors, values=values, status_code=400
        )

    return await submit(request, here(shipment_id), deliver, again)


@dataclass
class HistoryForm:
    file: UploadFile | None = None


@post("/shipments/{shipment_id:uuid}/issued-history", guards=[STAFF])
async def shipment_issued_history(
    request: AnyRequest,
    shipment_id: FromPath[uuid.UUID],
    data: Annotated[HistoryForm, Body(media_type=RequestEncodingType.MULTI_PART)],
    settings: NamedDependency[Settings],
    services: NamedDependency[Services],
    temporal: NamedDependency[TemporalGateway],
) -> Template | Redirect:
    """The carrier's issued-history file, uploaded through the page: the API route stores it and
    the label workflow reads this shipment's tracking number from it."""
    lang = language_of(request)
    if data.file is None or not data.file.filename:
        errors = {"history": gettext(lang, "Choose the issued-history file first.")}
    else:
        try:
            await api_shipments.upload_issued_history.fn(
                shipment_id=shipment_id,
                data=api_shipments.IssuedHistoryUpload(file=data.file),
                settings=settings,
                services=services,
                temporal=temporal,
            )
        except HTTPException as exc:
            errors = {"history": problem(exc, lang)}
        else:
            message = gettext(lang, "Tracking number read from the issued-history file.")
            return back(request, here(shipment_id), message)
    return await _shipment_page(
        request, shipment_id, settings, temporal, errors=errors, status_code=400
    )


@get("/shipments/{shipment_id:uuid}/{document:str}", guards=[STAFF])
async def shipment_document(
    shipment_id: FromPath[uuid.UUID],
    document: FromPath[str],
    settings: NamedDependency[Settings],
    services: NamedDependency[Services],
) -> Redirect:
    """The label PDF, the commercial invoice or the carrier hand-off CSV, through the API's
    presigned download."""
    handler = {
        "label": api_shipments.label,
        "handoff": api_shipments.handoff,
        "invoice": api_shipments.invoice,
    }.get(document)
    if handler is None:
        raise NotFoundException(f"no document {document}")
    download = await handler.fn(shipment_id=shipment_id, settings=settings, services=services)
    return Redirect(download.url, status_code=302)


ROUTES = [
    shipments,
    shipment_detail,
    shipment_rate,
    shipment_tracking,
    shipment_delivered,
    shipment_issued_history,
    shipment_document,
]

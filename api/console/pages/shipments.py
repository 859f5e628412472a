"""Shipments: the list, one shipment with its quotes, the rate choice, the domestic tracking
number and the documents (label PDF, hand-off CSV)."""

from __future__ import annotations

import uuid
from typing import Any

from litestar import get, post
from litestar.di import NamedDependency
from litestar.exceptions import HTTPException, NotFoundException
from litestar.params import FromPath, Parameter
from litestar.response import Redirect, Template

from api.console.forms import FormInvalid, parse, problem
from api.console.i18n import gettext, language_of
from api.console.pages.common import PAGE_SIZE, AnyRequest, back, choice, form_values
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
        await api_shipments.choose_rate.fn(
            request=request, shipment_id=shipment_id, data=data, temporal=temporal
        )
    except FormInvalid:
        return back(request, here(shipment_id), gettext(lang, "Choose one of the quotes."), "error")
    except HTTPException as exc:
        return back(request, here(shipment_id), problem(exc, lang), "error")
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


@get("/shipments/{shipment_id:uuid}/{document:str}", guards=[STAFF])
async def shipment_document(
    shipment_id: FromPath[uuid.UUID],
    document: FromPath[str],
    settings: NamedDependency[Settings],
    services: NamedDependency[Services],
) -> Redirect:
    """The label PDF or the carrier hand-off CSV, through the API's presigned download."""
    handler = {"label": api_shipments.label, "handoff": api_shipments.handoff}.get(document)
    if handler is None:
        raise NotFoundException(f"no document {document}")
    download = await handler.fn(shipment_id=shipment_id, settings=settings, services=services)
    return Redirect(download.url, status_code=302)


ROUTES = [
    shipments,
    shipment_detail,
    shipment_rate,
    shipment_tracking,
    shipment_document,
]

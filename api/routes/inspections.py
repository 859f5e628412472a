"""Inspections (admin, inspector; staff may read the queue): the queue from the database, media
uploads by size-bounded presigned POST under inspection-videos/{order_id}/, the result submitted
through the InspectionWorkflow's validated update, and the media as short-lived downloads of the
exact S3 versions the verdict recorded."""

from __future__ import annotations

import uuid
from functools import partial
from typing import Any, Literal

import anyio.to_thread
from litestar import Request, Router, get, post
from litestar.di import NamedDependency
from litestar.exceptions import ClientException, NotFoundException
from litestar.params import FromPath, FromQuery, JSONBody
from litestar.security.jwt import Token
from litestar.status_codes import HTTP_200_OK
from pydantic import BaseModel, Field
from sqlmodel import Session, col, select

from adapters.s3 import IMAGE_TYPES, VIDEO_TYPES, check_key
from api import workflows as wf
from api.db import in_session
from api.fields import ChecklistKey, FileName, JsonBool, MediaKey, RequestBody
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
)
from api.security.guards import ANY_ROLE, INSPECTOR
from api.security.tokens import AuthUser
from api.services import Services
from api.temporal import TemporalGateway
from config import Settings
from domain.media import UNSAFE_FILE_CHARACTERS, inspection_media_prefix, is_inspection_media_key
from models import Inspection, InspectionResult, Order, OrderStatus
from models.types import UTCDateTime
from workflows.contracts.common import STATUS_QUERY
from workflows.contracts.inspection import (
    SUBMIT_RESULT_UPDATE,
    InspectionOutcome,
    InspectionStatus,
    InspectionSubmission,
    inspection_workflow_id,
)

AuthRequest = Request[AuthUser, Token, Any]
MEDIA_TYPES = {*VIDEO_TYPES, *IMAGE_TYPES}


class QueueItem(BaseModel):
    order_id: uuid.UUID
    ebay_order_id: str
    result: str
    items: list[str]
    escalations: int
    media_count: int
    created_at: UTCDateTime


class InspectionDetail(BaseModel):
    order_id: uuid.UUID
    ebay_order_id: str
    result: str
    checklist: list[dict[str, Any]]
    answers: dict[str, Any]
    media_keys: list[str]
    notes: str
    escalations: int
    created_at: UTCDateTime
    completed_at: UTCDateTime | None
    live: InspectionStatus | None = None


class MediaRequest(RequestBody):
    file_names: list[FileName] = Field(min_length=1, max_length=20)
    content_type: str = Field(default="video/mp4", max_length=100)


class MediaTarget(BaseModel):
    """A presigned POST (see the products' UploadTarget): `fields`, then the file as `file`."""

    file_name: str
    key: str
    url: str
    method: Literal["POST"] = "POST"
    fields: dict[str, str]
    content_type: str
    max_bytes: int
    expires_in: int


class MediaDownload(BaseModel):
    key: str
    version_id: str = Field(description="The S3 version recorded with the verdict ('' if none)")
    url: str
    expires_in: int


class ResultRequest(RequestBody):
    answers: dict[ChecklistKey, JsonBool] = Field(
        min_length=1,
        max_length=50,
        description=(
            "One entry per checklist item of this inspection (`checklist[].key` in "
            "GET /api/inspections/{order_id}): true when the item passes. Every key must be "
            "answered; the inspection passes only when every answer is true."
        ),
        json_schema_extra={
            "examples": [{"matches_photos": True, "condition_as_described": False}],
            # the OpenAPI type of a JSON object of booleans (Litestar would render the dict as
            # an array of pairs with string lengths)
            "type": "object",
            "items": None,
            "min_length": None,
            "max_length": None,
            "min_properties": 1,
            "max_properties": 50,
            "additional_properties": {"type": "boolean"},
        },
    )
    media_keys: list[MediaKey] = Field(min_length=1, max_length=50)
    notes: str = Field(default="", max_length=5000)


ORDER_CLOSED = (OrderStatus.cancelled, OrderStatus.refunded)
"""Orders that left the inspection queue: an inspector's verdict changes nothing for them."""


def _load(session: Session, order_id: uuid.UUID) -> tuple[Inspection, Order]:
    inspection = session.exec(select(Inspection).where(Inspection.order_id == order_id)).first()
    order = session.get(Order, order_id)
    if inspection is None or order is None:
        raise NotFoundException(f"no inspection for order {order_id}")
    return inspection, order


@get(
    "/", summary="Inspection queue (pending first, oldest first; filter by date)", opt=RANGE_ERRORS
)
async def queue(
    settings: NamedDependency[Settings],
    result: FromQuery[InspectionResult | None] = InspectionResult.pending,
    created_from: CreatedFrom = None,
    created_to: CreatedTo = None,
    limit: int = limit_param(),
    offset: int = offset_param(),
) -> Page[QueueItem]:
    start, end = date_range(created_from, created_to)

    def run(session: Session) -> Page[QueueItem]:
        query = select(Inspection, Order).join(Order, col(Order.id) == Inspection.order_id)
        if result is not None:
            query = query.where(Inspection.result == result)
        query = in_range(query, col(Inspection.created_at), start, end)
        if result is InspectionResult.pending:  # a cancelled order has nothing left to inspect
            query = query.where(col(Order.status).not_in(ORDER_CLOSED))
        rows, total = page_of(
            session, query, Inspection.created_at, Inspection.id, limit=limit, offset=offset
        )
        items = [
            QueueItem(
                order_id=order.id,
                ebay_order_id=order.ebay_order_id,
                result=str(inspection.result),
                items=[
                    str(line.get("title") or line.get("sku") or "") for line in order.line_items
                ],
                escalations=inspection.escalations,
                media_count=len(inspection.media_keys),
                created_at=inspection.created_at,
            )
            for inspection, order in rows
        ]
        return Page(items=items, total=total, limit=limit, offset=offset)

    return await in_session(settings, run)


@get("/{order_id:uuid}", summary="One inspection with its checklist and live status")
async def detail(
    order_id: FromPath[uuid.UUID],
    settings: NamedDependency[Settings],
    temporal: NamedDependency[TemporalGateway],
) -> InspectionDetail:
    def run(session: Session) -> InspectionDetail:
        inspection, order = _load(session, order_id)
        return InspectionDetail(
            order_id=order.id,
            ebay_order_id=order.ebay_order_id,
            result=str(inspection.result),
            checklist=inspection.checklist,
            answers=inspection.answers,
            media_keys=inspection.media_keys,
            notes=inspection.notes,
            escalations=inspection.escalations,
            created_at=inspection.created_at,
            completed_at=inspection.completed_at,
        )

    body = await in_session(settings, run)
    body.live = await wf.live_status(
        temporal, inspection_workflow_id(str(order_id)), STATUS_QUERY, InspectionStatus
    )
    return body


@post(
    "/{order_id:uuid}/media/upload-urls",
    guards=[INSPECTOR],
    status_code=HTTP_200_OK,
    summary="Presigned PUT URLs for inspection photos and videos",
)
async def media_upload_urls(
    order_id: FromPath[uuid.UUID],
    data: JSONBody[MediaRequest],
    settings: NamedDependency[Settings],
    services: NamedDependency[Services],
) -> list[MediaTarget]:
    if data.content_type not in MEDIA_TYPES:
        raise ClientException(
            status_code=422, detail=f"content_type must be one of {sorted(MEDIA_TYPES)}"
        )
    inspection, _ = await in_session(settings, lambda s: _load(s, order_id))
    if inspection.result != InspectionResult.pending:
        raise ClientException(
            status_code=409, detail=f"the inspection is {inspection.result}: evidence is closed"
        )
    targets = []
    for name in data.file_names:
        safe = UNSAFE_FILE_CHARACTERS.sub("_", name)[-80:].strip("._") or "media"
        key = f"{inspection_media_prefix(str(order_id))}{uuid.uuid4().hex[:12]}-{safe}"
        form = await anyio.to_thread.run_sync(
            partial(services.storage.presign_upload, key, data.content_type)
        )
        targets.append(
            MediaTarget(
                file_name=name,
                key=key,
                url=form.url,
                fields=form.fields,
                content_type=form.content_type,
                max_bytes=form.max_bytes,
                expires_in=form.expires_in,
            )
        )
    return targets


@get(
    "/{order_id:uuid}/media",
    summary="Inspection photos and videos as short-lived downloads (the recorded versions)",
)
async def media_downloads(
    order_id: FromPath[uuid.UUID],
    settings: NamedDependency[Settings],
    services: NamedDependency[Services],
) -> list[MediaDownload]:
    inspection, _ = await in_session(settings, lambda s: _load(s, order_id))
    seconds = settings.download_url_seconds

    def sign() -> list[MediaDownload]:
        return [
            MediaDownload(
                key=key,
                version_id=inspection.media_versions.get(key, ""),
                url=services.storage.presign_get(
                    key, expires=seconds, version_id=inspection.media_versions.get(key, "")
                ),
                expires_in=seconds,
            )
            for key in inspection.media_keys
        ]

    return await anyio.to_thread.run_sync(sign)


@post(
    "/{order_id:uuid}/result",
    guards=[INSPECTOR],
    status_code=HTTP_200_OK,
    summary="Submit the verdict (every checklist key answered; media must be uploaded)",
)
async def submit_result(
    request: AuthRequest,
    order_id: FromPath[uuid.UUID],
    data: JSONBody[ResultRequest],
    settings: NamedDependency[Settings],
    temporal: NamedDependency[TemporalGateway],
) -> InspectionOutcome:
    prefix = inspection_media_prefix(str(order_id))
    for key in data.media_keys:
        try:
            check_key(key)
        except ValueError as exc:
            raise ClientException(status_code=422, detail=str(exc)) from exc
        if not is_inspection_media_key(key, str(order_id)):
            raise ClientException(
                status_code=422,
                detail=f"media keys must be plain file paths under {prefix}: {key}",
            )
    _, order = await in_session(settings, lambda s: _load(s, order_id))
    if order.status in ORDER_CLOSED:
        raise ClientException(
            status_code=409,
            detail=f"order {order.ebay_order_id} was {order.status}: there is nothing to inspect"
            + (f" ({order.cancel_reason})" if order.cancel_reason else ""),
        )
    client = await temporal.client()
    submission = InspectionSubmission(
        answers=data.answers,
        media_keys=data.media_keys,
        inspector_id=str(request.user.id),
        notes=data.notes,
    )
    return await wf.update(
        client,
        inspection_workflow_id(str(order_id)),
        SUBMIT_RESULT_UPDATE,
        submission,
        InspectionOutcome,
    )


def routers() -> list[Router]:
    return [
        Router(
            path="/api/inspections",
            guards=[ANY_ROLE],
            tags=["inspections"],
            route_handlers=[queue, detail, media_upload_urls, media_downloads, submit_result],
        )
    ]

"""Inspection activities: the checklist, presigned upload URLs, checking a submission against S3
and the users table, and recording the verdict."""

from __future__ import annotations

from sqlmodel import col, select
from temporalio import activity
from temporalio.exceptions import ApplicationError

from activities.base import external_call
from activities.deps import Dependencies
from activities.orders import load_order, parse_uuid
from adapters.s3 import IMAGE_TYPES, VIDEO_TYPES
from domain.errors import VALIDATION_FAILED
from domain.media import UNSAFE_FILE_CHARACTERS, inspection_media_prefix
from models import Condition, Inspection, InspectionResult, OrderStatus, Product, User
from models.db import session_scope
from models.types import utcnow
from workflows.contracts.inspection import (
    CHECK_MEDIA_ACTIVITY,
    CHECK_MEDIA_VERSIONS_ACTIVITY,
    CREATE_INSPECTION_ACTIVITY,
    PRESIGN_UPLOADS_ACTIVITY,
    RECORD_ESCALATION_ACTIVITY,
    RECORD_INSPECTION_ACTIVITY,
    ChecklistItem,
    CheckMedia,
    CreateInspection,
    InspectionSetup,
    MediaCheck,
    PresignUploads,
    RecordEscalation,
    RecordInspection,
    UploadTarget,
)

ALLOWED_CONTENT_TYPES = (*VIDEO_TYPES, *IMAGE_TYPES)
ELECTRONIC_HINTS = (
    "camera",
    "lens",
    "electronic",
    "game",
    "console",
    "audio",
    "watch",
    "radio",
    "player",
)


def safe_file_name(name: str) -> str:
    cleaned = UNSAFE_FILE_CHARACTERS.sub("-", name.strip()).strip(".-")
    if not cleaned:
        raise ApplicationError(
            f"file name {name!r} is empty once cleaned", type=VALIDATION_FAILED, non_retryable=True
        )
    return cleaned[:120]


def checklist_for(products: list[Product]) -> list[ChecklistItem]:
    """The questions for these items: always photos/condition/packaging; function checks unless
    the item is sold for parts; sealed-box check for new items; accessories for used ones."""
    items = [
        ChecklistItem(key="matches_photos", label="Item matches the listing photos"),
        ChecklistItem(key="condition_as_described", label="Condition is as described"),
    ]
    conditions = {p.condition for p in products}
    categories = " ".join(f"{p.category_hint} {' '.join(p.tags)}".lower() for p in products)
    if Condition.new in conditions:
        items.append(ChecklistItem(key="sealed_unused", label="New item is sealed / unused"))
    if conditions != {Condition.for_parts}:
        label = (
            "Powers on and every function works"
            if any(h in categories for h in ELECTRONIC_HINTS)
            else ("Functions as intended")
        )
        items.append(ChecklistItem(key="functions", label=label))
    if conditions - {Condition.new}:
        items.append(
            ChecklistItem(key="accessories_complete", label="Accessories listed are all present")
        )
    items.append(
        ChecklistItem(key="packaging_safe", label="Packed safely for international transit")
    )
    return items


class InspectionActivities:
    """The inspection row, its media uploads and the verdict.

    One instance per worker; its `@activity.defn` methods are registered by name."""

    def __init__(self, deps: Dependencies) -> None:
        self.deps = deps
        self.settings = deps.settings

    @activity.defn(name=CREATE_INSPECTION_ACTIVITY)
    def create_inspection(self, request: CreateInspection) -> InspectionSetup:
        """One inspection per order (unique order_id): a rerun finds the existing row."""
        order_uuid = parse_uuid(request.order_id, "order id")
        with session_scope(self.settings) as session:
            order = load_order(session, request.order_id)
            inspection = session.exec(
                select(Inspection).where(Inspection.order_id == order_uuid)
            ).first()
            if inspection is None:
                skus = [str(li.get("sku", "")) for li in order.line_items]
                products = (
                    list(session.exec(select(Product).where(col(Product.sku).in_(skus))))
                    if skus
                    else []
                )
                inspection = Inspection(
                    order_id=order_uuid,
                    checklist=[c.model_dump() for c in checklist_for(products)],
                    workflow_id=request.workflow_id,
                )
                session.add(inspection)
            if order.status == OrderStatus.received:
                order.status = OrderStatus.inspecting
                order.updated_at = utcnow()
                session.add(order)
            session.flush()
            return InspectionSetup(
                inspection_id=str(inspection.id),
                checklist=[ChecklistItem.model_validate(c) for c in inspection.checklist],
                result=str(inspection.result),
            )

    @activity.defn(name=PRESIGN_UPLOADS_ACTIVITY)
    @external_call
    def presign_uploads(self, request: PresignUploads) -> list[UploadTarget]:
        if request.content_type not in ALLOWED_CONTENT_TYPES:
            raise ApplicationError(
                f"content type {request.content_type!r} is not accepted",
                type=VALIDATION_FAILED,
                non_retryable=True,
            )
        targets = []
        for name in request.file_names:
            key = inspection_media_prefix(request.order_id) + safe_file_name(name)
            form = self.deps.storage.presign_upload(key, request.content_type)
            targets.append(
                UploadTarget(
                    file_name=name,
                    key=key,
                    url=form.url,
                    content_type=form.content_type,
                    fields=form.fields,
                    max_bytes=form.max_bytes,
                )
            )
        return targets

    @activity.defn(name=CHECK_MEDIA_ACTIVITY)
    @external_call
    def check_media(self, request: CheckMedia) -> list[str]:
        """The problems with a submission (empty when fine): media keys missing in S3."""
        return self.check_media_versions(request).problems

    @activity.defn(name=CHECK_MEDIA_VERSIONS_ACTIVITY)
    @external_call
    def check_media_versions(self, request: CheckMedia) -> MediaCheck:
        """The problems with a submission (media keys missing in S3) and the present keys'
        versions, which the verdict records as its evidence."""
        found = {key: self.deps.storage.version_of(key) for key in request.keys}
        return MediaCheck(
            problems=[f"media {key} was not uploaded" for key, v in found.items() if v is None],
            versions={key: v for key, v in found.items() if v is not None},
        )

    @activity.defn(name=RECORD_INSPECTION_ACTIVITY)
    @external_call
    def record_inspection(self, request: RecordInspection) -> None:
        order_uuid = parse_uuid(request.order_id, "order id")
        inspector = parse_uuid(request.inspector_id, "inspector id")
        with session_scope(self.settings) as session:
            done = session.exec(
                select(Inspection.media_versions).where(Inspection.order_id == order_uuid)
            ).one()
        # the evidence: each key's S3 version as checked, or now (later writes to a key make
        # new versions)
        versions = (
            done
            or request.media_versions
            or {key: self.deps.storage.version_id(key) for key in request.media_keys}
        )
        with session_scope(self.settings) as session:
            user = session.get(User, inspector)
            inspection = session.exec(
                select(Inspection).where(Inspection.order_id == order_uuid)
            ).one()
            inspection.result = (
                InspectionResult.passed if request.passed else InspectionResult.failed
            )
            inspection.answers = dict(request.answers)
            inspection.media_keys = list(request.media_keys)
            inspection.media_versions = dict(versions)
            # the API passes the signed-in user's id; an unknown id is kept in the notes, not lost
            inspection.inspector_id = user.id if user else None
            notes = (
                request.notes
                if user
                else f"{request.notes}\n[inspector {request.inspector_id}]".strip()
            )
            inspection.notes = notes[:5000]
            inspection.completed_at = inspection.completed_at or utcnow()
            session.add(inspection)

    @activity.defn(name=RECORD_ESCALATION_ACTIVITY)
    def record_escalation(self, request: RecordEscalation) -> None:
        order_uuid = parse_uuid(request.order_id, "order id")
        with session_scope(self.settings) as session:
            inspection = session.exec(
                select(Inspection).where(Inspection.order_id == order_uuid)
            ).one()
            inspection.escalations = max(inspection.escalations, request.count)
            session.add(inspection)

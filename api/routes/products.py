"""Products (admin, staff): CRUD with a paginated, filterable list from the database; image
uploads by size-bounded presigned POST, attached, removed, replaced or reordered through
`image_keys`; listing through ListingWorkflow (start, status, approve/edit/reject)
and batches through BulkListingWorkflow."""

from __future__ import annotations

import mimetypes
import re
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from decimal import Decimal
from functools import partial
from typing import Annotated, Any, Literal, TypeVar

import anyio.to_thread
from litestar import Request, Response, Router, delete, get, patch, post
from litestar.di import NamedDependency
from litestar.exceptions import ClientException, HTTPException, NotFoundException
from litestar.openapi.datastructures import ResponseSpec
from litestar.params import FromPath, FromQuery, JSONBody
from litestar.security.jwt import Token
from litestar.status_codes import HTTP_200_OK, HTTP_201_CREATED, HTTP_202_ACCEPTED
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, or_, select

from adapters.s3 import IMAGE_TYPES, UploadForm, check_key
from api import workflows as wf
from api.db import in_session
from api.downloads import Download, signed_download
from api.fields import (
    MAX_SPECIFIC_VALUES,
    MAX_SPECIFICS,
    MAX_TAGS,
    RequestBody,
    SpecificName,
    SpecificValue,
    Tag,
    json_int,
    json_number,
)
from api.pagination import (
    RANGE_ERRORS,
    CreatedFrom,
    CreatedTo,
    Page,
    contains,
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
from domain.parcels import (
    DEFAULT_HEIGHT_CM,
    DEFAULT_LENGTH_CM,
    DEFAULT_WEIGHT_G,
    DEFAULT_WIDTH_CM,
)
from domain.pricing import usd_from_jpy
from domain.sku import SKU_PATTERN
from models import Condition, Product, ProductStatus, StockMovement
from models.bulk import stage_batch
from models.types import UTCDateTime
from workflows.contracts.listing import (
    BULK_LISTING_WORKFLOW,
    LISTING_WORKFLOW,
    PROGRESS_QUERY,
    REVIEW_SIGNAL,
    STATUS_QUERY,
    BulkListingInput,
    BulkProgress,
    ListingInput,
    ListingReview,
    ListingStatus,
    bulk_listing_workflow_id,
    listing_workflow_id,
    review_refusal,
)
from workflows.contracts.listing_change import (
    LISTING_CHANGE_WORKFLOW,
    ListingAction,
    ListingChange,
    listing_change_workflow_id,
)

AuthRequest = Request[AuthUser, Token, Any]
T = TypeVar("T")
BATCH_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
MAX_IMAGES = 24  # eBay's ceiling of pictures per listing
EDITABLE = {ProductStatus.draft, ProductStatus.rejected, ProductStatus.failed}
STARTED_RESPONSES = {
    HTTP_200_OK: ResponseSpec(data_container=wf.Started, description="Already running"),
    HTTP_202_ACCEPTED: ResponseSpec(data_container=wf.Started, description="Started"),
}


# Constraints inside the type, so they hold (and reach the JSON schema) in `X | None` too.
Price = json_int(ge=1, le=100_000_000)
Quantity = json_int(ge=0, le=10_000)
Weight = json_int(ge=1, le=70_000)
Dimension = json_number(gt=0, le=300)


class ProductCreate(RequestBody):
    sku: str = Field(pattern=SKU_PATTERN)
    title_ja: str = Field(min_length=1, max_length=255)
    description_ja: str = Field(default="", max_length=10000)
    brand: str = Field(default="", max_length=120)
    category_hint: str = Field(default="", max_length=120)
    condition: Condition = Condition.used_good
    condition_notes: str = Field(default="", max_length=2000)
    price_jpy: Price
    quantity: Quantity = 1
    weight_g: Weight = DEFAULT_WEIGHT_G
    length_cm: Dimension = DEFAULT_LENGTH_CM
    width_cm: Dimension = DEFAULT_WIDTH_CM
    height_cm: Dimension = DEFAULT_HEIGHT_CM
    hs_code: str = Field(default="", max_length=12, pattern=r"^[0-9.]*$")
    tags: list[Tag] = Field(default_factory=list, max_length=MAX_TAGS)


class ProductUpdate(RequestBody):
    title_ja: str | None = Field(default=None, min_length=1, max_length=255)
    description_ja: str | None = Field(default=None, max_length=10000)
    brand: str | None = Field(default=None, max_length=120)
    category_hint: str | None = Field(default=None, max_length=120)
    condition: Condition | None = None
    condition_notes: str | None = Field(default=None, max_length=2000)
    price_jpy: Price | None = None
    price_usd: str | None = Field(
        default=None,
        pattern=r"^[0-9]{1,7}(\.[0-9]{1,2})?$",
        description="eBay price; when only price_jpy changes it is derived (JPY_PER_USD)",
    )
    quantity: Quantity | None = None
    weight_g: Weight | None = None
    length_cm: Dimension | None = None
    width_cm: Dimension | None = None
    height_cm: Dimension | None = None
    hs_code: str | None = Field(default=None, max_length=12, pattern=r"^[0-9.]*$")
    tags: list[Tag] | None = Field(default=None, max_length=MAX_TAGS)
    image_keys: list[Annotated[str, Field(min_length=1, max_length=500)]] | None = Field(
        default=None,
        max_length=MAX_IMAGES,
        description=(
            "The product's images in order: drop a key to remove it, list a newly uploaded key "
            "(see images/upload-url) to add or replace one. Every key must be under "
            "product-images/{sku}/ and uploaded; removed objects stay in the bucket."
        ),
    )


class ProductPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    sku: str
    title_ja: str
    description_ja: str
    brand: str
    category_hint: str
    condition: str
    condition_notes: str
    price_jpy: int
    quantity: int
    weight_g: int
    length_cm: float
    width_cm: float
    height_cm: float
    hs_code: str
    image_keys: list[str]
    tags: list[str]
    title_en: str
    description_html: str
    item_specifics: dict[str, Any]
    ebay_category_id: str
    price_usd: str
    status: str
    ebay_offer_id: str
    ebay_listing_id: str
    listing_workflow_id: str
    last_error: str
    created_at: UTCDateTime
    updated_at: UTCDateTime


class UploadRequest(RequestBody):
    file_name: str = Field(min_length=1, max_length=200)
    content_type: str = Field(default="image/jpeg", max_length=100)


class UploadTarget(BaseModel):
    """A presigned POST: send every `fields` entry, then the file as form field `file`, as
    multipart/form-data to `url`. S3 answers 204; a file above `max_bytes` gets 400
    EntityTooLarge, another key or content type 403; after `expires_in` seconds 403."""

    key: str
    url: str
    method: Literal["POST"] = "POST"
    fields: dict[str, str]
    content_type: str
    max_bytes: int
    expires_in: int

    @classmethod
    def of(cls, form: UploadForm) -> UploadTarget:
        return cls(
            key=form.key,
            url=form.url,
            fields=form.fields,
            content_type=form.content_type,
            max_bytes=form.max_bytes,
            expires_in=form.expires_in,
        )


class ImageKey(RequestBody):
    key: str = Field(min_length=1, max_length=500)


class Decision(RequestBody):
    reason: str = Field(default="", max_length=1000)


class Edit(RequestBody):
    title: str | None = Field(default=None, max_length=80)
    description_html: str | None = Field(default=None, max_length=50000)
    item_specifics: (
        dict[SpecificName, Annotated[list[SpecificValue], Field(max_length=MAX_SPECIFIC_VALUES)]]
        | None
    ) = Field(default=None, max_length=MAX_SPECIFICS)
    price_usd: str | None = Field(default=None, max_length=20)


class BatchRequest(RequestBody):
    product_ids: list[uuid.UUID] = Field(min_length=1, max_length=5000)
    without_review: bool = Field(
        default=False,
        description="Must be true: a batch publishes the AI copy with no staff review. To review "
        "first, start each listing (POST /api/products/{id}/listing) and approve them together "
        "with POST /api/listing-reviews/approve.",
    )
    batch_id: str | None = Field(
        default=None,
        pattern=BATCH_ID.pattern,
        description="Idempotency key: the same batch_id never starts a second batch",
    )


def _load(session: Session, product_id: uuid.UUID) -> Product:
    product = session.get(Product, product_id)
    if product is None:
        raise NotFoundException(f"product {product_id} not found")
    return product


def image_key_problem(sku: str, key: str) -> str | None:
    """Why `key` cannot be an image of the product `sku` (None when it can)."""
    prefix = f"product-images/{sku}/"
    try:
        check_key(key)
    except ValueError as exc:
        return str(exc)
    if not key.startswith(prefix) or key == prefix:
        return f"image keys of this product start with {prefix}"
    return None


async def _check_images(services: Services, sku: str, keys: list[str]) -> None:
    """Refuse (422) keys outside the product's prefix, malformed, repeated or not uploaded."""
    problems = [p for key in keys if (p := image_key_problem(sku, key))]
    if len(set(keys)) != len(keys):
        problems.append("an image key is listed twice")
    if problems:
        raise ClientException(status_code=422, detail="; ".join(problems))
    for key in keys:
        if not await anyio.to_thread.run_sync(partial(services.storage.exists, key)):
            raise ClientException(status_code=422, detail=f"nothing was uploaded under {key}")


def _started(started: wf.Started) -> Response[wf.Started]:
    code = HTTP_200_OK if started.already_started else HTTP_202_ACCEPTED
    return Response(started, status_code=code)


# CRUD -----------------------------------------------------------------------------------------


@get("/", summary="List products (filter by status and date, search SKU/title)", opt=RANGE_ERRORS)
async def list_products(
    settings: NamedDependency[Settings],
    status: FromQuery[ProductStatus | None] = None,
    q: str | None = search_param(100, "SKU, Japanese or English title contains"),
    created_from: CreatedFrom = None,
    created_to: CreatedTo = None,
    limit: int = limit_param(),
    offset: int = offset_param(),
) -> Page[ProductPublic]:
    start, end = date_range(created_from, created_to)

    def run(session: Session) -> Page[ProductPublic]:
        query = select(Product)
        if status is not None:
            query = query.where(Product.status == status)
        if q:
            query = query.where(
                or_(*(contains(c, q) for c in (Product.sku, Product.title_ja, Product.title_en)))
            )
        query = in_range(query, col(Product.created_at), start, end)
        rows, total = page_of(
            session,
            query,
            col(Product.created_at).desc(),
            col(Product.sku),
            limit=limit,
            offset=offset,
        )
        items = [ProductPublic.model_validate(p) for p in rows]
        return Page(items=items, total=total, limit=limit, offset=offset)

    return await in_session(settings, run)


@post("/", status_code=HTTP_201_CREATED, summary="Create a product (Japanese source record)")
async def create_product(
    data: JSONBody[ProductCreate], settings: NamedDependency[Settings]
) -> ProductPublic:
    def run(session: Session) -> ProductPublic:
        if session.exec(select(Product).where(Product.sku == data.sku)).first() is not None:
            raise ClientException(status_code=409, detail=f"SKU {data.sku} already exists")
        product = Product(**data.model_dump())
        session.add(product)
        session.flush()
        return ProductPublic.model_validate(product)

    try:
        return await in_session(settings, run)
    except IntegrityError as exc:
        raise ClientException(status_code=409, detail=f"SKU {data.sku} already exists") from exc


@get("/{product_id:uuid}", summary="One product")
async def get_product(
    product_id: FromPath[uuid.UUID], settings: NamedDependency[Settings]
) -> ProductPublic:
    return await in_session(settings, lambda s: ProductPublic.model_validate(_load(s, product_id)))


@patch(
    "/{product_id:uuid}",
    summary="Edit the source record and its images (not while publishing); on a listed "
    "product a price or quantity change is pushed to the eBay offer",
    description="Unknown fields are refused (400). `image_keys` replaces the image list. "
    "When only `price_jpy` changes, `price_usd` is derived with JPY_PER_USD.",
)
async def update_product(
    request: AuthRequest,
    product_id: FromPath[uuid.UUID],
    data: JSONBody[ProductUpdate],
    settings: NamedDependency[Settings],
    services: NamedDependency[Services],
    temporal: NamedDependency[TemporalGateway],
) -> ProductPublic:
    changes = data.model_dump(exclude_unset=True, exclude_none=True)
    if "price_usd" in changes and Decimal(changes["price_usd"]) <= 0:
        raise ClientException(status_code=422, detail="price_usd must be positive")
    if "price_jpy" in changes and "price_usd" not in changes:
        changes["price_usd"] = usd_from_jpy(changes["price_jpy"], settings.jpy_per_usd)
    if data.image_keys is not None:
        current = await in_session(settings, lambda s: _load(s, product_id))
        await _check_images(services, current.sku, data.image_keys)

    def run(session: Session) -> tuple[ProductPublic, bool]:
        product = _load(session, product_id)
        if product.status in {ProductStatus.generating, ProductStatus.publishing}:
            raise ClientException(
                status_code=409, detail=f"the product is {product.status}; edit it afterwards"
            )
        product.sqlmodel_update(changes)
        product.updated_at = datetime.now(UTC)
        session.add(product)
        live = product.status == ProductStatus.listed and bool(product.ebay_offer_id)
        return ProductPublic.model_validate(product), live

    product, live = await in_session(settings, run)
    if live and {"price_jpy", "price_usd", "quantity"} & changes.keys():
        client = await temporal.client()
        change = ListingChange(
            product_id=str(product_id),
            action="push",
            raise_quantity="quantity" in changes,
            staff_id=str(request.user.id),
        )
        await wf.start(
            client,
            settings,
            LISTING_CHANGE_WORKFLOW,
            change,
            listing_change_workflow_id("push", str(product_id)),
        )
    return product


@delete("/{product_id:uuid}", summary="Delete a product that never reached eBay")
async def delete_product(
    product_id: FromPath[uuid.UUID], settings: NamedDependency[Settings]
) -> None:
    def run(session: Session) -> None:
        product = _load(session, product_id)
        if product.status not in EDITABLE or product.ebay_offer_id:
            raise ClientException(
                status_code=409,
                detail=f"the product is {product.status} on eBay; end the listing instead "
                "(POST /api/products/{id}/listing/end)",
            )
        history = select(StockMovement.id).where(StockMovement.product_id == product.id).limit(1)
        if session.exec(history).first() is not None:
            # the movements are the stock's audit trail (sales, restocks, write-offs)
            raise ClientException(
                status_code=409,
                detail="the product has stock history (sales, restocks or write-offs) and is "
                "kept for it; set its quantity to 0 instead",
            )
        session.delete(product)

    await in_session(settings, run)


# Images ---------------------------------------------------------------------------------------


@post(
    "/{product_id:uuid}/images/upload-url",
    status_code=HTTP_200_OK,
    summary="Presigned POST form for one product image (size-bounded by S3)",
)
async def image_upload_url(
    product_id: FromPath[uuid.UUID],
    data: JSONBody[UploadRequest],
    settings: NamedDependency[Settings],
    services: NamedDependency[Services],
) -> UploadTarget:
    if data.content_type not in IMAGE_TYPES:
        raise ClientException(
            status_code=422, detail=f"content_type must be one of {sorted(IMAGE_TYPES)}"
        )
    product = await in_session(settings, lambda s: _load(s, product_id))
    extension = mimetypes.guess_extension(data.content_type) or ""
    key = f"product-images/{product.sku}/{uuid.uuid4().hex}{extension}"
    form = await anyio.to_thread.run_sync(
        lambda: services.storage.presign_upload(key, data.content_type)
    )
    return UploadTarget.of(form)


@post(
    "/{product_id:uuid}/images",
    status_code=HTTP_200_OK,
    summary="Attach an uploaded image (the object must exist)",
)
async def attach_image(
    product_id: FromPath[uuid.UUID],
    data: JSONBody[ImageKey],
    settings: NamedDependency[Settings],
    services: NamedDependency[Services],
) -> ProductPublic:
    product = await in_session(settings, lambda s: _load(s, product_id))
    await _check_images(services, product.sku, [data.key])

    def run(session: Session) -> ProductPublic:
        row = _load(session, product_id)
        if data.key not in row.image_keys and len(row.image_keys) >= MAX_IMAGES:
            raise ClientException(status_code=422, detail=f"at most {MAX_IMAGES} images")
        if data.key not in row.image_keys:
            row.image_keys = [*row.image_keys, data.key]
            row.updated_at = datetime.now(UTC)
            session.add(row)
        return ProductPublic.model_validate(row)

    return await in_session(settings, run)


@get("/{product_id:uuid}/images/{index:int}", summary="One product image (presigned GET)")
async def image_download(
    product_id: FromPath[uuid.UUID],
    index: FromPath[int],
    settings: NamedDependency[Settings],
    services: NamedDependency[Services],
) -> Download:
    """The image at `index` of the product's `image_keys` (0 is the first, eBay's gallery
    picture)."""
    product = await in_session(settings, lambda s: _load(s, product_id))
    if not 0 <= index < len(product.image_keys):
        raise NotFoundException(
            f"product {product_id} has {len(product.image_keys)} images, no image {index}"
        )
    return await signed_download(settings, services, product.image_keys[index])


# Listing workflow -----------------------------------------------------------------------------


@post(
    "/{product_id:uuid}/listing",
    summary="Start listing on eBay (a second start returns the running workflow)",
    responses=STARTED_RESPONSES,
    status_code=HTTP_202_ACCEPTED,
)
async def start_listing(
    product_id: FromPath[uuid.UUID],
    settings: NamedDependency[Settings],
    temporal: NamedDependency[TemporalGateway],
) -> Response[wf.Started]:
    product = await in_session(settings, lambda s: _load(s, product_id))
    if not product.image_keys:
        raise ClientException(status_code=422, detail="add at least one image before listing")
    client = await temporal.client()
    request = ListingInput(
        product_id=str(product_id),
        requires_approval=settings.listing_requires_approval,
        staff_email=settings.staff_notification_email,
        reminder_hours=settings.listing_approval_reminder_hours,
    )
    started = await wf.start(
        client, settings, LISTING_WORKFLOW, request, listing_workflow_id(str(product_id))
    )
    return _started(started)


async def _no_listing_is_a_conflict(
    settings: Settings, product_id: uuid.UUID, call: Callable[[], Awaitable[T]]
) -> T:
    """404 names a product that does not exist; a product that was never listed is a 409 (the
    request is fine, the product is not in that state)."""
    await in_session(settings, lambda s: _load(s, product_id))
    try:
        return await call()
    except NotFoundException as exc:
        raise ClientException(
            status_code=409, detail=f"product {product_id} has no listing; start one first"
        ) from exc


@get("/{product_id:uuid}/listing", summary="Live listing status (workflow query)")
async def listing_status(
    product_id: FromPath[uuid.UUID],
    settings: NamedDependency[Settings],
    temporal: NamedDependency[TemporalGateway],
) -> ListingStatus:
    client = await temporal.client()
    return await _no_listing_is_a_conflict(
        settings,
        product_id,
        lambda: wf.query(client, listing_workflow_id(str(product_id)), STATUS_QUERY, ListingStatus),
    )


async def _change_listing(
    request: AuthRequest,
    product_id: uuid.UUID,
    action: ListingAction,
    settings: Settings,
    temporal: TemporalGateway,
) -> Response[wf.Started]:
    product = await in_session(settings, lambda s: _load(s, product_id))
    needs = {"end": ProductStatus.listed, "relist": ProductStatus.ended}[action]
    if product.status != needs or not product.ebay_offer_id:
        raise ClientException(
            status_code=409,
            detail=f"only a {needs} product can be {'ended' if action == 'end' else 'relisted'}"
            f" (this one is {product.status})",
        )
    if action == "relist" and product.quantity < 1:
        raise ClientException(status_code=409, detail="nothing in stock to relist (quantity 0)")
    client = await temporal.client()
    change = ListingChange(product_id=str(product_id), action=action, staff_id=str(request.user.id))
    started = await wf.start(
        client,
        settings,
        LISTING_CHANGE_WORKFLOW,
        change,
        listing_change_workflow_id(action, str(product_id)),
    )
    return _started(started)


@post(
    "/{product_id:uuid}/listing/end",
    summary="End the eBay listing (withdraw the offer); the product becomes `ended`",
    responses=STARTED_RESPONSES,
    status_code=HTTP_202_ACCEPTED,
)
async def end_listing(
    request: AuthRequest,
    product_id: FromPath[uuid.UUID],
    settings: NamedDependency[Settings],
    temporal: NamedDependency[TemporalGateway],
) -> Response[wf.Started]:
    return await _change_listing(request, product_id, "end", settings, temporal)


@post(
    "/{product_id:uuid}/listing/relist",
    summary="Relist an ended product: its quantity pushed, the same offer published again",
    responses=STARTED_RESPONSES,
    status_code=HTTP_202_ACCEPTED,
)
async def relist(
    request: AuthRequest,
    product_id: FromPath[uuid.UUID],
    settings: NamedDependency[Settings],
    temporal: NamedDependency[TemporalGateway],
) -> Response[wf.Started]:
    return await _change_listing(request, product_id, "relist", settings, temporal)


async def _review(
    request: AuthRequest, temporal: TemporalGateway, product_id: uuid.UUID, **review: Any
) -> ListingStatus | wf.CommandPending:
    try:
        decision = ListingReview(reviewer=request.user.email, request_id=uuid.uuid4().hex, **review)
    except ValueError as exc:
        raise ClientException(status_code=422, detail=str(exc)) from exc
    client = await temporal.client()
    settings: Settings = request.app.state["settings"]
    return await _no_listing_is_a_conflict(
        settings,
        product_id,
        lambda: wf.command(
            client,
            listing_workflow_id(str(product_id)),
            REVIEW_SIGNAL,
            decision,
            decision.request_id,
            ListingStatus,
            review_refusal,
        ),
    )


REVIEW_RESPONSES = wf.command_responses(ListingStatus)


@post(
    "/{product_id:uuid}/listing/approve",
    status_code=HTTP_200_OK,
    responses=REVIEW_RESPONSES,
    summary="Approve the copy",
)
async def approve_listing(
    request: AuthRequest,
    product_id: FromPath[uuid.UUID],
    temporal: NamedDependency[TemporalGateway],
) -> Response[Any]:
    return wf.command_response(await _review(request, temporal, product_id, action="approve"))


@post(
    "/{product_id:uuid}/listing/edit",
    status_code=HTTP_200_OK,
    responses=REVIEW_RESPONSES,
    summary="Edit the copy",
)
async def edit_listing(
    request: AuthRequest,
    product_id: FromPath[uuid.UUID],
    data: JSONBody[Edit],
    temporal: NamedDependency[TemporalGateway],
) -> Response[Any]:
    answer = await _review(request, temporal, product_id, action="edit", **data.model_dump())
    return wf.command_response(answer)


@post(
    "/{product_id:uuid}/listing/reject",
    status_code=HTTP_200_OK,
    responses=REVIEW_RESPONSES,
    summary="Reject the copy",
)
async def reject_listing(
    request: AuthRequest,
    product_id: FromPath[uuid.UUID],
    data: JSONBody[Decision],
    temporal: NamedDependency[TemporalGateway],
) -> Response[Any]:
    answer = await _review(request, temporal, product_id, action="reject", reason=data.reason)
    return wf.command_response(answer)


class BatchApproval(RequestBody):
    product_ids: list[uuid.UUID] = Field(min_length=1, max_length=200)


class ApprovalOutcome(BaseModel):
    product_id: uuid.UUID
    approved: bool
    step: str = ""
    error: str = ""


@post(
    "/approve",
    status_code=HTTP_200_OK,
    summary="Approve many reviewed listings at once (each one answers for itself)",
)
async def approve_many(
    request: AuthRequest,
    data: JSONBody[BatchApproval],
    temporal: NamedDependency[TemporalGateway],
) -> list[ApprovalOutcome]:
    outcomes = []
    for product_id in dict.fromkeys(data.product_ids):
        try:
            status = await _review(request, temporal, product_id, action="approve")
        except HTTPException as refused:
            outcomes.append(
                ApprovalOutcome(product_id=product_id, approved=False, error=str(refused.detail))
            )
            continue
        if isinstance(status, wf.CommandPending):  # sent, not confirmed: not counted approved
            error = f"{status.detail} (request {status.request_id})"
            outcomes.append(ApprovalOutcome(product_id=product_id, approved=False, error=error))
            continue
        outcomes.append(ApprovalOutcome(product_id=product_id, approved=True, step=status.step))
    return outcomes


# Bulk listing ---------------------------------------------------------------------------------


@post(
    "/",
    summary="List many products (one batch workflow; same batch_id = same batch)",
    responses=STARTED_RESPONSES,
    status_code=HTTP_202_ACCEPTED,
)
async def start_batch(
    data: JSONBody[BatchRequest],
    settings: NamedDependency[Settings],
    temporal: NamedDependency[TemporalGateway],
) -> Response[wf.Started]:
    if not data.without_review:
        raise ClientException(
            status_code=422,
            detail="a batch publishes without review: send without_review=true, or start each "
            "listing and approve them together with POST /api/listing-reviews/approve",
        )
    ids = list(dict.fromkeys(data.product_ids))

    def missing(session: Session) -> list[uuid.UUID]:
        found = set(session.exec(select(Product.id).where(Product.id.in_(ids))).all())  # type: ignore[attr-defined]
        return [i for i in ids if i not in found]

    if unknown := await in_session(settings, missing):
        raise ClientException(
            status_code=422, detail=f"unknown products: {', '.join(map(str, unknown[:20]))}"
        )
    client = await temporal.client()
    batch_id = data.batch_id or uuid.uuid4().hex
    # staged, read a chunk at a time by the workflow (its input carries no list of ids)
    staged = await in_session(settings, lambda session: stage_batch(session, batch_id, ids))
    request = BulkListingInput(batch_id=batch_id, staged=staged)
    started = await wf.start(
        client, settings, BULK_LISTING_WORKFLOW, request, bulk_listing_workflow_id(batch_id)
    )
    return _started(started)


@get("/{batch_id:str}", summary="Batch progress (workflow query)")
async def batch_progress(
    batch_id: FromPath[str], temporal: NamedDependency[TemporalGateway]
) -> BulkProgress:
    if not BATCH_ID.fullmatch(batch_id):
        raise NotFoundException(f"batch {batch_id} not found")
    client = await temporal.client()
    return await wf.query(client, bulk_listing_workflow_id(batch_id), PROGRESS_QUERY, BulkProgress)


def routers() -> list[Router]:
    return [
        Router(
            path="/api/products",
            guards=[STAFF],
            tags=["products"],
            route_handlers=[
                list_products,
                create_product,
                get_product,
                update_product,
                delete_product,
                image_upload_url,
                attach_image,
                image_download,
                start_listing,
                listing_status,
                approve_listing,
                edit_listing,
                reject_listing,
                end_listing,
                relist,
            ],
        ),
        Router(
            path="/api/listing-batches",
            guards=[STAFF],
            tags=["products"],
            route_handlers=[start_batch, batch_progress],
        ),
        Router(
            path="/api/listing-reviews",
            guards=[STAFF],
            tags=["products"],
            route_handlers=[approve_many],
        ),
    ]

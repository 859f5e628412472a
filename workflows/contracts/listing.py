"""Contracts of the listing workflows: ListingWorkflow (one product) and BulkListingWorkflow.

IDs: `product_id` is our database `Product.id` (a UUID string); the eBay SKU is `Product.sku`.
Images are S3 keys under `product-images/` that staff upload through presigned PUT URLs.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any, Literal

from pydantic import BaseModel, Field, field_validator, model_validator

from domain.contacts import STAFF_NOTIFICATION_EMAIL
from workflows.contracts.common import StaffAnswer

# --- workflow ids, names ----------------------------------------------------------------------

LISTING_WORKFLOW = "ListingWorkflow"
BULK_LISTING_WORKFLOW = "BulkListingWorkflow"


def listing_workflow_id(product_id: str) -> str:
    return f"listing-{product_id}"


def bulk_listing_workflow_id(batch_id: str) -> str:
    return f"bulk-listing-{batch_id}"


STATUS_QUERY = "status"
PROGRESS_QUERY = "progress"
REVIEW_SIGNAL = "request_review"
"""The API's way to review: a signal answered in the status query (`answers`). The update below
is kept for runs that received it: accepted in the task of the `awaiting_approval` status write
or of a reminder timer, where the main coroutine starts a timer (and a reminder email), it may
replay in another order (docs/architecture.md, "Staff commands")."""
REVIEW_UPDATE = "review"

MAX_TITLE_LENGTH = 80
BULK_CHUNK_SIZE = 25  # eBay's bulkCreateOrReplaceInventoryItem limit

# --- activity names ---------------------------------------------------------------------------

LOAD_PRODUCT_ACTIVITY = "catalog.load_product"
SET_PRODUCT_STATUS_ACTIVITY = "catalog.set_status"
GENERATE_COPY_ACTIVITY = "catalog.generate_copy"
APPLY_EDIT_ACTIVITY = "catalog.apply_edit"
RESOLVE_IMAGES_ACTIVITY = "catalog.resolve_images"
ENSURE_LOCATION_ACTIVITY = "catalog.ensure_location"
PUT_INVENTORY_ITEM_ACTIVITY = "catalog.put_inventory_item"
CREATE_OFFER_ACTIVITY = "catalog.create_offer"
PUBLISH_OFFER_ACTIVITY = "catalog.publish_offer"
PREPARE_CHUNK_ACTIVITY = "catalog.prepare_chunk"
BULK_CREATE_OFFERS_ACTIVITY = "catalog.bulk_create_offers"
BULK_PUBLISH_OFFERS_ACTIVITY = "catalog.bulk_publish_offers"

# --- ListingWorkflow -------------------------------------------------------------------------

ListingStep = Literal[
    "loading",
    "generating",
    "awaiting_approval",
    "publishing",
    "listed",
    "rejected",
    "failed",
]


class ListingInput(BaseModel):
    """Input of ListingWorkflow (id `listing-{product_id}`). The starter reads the settings and
    passes them here, so a running workflow never depends on configuration."""

    product_id: str
    requires_approval: bool = True  # settings.listing_requires_approval
    staff_email: str = STAFF_NOTIFICATION_EMAIL  # settings.staff_notification_email
    reminder_hours: float = Field(default=24, gt=0)  # settings.listing_approval_reminder_hours
    max_reminders: int = Field(default=14, ge=0)  # then it keeps waiting, silently


def _check_price(value: str | None) -> str | None:
    if value is None:
        return None
    try:
        price = Decimal(value)
    except InvalidOperation as exc:
        raise ValueError(f"price {value!r} is not a number") from exc
    if price <= 0 or price != price.quantize(Decimal("0.01")):
        raise ValueError(f"price {value!r} must be positive with at most 2 decimals")
    return f"{price:.2f}"


class ListingReview(BaseModel):
    """Signal `request_review` (formerly update `review`): a staff decision on the AI copy."""

    action: Literal["approve", "edit", "reject"]
    title: str | None = Field(default=None, max_length=MAX_TITLE_LENGTH)
    description_html: str | None = None
    item_specifics: dict[str, list[str]] | None = None
    price_usd: str | None = None
    reason: str = Field(default="", max_length=1000)
    reviewer: str = ""
    request_id: str = ""  # names the answer in the status query

    @field_validator("title")
    @classmethod
    def _title(cls, value: str | None) -> str | None:
        if value is not None and not value.strip():
            raise ValueError("title must not be empty")
        return value.strip() if value is not None else None

    @field_validator("description_html")
    @classmethod
    def _description(cls, value: str | None) -> str | None:
        if value is not None and not value.strip():
            raise ValueError("description must not be empty")
        return value

    @field_validator("price_usd")
    @classmethod
    def _price(cls, value: str | None) -> str | None:
        return _check_price(value)

    @model_validator(mode="after")
    def _edit_changes_something(self) -> ListingReview:
        edits = (self.title, self.description_html, self.item_specifics, self.price_usd)
        if self.action == "edit" and all(v is None for v in edits):
            raise ValueError("an edit must change the title, description, specifics or price")
        if self.action != "edit" and any(v is not None for v in edits):
            raise ValueError(f"{self.action!r} takes no edits; use action 'edit'")
        return self


class ListingStatus(BaseModel):
    """Query `status` of ListingWorkflow."""

    product_id: str
    step: ListingStep
    sku: str = ""
    offer_id: str = ""
    listing_id: str = ""
    error: str = ""
    reminders_sent: int = 0
    title: str = ""
    edits: int = 0  # edits saved by reviewers while awaiting approval
    reviewing: bool = False  # a review is being applied or was taken (the next one is refused)
    answers: list[StaffAnswer] = Field(default_factory=list)  # to signalled staff commands


def review_refusal(status: ListingStatus) -> str | None:
    """Why the listing refuses a review now, or None: the one rule, applied by the workflow
    (signal handler, the old update's validator) and read ahead by the API."""
    if status.step != "awaiting_approval":
        return f"the listing is not awaiting approval (step: {status.step})"
    if status.reviewing:
        return "this listing has already been reviewed"
    return None


class ListingResult(BaseModel):
    product_id: str
    sku: str
    status: Literal["listed", "rejected"]
    offer_id: str = ""
    listing_id: str = ""


# --- catalog activities -----------------------------------------------------------------------


class ProductRef(BaseModel):
    product_id: str


class ProductSnapshot(BaseModel):
    product_id: str
    sku: str
    status: str
    title_ja: str
    title_en: str = ""
    image_keys: list[str] = Field(default_factory=list)
    offer_id: str = ""
    listing_id: str = ""


class SetProductStatus(BaseModel):
    product_id: str
    status: str  # models.ProductStatus value
    error: str = ""
    workflow_id: str = ""


class ListingCopyResult(BaseModel):
    """The English copy as stored on the product (AI output, possibly edited by staff)."""

    title: str
    description_html: str
    item_specifics: dict[str, list[str]] = Field(default_factory=dict)
    category_id: str = ""
    price_usd: str = ""
    generation: dict[str, Any] = Field(default_factory=dict)


class ApplyEdit(BaseModel):
    product_id: str
    review: ListingReview


class ImageUrls(BaseModel):
    urls: list[str] = Field(default_factory=list)


class PutInventoryItem(BaseModel):
    product_id: str
    image_urls: list[str]


class PublishOffer(BaseModel):
    product_id: str
    offer_id: str


class PrepareChunk(BaseModel):
    """Bulk: AI copy for each product lacking it, then ONE bulk inventory call for the chunk:
    `product_ids`, or (a staged batch) the `count` products from `position` of `batch_id`."""

    product_ids: list[str] = Field(default_factory=list, max_length=BULK_CHUNK_SIZE)
    workflow_id: str = ""
    batch_id: str = ""
    position: int = Field(default=0, ge=0)
    count: int = Field(default=0, ge=0, le=BULK_CHUNK_SIZE)


class ChunkItem(BaseModel):
    product_id: str
    sku: str = ""
    ok: bool
    already_listed: bool = False
    error: str = ""


class ChunkResult(BaseModel):
    items: list[ChunkItem]
    inventory_calls: int = 0


class BulkOffers(BaseModel):
    """Bulk: the chunk's products whose offers are created (or published) with ONE eBay call."""

    product_ids: list[str] = Field(min_length=1, max_length=BULK_CHUNK_SIZE)


class BulkOfferItem(BaseModel):
    product_id: str
    ok: bool
    offer_id: str = ""
    listing_id: str = ""
    error: str = ""  # eBay's message for this product when not ok


class BulkOffersResult(BaseModel):
    items: list[BulkOfferItem]
    ebay_calls: int = 0  # 0 when every product already had its offer (or listing)


# --- BulkListingWorkflow ----------------------------------------------------------------------


class BulkFailure(BaseModel):
    product_id: str
    error: str


class BulkProgress(BaseModel):
    """Query `progress` of BulkListingWorkflow (totals across continue-as-new runs)."""

    batch_id: str
    total: int
    done: int = 0
    failed: int = 0
    remaining: int = 0
    runs: int = 1
    recent_failures: list[BulkFailure] = Field(default_factory=list)  # the last few, bounded


class BulkListingInput(BaseModel):
    """Input of BulkListingWorkflow (id `bulk-listing-{batch_id}`); on continue-as-new the
    remaining ids (or the position in the staged batch) and the progress so far are carried
    over. A batch staged in `bulk_batch_items` (`models.bulk.stage_batch`, `staged` products)
    is read a chunk at a time by position: no run's input nor the worker holds all its ids.
    Batches given inline (`product_ids`, the histories from before) carry them."""

    batch_id: str
    product_ids: list[str] = Field(default_factory=list)  # still to do (inline batches)
    staged: int = Field(default=0, ge=0)  # products staged for the batch, positions 0..staged-1
    position: int = Field(default=0, ge=0)  # the next staged position to list
    chunk_size: int = Field(default=BULK_CHUNK_SIZE, ge=1, le=BULK_CHUNK_SIZE)
    max_concurrency: int = Field(default=10, ge=1, le=100)  # per-product path (pre-patch) only
    chunks_per_run: int = Field(default=10, ge=1)  # continue-as-new after this many chunks
    progress: BulkProgress | None = None


class BulkListingResult(BaseModel):
    batch_id: str
    total: int
    done: int
    failed: int
    runs: int
    failures: list[BulkFailure] = Field(default_factory=list)

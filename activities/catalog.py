"""Catalog activities: the product row, the AI copy, images and the eBay listing calls.

Idempotency: the AI copy is generated once and kept on the product (a retry reuses it instead of
paying for a second completion); the inventory item PUT is idempotent by SKU; the offer id and the
listing id are stored on the product and checked before acting, and the adapter itself reuses an
existing offer (eBay error 25002) and treats an already-published offer as published.

Image URLs for eBay: product images stay private in S3 and eBay gets presigned GET URLs valid for
7 days (the SigV4 maximum). eBay copies the pictures to its own picture service when the offer is
published, so the URL only has to live until then; each (re)publication presigns afresh. When
`settings.product_image_base_url` is set (e.g. a CloudFront distribution in front of
`product-images/`), plain `{base}/{key}` URLs are used instead.
"""

from __future__ import annotations

import math
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from typing import Any

from pydantic import ValidationError
from temporalio import activity
from temporalio.exceptions import ApplicationError

from activities.base import external_call
from activities.deps import Dependencies
from adapters.errors import AdapterError
from domain.errors import INVALID_STATE, NOT_FOUND, VALIDATION_FAILED
from domain.pricing import usd_from_jpy
from domain.stock import pushable_quantity
from models import Product, ProductStatus
from models.bulk import staged_products
from models.db import session_scope
from models.types import utcnow
from workflows.contracts.listing import (
    APPLY_EDIT_ACTIVITY,
    BULK_CHUNK_SIZE,
    BULK_CREATE_OFFERS_ACTIVITY,
    BULK_PUBLISH_OFFERS_ACTIVITY,
    CREATE_OFFER_ACTIVITY,
    ENSURE_LOCATION_ACTIVITY,
    GENERATE_COPY_ACTIVITY,
    LOAD_PRODUCT_ACTIVITY,
    PREPARE_CHUNK_ACTIVITY,
    PUBLISH_OFFER_ACTIVITY,
    PUT_INVENTORY_ITEM_ACTIVITY,
    RESOLVE_IMAGES_ACTIVITY,
    SET_PRODUCT_STATUS_ACTIVITY,
    ApplyEdit,
    BulkOfferItem,
    BulkOffers,
    BulkOffersResult,
    ChunkItem,
    ChunkResult,
    ImageUrls,
    ListingCopyResult,
    PrepareChunk,
    ProductRef,
    ProductSnapshot,
    PublishOffer,
    PutInventoryItem,
    SetProductStatus,
)
from workflows.contracts.listing_change import (
    END_LISTING_ACTIVITY,
    PUSH_OFFER_ACTIVITY,
    RELIST_ACTIVITY,
    OfferPush,
    OfferPushed,
)

IMAGE_PREFIX = "product-images/"
IMAGE_URL_LIFETIME = timedelta(days=7)  # SigV4's maximum for presigned URLs
AI_THREADS = 8  # parallel completions inside one bulk chunk


def _permanent(message: str, kind: str = VALIDATION_FAILED) -> ApplicationError:
    return ApplicationError(message, type=kind, non_retryable=True)


def _first_error(error: ValidationError) -> str:
    first = error.errors()[0]
    return f"{'.'.join(str(p) for p in first['loc'])}: {first['msg']}"


def _already_done(product_id: str, product: Product) -> BulkOfferItem:
    """A bulk item eBay already has (its ids are stored): nothing is sent for it again."""
    return BulkOfferItem(
        product_id=product_id,
        ok=True,
        offer_id=product.ebay_offer_id,
        listing_id=product.ebay_listing_id,
    )


def _product(session: Any, product_id: str) -> Product:
    try:
        key = uuid.UUID(product_id)
    except ValueError:
        raise _permanent(f"invalid product id {product_id!r}") from None
    product = session.get(Product, key)
    if product is None:
        raise _permanent(f"product {product_id} not found", NOT_FOUND)
    return product


def _transient(status_code: int) -> bool:
    """A per-item answer in a bulk response that a repeat of the call may turn around."""
    return status_code == 429 or status_code >= 500


def _retry_items(kind: str, items: list[str]) -> ApplicationError:
    return ApplicationError(
        f"{kind}: eBay had a temporary problem with {len(items)} item(s): {items[0][:300]}",
        type="RetryableError",
    )


def _copy_of(product: Product) -> ListingCopyResult:
    return ListingCopyResult(
        title=product.title_en,
        description_html=product.description_html,
        item_specifics=product.item_specifics,
        category_id=product.ebay_category_id,
        price_usd=product.price_usd,
        generation=product.ai_generation,
    )


class CatalogActivities:
    """Products and their eBay listing: copy, images, inventory items, offers.

    One instance per worker; its `@activity.defn` methods are registered by name."""

    def __init__(self, deps: Dependencies) -> None:
        self.deps = deps
        self.settings = deps.settings

    def _price_usd(self, price_jpy: int) -> str:
        return usd_from_jpy(price_jpy, self.settings.jpy_per_usd)

    def _write_copy(self, product_id: str) -> ListingCopyResult:
        """The AI copy, generated once: a retry or a second workflow reuses the stored copy."""
        from adapters.openai import JapaneseListingSource

        with session_scope(self.settings) as session:
            product = _product(session, product_id)
            if product.title_en and product.ai_generation.get("response_id"):
                return _copy_of(product)
            source = JapaneseListingSource(
                sku=product.sku,
                title_ja=product.title_ja,
                description_ja=product.description_ja,
                brand=product.brand,
                condition=product.condition,
                condition_notes=product.condition_notes,
                category_hint=product.category_hint,
                price_jpy=product.price_jpy,
                item_specifics_hint={},
            )
        copy = self.deps.ai.write_listing(source)
        with session_scope(self.settings) as session:
            product = _product(session, product_id)
            product.title_en = copy.title[:80]
            product.description_html = copy.description_html
            product.item_specifics = copy.item_specifics
            product.ebay_category_id = copy.category_id
            product.price_usd = product.price_usd or self._price_usd(product.price_jpy)
            product.ai_generation = {
                "model": copy.model,
                "prompt_version": copy.prompt_version,
                "schema_version": copy.schema_version,
                "response_id": copy.response_id,
                "category_name": copy.category_name,
                "generated_at": utcnow().isoformat(),
            }
            product.updated_at = utcnow()
            session.add(product)
            return _copy_of(product)

    def _image_urls(self, keys: list[str], known: dict[str, bool] | None = None) -> list[str]:
        if not keys:
            raise _permanent(f"no images: upload at least one under {IMAGE_PREFIX}")
        known = known if known is not None else {}
        urls: list[str] = []
        for key in keys:
            if not key.startswith(IMAGE_PREFIX):
                raise _permanent(f"image key {key!r} is not under {IMAGE_PREFIX}")
            if key not in known:
                known[key] = self.deps.storage.exists(key)
            if not known[key]:
                raise _permanent(f"image {key} is missing in S3: upload it first", NOT_FOUND)
            base = self.settings.product_image_base_url.rstrip("/")
            lifetime = int(IMAGE_URL_LIFETIME.total_seconds())
            url = f"{base}/{key}" if base else self.deps.storage.presign_get(key, expires=lifetime)
            urls.append(url)
        return urls

    def _inventory_item(self, product: Product, image_urls: list[str]) -> Any:
        from adapters.ebay import InventoryItem, PackageDims

        try:
            return InventoryItem(
                title=product.title_en,
                description=product.description_html,
                aspects={k: [str(x) for x in v] for k, v in product.item_specifics.items()},
                image_urls=image_urls,
                condition=product.condition,
                quantity=product.quantity,
                weight_g=product.weight_g,
                dims=PackageDims(
                    length_cm=product.length_cm,
                    width_cm=product.width_cm,
                    height_cm=product.height_cm,
                ),
            )
        except ValidationError as error:
            raise _permanent(f"{product.sku} is not listable: {_first_error(error)}") from None

    @activity.defn(name=LOAD_PRODUCT_ACTIVITY)
    def load_product(self, ref: ProductRef) -> ProductSnapshot:
        with session_scope(self.settings) as session:
            p = _product(session, ref.product_id)
            return ProductSnapshot(
                product_id=str(p.id),
                sku=p.sku,
                status=str(p.status),
                title_ja=p.title_ja,
                title_en=p.title_en,
                image_keys=list(p.image_keys),
                offer_id=p.ebay_offer_id,
                listing_id=p.ebay_listing_id,
            )

    @activity.defn(name=SET_PRODUCT_STATUS_ACTIVITY)
    def set_status(self, change: SetProductStatus) -> None:
        with session_scope(self.settings) as session:
            product = _product(session, change.product_id)
            product.status = ProductStatus(change.status)
            product.last_error = change.error[:2000]
            if change.workflow_id:
                product.listing_workflow_id = change.workflow_id
            product.updated_at = utcnow()
            session.add(product)

    @activity.defn(name=GENERATE_COPY_ACTIVITY)
    @external_call
    def generate_copy(self, ref: ProductRef) -> ListingCopyResult:
        return self._write_copy(ref.product_id)

    @activity.defn(name=APPLY_EDIT_ACTIVITY)
    def apply_edit(self, edit: ApplyEdit) -> ListingCopyResult:
        review = edit.review
        with session_scope(self.settings) as session:
            product = _product(session, edit.product_id)
            if review.title is not None:
                product.title_en = review.title
            if review.description_html is not None:
                product.description_html = review.description_html
            if review.item_specifics is not None:
                product.item_specifics = review.item_specifics
            if review.price_usd is not None:
                product.price_usd = review.price_usd
            product.ai_generation = {**product.ai_generation, "edited_by": review.reviewer}
            product.updated_at = utcnow()
            session.add(product)
            return _copy_of(product)

    @activity.defn(name=RESOLVE_IMAGES_ACTIVITY)
    @external_call
    def resolve_images(self, ref: ProductRef) -> ImageUrls:
        with session_scope(self.settings) as session:
            keys = list(_product(session, ref.product_id).image_keys)
        return ImageUrls(urls=self._image_urls(keys))

    @activity.defn(name=ENSURE_LOCATION_ACTIVITY)
    @external_call
    def ensure_location(self) -> None:
        self.deps.ebay.ensure_inventory_location()

    @activity.defn(name=PUT_INVENTORY_ITEM_ACTIVITY)
    @external_call
    def put_inventory_item(self, request: PutInventoryItem) -> None:
        with session_scope(self.settings) as session:
            product = _product(session, request.product_id)
            item = self._inventory_item(product, request.image_urls)
            sku = product.sku
        self.deps.ebay.put_inventory_item(sku, item)

    @activity.defn(name=CREATE_OFFER_ACTIVITY)
    @external_call
    def create_offer(self, ref: ProductRef) -> str:
        from adapters.ebay import OfferDraft

        with session_scope(self.settings) as session:
            product = _product(session, ref.product_id)
            if product.ebay_offer_id:
                return product.ebay_offer_id
            try:
                draft = OfferDraft(
                    sku=product.sku,
                    price_value=product.price_usd or self._price_usd(product.price_jpy),
                    currency=self.settings.ebay_currency,
                    quantity=product.quantity,
                    category_id=product.ebay_category_id,
                    listing_description=product.description_html,
                )
            except ValidationError as error:
                raise _permanent(f"{product.sku}: no valid offer: {_first_error(error)}") from None
        offer_id = self.deps.ebay.create_or_get_offer(draft)
        with session_scope(self.settings) as session:
            product = _product(session, ref.product_id)
            product.ebay_offer_id = offer_id
            product.updated_at = utcnow()
            session.add(product)
        return offer_id

    @activity.defn(name=PUBLISH_OFFER_ACTIVITY)
    @external_call
    def publish_offer(self, request: PublishOffer) -> str:
        with session_scope(self.settings) as session:
            product = _product(session, request.product_id)
            if product.ebay_listing_id and product.ebay_offer_id == request.offer_id:
                return product.ebay_listing_id
        listing_id = self.deps.ebay.publish_offer(request.offer_id)
        with session_scope(self.settings) as session:
            product = _product(session, request.product_id)
            product.ebay_offer_id = request.offer_id
            product.ebay_listing_id = listing_id
            product.status = ProductStatus.listed
            product.last_error = ""
            product.updated_at = utcnow()
            session.add(product)
        return listing_id

    @activity.defn(name=PUSH_OFFER_ACTIVITY)
    @external_call
    def push_offer(self, request: OfferPush) -> OfferPushed:
        """The product's price and quantity to its eBay offer (absolute, safe to repeat). The
        quantity is never above what we hold and, unless staff changed it themselves, never
        above what eBay shows (a sale eBay counted that we have not imported yet)."""
        from adapters.ebay import PriceQuantityUpdate

        with session_scope(self.settings) as session:
            product = _product(session, request.product_id)
            if not product.ebay_offer_id:
                raise _permanent(f"{product.sku} has no eBay offer: list it first", INVALID_STATE)
            sku, offer_id, ours = product.sku, product.ebay_offer_id, product.quantity
            price = product.price_usd or self._price_usd(product.price_jpy)
        on_ebay = None
        if not request.raise_quantity:
            value = self.deps.ebay.get_offer(offer_id).get("availableQuantity")
            on_ebay = None if value is None else int(value)
        quantity = pushable_quantity(ours, on_ebay)
        results = self.deps.ebay.bulk_update_price_quantity(
            [
                PriceQuantityUpdate(
                    sku=sku,
                    offer_id=offer_id,
                    quantity=quantity,
                    price_value=price,
                    currency=self.settings.ebay_currency,
                )
            ]
        )
        refused = [e for r in results if not r.ok for e in r.errors]
        if refused:
            raise _permanent(f"eBay refused the update of {sku}: {'; '.join(refused)}")
        return OfferPushed(sku=sku, quantity=quantity, price_usd=price)

    @activity.defn(name=END_LISTING_ACTIVITY)
    @external_call
    def end_listing(self, ref: ProductRef) -> str:
        """Withdraw the offer (the listing ends; offer and SKU stay for a relist)."""
        listing_id = self.deps.ebay.withdraw_offer(self._offer_id(ref, "was never listed on eBay"))
        self._store_listing(ref, ProductStatus.ended)
        return listing_id

    @activity.defn(name=RELIST_ACTIVITY)
    @external_call
    def relist(self, ref: ProductRef) -> str:
        """Publish the withdrawn offer again (eBay treats a published offer as published)."""
        listing_id = self.deps.ebay.publish_offer(
            self._offer_id(ref, "has no eBay offer to relist")
        )
        self._store_listing(ref, ProductStatus.listed, listing_id)
        return listing_id

    def _offer_id(self, ref: ProductRef, missing: str) -> str:
        """The product's eBay offer id; a permanent INVALID_STATE error when it has none."""
        with session_scope(self.settings) as session:
            product = _product(session, ref.product_id)
            if not product.ebay_offer_id:
                raise _permanent(f"{product.sku} {missing}", INVALID_STATE)
            return product.ebay_offer_id

    def _store_listing(self, ref: ProductRef, status: ProductStatus, listing_id: str = "") -> None:
        """The product's state after eBay answered: its status and, when (re)published, the
        listing id with any earlier error cleared."""
        with session_scope(self.settings) as session:
            product = _product(session, ref.product_id)
            product.status = status
            if listing_id:
                product.ebay_listing_id = listing_id
                product.last_error = ""
            product.updated_at = utcnow()
            session.add(product)

    def _offer_draft(self, product: Product) -> Any:
        from adapters.ebay import OfferDraft

        return OfferDraft(
            sku=product.sku,
            price_value=product.price_usd or self._price_usd(product.price_jpy),
            currency=self.settings.ebay_currency,
            quantity=product.quantity,
            category_id=product.ebay_category_id,
            listing_description=product.description_html,
        )

    def _record_failures(self, failures: dict[str, str]) -> None:
        with session_scope(self.settings) as session:
            for pid, message in failures.items():
                product = _product(session, pid)
                product.status = ProductStatus.failed
                product.last_error = message[:2000]
                product.updated_at = utcnow()
                session.add(product)

    def _bulk_outcome(
        self,
        call: str,
        request: BulkOffers,
        items: dict[str, BulkOfferItem],
        transient: list[str],
        sent: int,
    ) -> BulkOffersResult:
        """After a bulk call whose successes are stored: retry when eBay failed for some items
        transiently (the retry sends only those), else record the refusals and answer in the
        request's order with the number of eBay calls the items took."""
        if transient:
            raise _retry_items(call, transient)
        self._record_failures({pid: i.error for pid, i in items.items() if not i.ok})
        return BulkOffersResult(
            items=[items[pid] for pid in request.product_ids],
            ebay_calls=math.ceil(sent / BULK_CHUNK_SIZE),
        )

    @activity.defn(name=BULK_CREATE_OFFERS_ACTIVITY)
    @external_call
    def bulk_create_offers(self, request: BulkOffers) -> BulkOffersResult:
        """ONE bulkCreateOffer call for the products without an offer id. A repeat (retry,
        replay, second batch) skips the products whose offer id is stored, and the adapter
        reuses an offer eBay already has (25002), so no SKU ever gets two offers."""
        items: dict[str, BulkOfferItem] = {}
        drafts: dict[str, Any] = {}
        with session_scope(self.settings) as session:
            for pid in request.product_ids:
                product = _product(session, pid)
                if product.ebay_offer_id:
                    items[pid] = _already_done(pid, product)
                    continue
                try:
                    drafts[pid] = self._offer_draft(product)
                except ValidationError as error:
                    message = f"{product.sku}: no valid offer: {_first_error(error)}"
                    items[pid] = BulkOfferItem(product_id=pid, ok=False, error=message)
        results = self.deps.ebay.bulk_create_or_get_offers(list(drafts.values())) if drafts else []
        transient: list[str] = []
        with session_scope(self.settings) as session:
            for pid, result in zip(drafts, results, strict=True):
                message = "; ".join(result.errors)
                if result.ok and result.offer_id:
                    product = _product(session, pid)
                    product.ebay_offer_id = result.offer_id
                    product.updated_at = utcnow()
                    session.add(product)
                elif _transient(result.status_code):
                    transient.append(message)
                items[pid] = BulkOfferItem(
                    product_id=pid, ok=result.ok, offer_id=result.offer_id or "", error=message
                )
        # the offers created so far are stored: a retry sends only the rest
        return self._bulk_outcome("bulkCreateOffer", request, items, transient, len(drafts))

    @activity.defn(name=BULK_PUBLISH_OFFERS_ACTIVITY)
    @external_call
    def bulk_publish_offers(self, request: BulkOffers) -> BulkOffersResult:
        """ONE bulkPublishOffer call for the products with an offer but no listing yet; an
        offer eBay already published answers with its listing, so a repeat is harmless."""
        items: dict[str, BulkOfferItem] = {}
        todo: dict[str, str] = {}
        with session_scope(self.settings) as session:
            for pid in request.product_ids:
                product = _product(session, pid)
                if product.ebay_listing_id:
                    items[pid] = _already_done(pid, product)
                elif product.ebay_offer_id:
                    todo[pid] = product.ebay_offer_id
                else:
                    items[pid] = BulkOfferItem(
                        product_id=pid, ok=False, error=f"{product.sku}: no offer to publish"
                    )
        results = self.deps.ebay.bulk_publish_offers(list(todo.values())) if todo else []
        transient: list[str] = []
        with session_scope(self.settings) as session:
            for (pid, offer_id), result in zip(todo.items(), results, strict=True):
                message = "; ".join(result.errors)
                if result.ok and result.listing_id:
                    product = _product(session, pid)
                    product.ebay_listing_id = result.listing_id
                    product.status = ProductStatus.listed
                    product.last_error = ""
                    product.updated_at = utcnow()
                    session.add(product)
                elif _transient(result.status_code):
                    transient.append(message)
                items[pid] = BulkOfferItem(
                    product_id=pid,
                    ok=result.ok,
                    offer_id=offer_id,
                    listing_id=result.listing_id or "",
                    error=message,
                )
        # the listings made so far are stored: a retry publishes only the rest
        return self._bulk_outcome("bulkPublishOffer", request, items, transient, len(todo))

    @activity.defn(name=PREPARE_CHUNK_ACTIVITY)
    @external_call
    def prepare_chunk(self, request: PrepareChunk) -> ChunkResult:
        """Images checked, AI copy for each product (in parallel), then ONE bulk inventory call.
        Permanent per-product problems fail that product only (and cost no AI call when the
        images are missing); a retryable one retries the whole chunk, which then skips the
        copies already written. A staged batch's chunk is read here, by position."""
        from adapters.ebay import InventoryItemWithSku

        items: dict[str, ChunkItem] = {}
        errors: dict[str, str] = {}
        urls: dict[str, list[str]] = {}
        known_images: dict[str, bool] = {}
        todo: list[str] = []
        with session_scope(self.settings) as session:
            product_ids = request.product_ids or staged_products(
                session, request.batch_id, request.position, request.count
            )
            for pid in product_ids:
                product = _product(session, pid)
                if product.ebay_listing_id:
                    items[pid] = ChunkItem(
                        product_id=pid, sku=product.sku, ok=True, already_listed=True
                    )
                    continue
                product.status = ProductStatus.publishing
                product.listing_workflow_id = request.workflow_id or product.listing_workflow_id
                session.add(product)
                todo.append(pid)
                try:
                    urls[pid] = self._image_urls(list(product.image_keys), known_images)
                except ApplicationError as error:
                    errors[pid] = str(error)

        def write(pid: str) -> tuple[str, str]:
            try:
                self._write_copy(pid)
            except AdapterError as error:
                if error.retryable:
                    raise
                return pid, str(error)
            except ApplicationError as error:
                return pid, str(error)
            return pid, ""

        outcomes: list[tuple[str, str]] = []
        with ThreadPoolExecutor(max_workers=AI_THREADS) as pool:
            for outcome in pool.map(write, [pid for pid in todo if pid not in errors]):
                outcomes.append(outcome)
                activity.heartbeat(f"{len(outcomes)} copies written")  # within CHUNK_OPTIONS' beat
        errors.update(o for o in outcomes if o[1])
        bulk: list[Any] = []
        with session_scope(self.settings) as session:
            for pid in todo:
                product = _product(session, pid)
                if pid not in errors:
                    try:
                        item = self._inventory_item(product, urls[pid])
                    except ApplicationError as error:
                        errors[pid] = str(error)
                    else:
                        bulk.append(InventoryItemWithSku(sku=product.sku, item=item))
                items[pid] = ChunkItem(
                    product_id=pid, sku=product.sku, ok=pid not in errors, error=errors.get(pid, "")
                )
        calls = 0
        if bulk:
            results = self.deps.ebay.bulk_put_inventory_items(bulk)
            calls = math.ceil(len(bulk) / BULK_CHUNK_SIZE)
            by_sku = {r.sku: r for r in results}
            for item in items.values():
                result = by_sku.get(item.sku)
                if item.ok and not item.already_listed and result is not None and not result.ok:
                    item.ok = False
                    item.error = "; ".join(result.errors) or f"eBay status {result.status_code}"
        with session_scope(self.settings) as session:
            for item in items.values():
                if not item.ok:
                    product = _product(session, item.product_id)
                    product.status = ProductStatus.failed
                    product.last_error = item.error[:2000]
                    session.add(product)
        return ChunkResult(items=[items[pid] for pid in product_ids], inventory_calls=calls)

"""Catalog activities against the eBay/OpenAI emulators over HTTP, local S3 and the real
database: each side effect run twice and under a lost response leaves ONE effect on the ledger."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from temporalio.exceptions import ApplicationError
from temporalio.testing import ActivityEnvironment

from tests.uploads import post_upload
from workflows.contracts.listing import (
    PrepareChunk,
    ProductRef,
    PublishOffer,
    PutInventoryItem,
)

pytestmark = pytest.mark.timeout(60)


@pytest.fixture(scope="module")
def deps(settings, migrated_db, sandbox):
    from activities.deps import Dependencies

    deps = Dependencies(settings)
    deps.storage.ensure_bucket()
    return deps


@pytest.fixture(scope="module")
def acts(deps) -> Any:
    from activities.catalog import CatalogActivities

    return CatalogActivities(deps)


def run(activity: Callable[..., Any], *args: Any) -> Any:
    return ActivityEnvironment().run(activity, *args)


def product(settings, deps, with_image: bool = True) -> tuple[str, str]:
    from models import Product
    from models.db import session_scope

    keys = []
    if with_image:
        key = f"product-images/{uuid.uuid4().hex}.jpg"
        form = deps.storage.presign_upload(key, "image/jpeg")
        post_upload(form, b"\xff\xd8\xff" + b"\x00" * 32).raise_for_status()
        keys.append(key)
    sku = f"CAT-{uuid.uuid4().hex[:10].upper()}"
    row = Product(
        sku=sku,
        title_ja="南部鉄器 急須 0.6L",
        description_ja="未使用品。",
        brand="岩鋳",
        price_jpy=8800,
        image_keys=keys,
    )
    with session_scope(settings) as session:
        session.add(row)
    return str(row.id), sku


def lose_next(sandbox, path: str, method: str = "") -> None:
    from sandbox.core import FaultRule

    sandbox.ctx.faults["ebay"] = FaultRule(
        lost_response_rate=1.0, times=1, path_contains=path, method=method
    )


def count(sandbox, kind: str, key: str | None = None, service: str = "ebay") -> int:
    return sandbox.ctx.ledger.count(service, kind, key)


def test_copy_is_generated_once(acts, deps, settings, clean_sandbox) -> None:
    pid, sku = product(settings, deps)
    first = run(acts.generate_copy, ProductRef(product_id=pid))
    second = run(acts.generate_copy, ProductRef(product_id=pid))
    assert first == second and 0 < len(first.title) <= 80
    assert first.generation["response_id"] and first.price_usd == "58.67"  # 8800 JPY at 150
    assert count(clean_sandbox, "completion", service="openai") == 1
    snapshot = run(acts.load_product, ProductRef(product_id=pid))
    assert snapshot.sku == sku and snapshot.title_en == first.title


def test_listing_steps_twice_and_under_lost_responses(acts, deps, settings, clean_sandbox) -> None:
    pid, sku = product(settings, deps)
    ref = ProductRef(product_id=pid)
    run(acts.generate_copy, ref)
    run(acts.ensure_location)
    run(acts.ensure_location)
    assert count(clean_sandbox, "location") == 1

    urls = run(acts.resolve_images, ref).urls
    assert len(urls) == 1 and "X-Amz-Expires=604800" in urls[0]  # 7-day presigned GET
    assert httpx.get(urls[0]).status_code == 200  # eBay can fetch it

    lose_next(clean_sandbox, "/inventory_item/")
    with pytest.raises(ApplicationError) as lost:
        run(acts.put_inventory_item, PutInventoryItem(product_id=pid, image_urls=urls))
    assert not lost.value.non_retryable
    run(acts.put_inventory_item, PutInventoryItem(product_id=pid, image_urls=urls))
    run(acts.put_inventory_item, PutInventoryItem(product_id=pid, image_urls=urls))
    assert count(clean_sandbox, "inventory_item", sku) == 1

    lose_next(clean_sandbox, "/offer", method="POST")
    with pytest.raises(ApplicationError):
        run(acts.create_offer, ref)
    offer_id = run(acts.create_offer, ref)
    assert run(acts.create_offer, ref) == offer_id
    assert count(clean_sandbox, "offer_created") == 1

    lose_next(clean_sandbox, "/publish")
    with pytest.raises(ApplicationError):
        run(acts.publish_offer, PublishOffer(product_id=pid, offer_id=offer_id))
    listing_id = run(acts.publish_offer, PublishOffer(product_id=pid, offer_id=offer_id))
    assert run(acts.publish_offer, PublishOffer(product_id=pid, offer_id=offer_id)) == listing_id
    assert count(clean_sandbox, "offer_published") == 1
    snapshot = run(acts.load_product, ref)
    assert (snapshot.status, snapshot.offer_id, snapshot.listing_id) == (
        "listed",
        offer_id,
        listing_id,
    )
    assert clean_sandbox.ctx.ledger.duplicates().get("ebay", {}) == {}


def test_prepare_chunk_one_bulk_call(acts, deps, settings, clean_sandbox) -> None:
    made = [product(settings, deps) for _ in range(5)]
    no_image = product(settings, deps, with_image=False)
    ids = [pid for pid, _ in made] + [no_image[0]]
    deps.ebay.ensure_inventory_location()  # the sandbox reset revoked the cached token
    before = dict(deps.ebay.api_calls)
    first = run(acts.prepare_chunk, PrepareChunk(product_ids=ids))
    calls = {k: v - before.get(k, 0) for k, v in deps.ebay.api_calls.items()}
    assert calls.get("bulk_create_or_replace_inventory_item") == 1
    assert not calls.get("put_inventory_item")
    assert first.inventory_calls == 1
    assert [i.ok for i in first.items] == [True] * 5 + [False]
    assert "no images" in first.items[-1].error
    # Lost answer on the bulk call, then the retry: still one inventory item per SKU.
    lose_next(clean_sandbox, "bulk_create_or_replace_inventory_item")
    with pytest.raises(ApplicationError):
        run(acts.prepare_chunk, PrepareChunk(product_ids=ids))
    run(acts.prepare_chunk, PrepareChunk(product_ids=ids))
    for _, sku in made:
        assert count(clean_sandbox, "inventory_item", sku) == 1
    assert count(clean_sandbox, "completion", service="openai") == 5  # none without images
    row = run(acts.load_product, ProductRef(product_id=no_image[0]))
    assert row.status == "failed"


def test_bad_references_are_permanent(acts, deps, settings, clean_sandbox) -> None:
    with pytest.raises(ApplicationError) as missing:
        run(acts.load_product, ProductRef(product_id=str(uuid.uuid4())))
    assert missing.value.non_retryable and missing.value.type == "NotFoundError"
    with pytest.raises(ApplicationError) as invalid:
        run(acts.load_product, ProductRef(product_id="nope"))
    assert invalid.value.non_retryable
    pid, _ = product(settings, deps, with_image=False)
    from models import Product
    from models.db import session_scope

    with session_scope(settings) as session:
        row = session.get(Product, uuid.UUID(pid))
        row.image_keys = ["documents/secret.pdf"]
        session.add(row)
    with pytest.raises(ApplicationError) as outside:
        run(acts.resolve_images, ProductRef(product_id=pid))
    assert outside.value.non_retryable and "not under product-images/" in str(outside.value)

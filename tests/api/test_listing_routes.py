"""Listing through the API, end to end: product created over the API, image uploaded with the
presigned PUT the API hands out (real S3 server), ListingWorkflow started by name (twice: same
run), reviewed through the API's update routes, and bulk listing with progress."""

from __future__ import annotations

import asyncio
import uuid

import httpx
import pytest

from tests.api.conftest import Server, app_settings, free_port, login
from tests.uploads import apost_upload

pytestmark = pytest.mark.timeout(120)

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


@pytest.fixture
async def staff_client(make_user, worker, temporal_env, clean_sandbox, settings):
    """The API under uvicorn (its own loop and its own Temporal connection) talking to the
    session's worker. An in-process test client would block the loop the worker runs on while
    a handler waits for a workflow query, and deadlock."""
    from adapters.s3 import Storage
    from api.app import create_app

    Storage(settings).ensure_bucket()
    app = create_app(
        app_settings(
            settings,
            temporal_address=temporal_env.client.service_client.config.target_host,
            temporal_task_queue=worker.task_queue,
        )
    )
    port = free_port()
    with Server(app, port):
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=30) as client:
            account = await login(client, await make_user("staff"))
            client.headers.update(account.headers)
            yield client


async def _product_with_image(client) -> dict:
    created = await client.post(
        "/api/products",
        json={
            "sku": f"WD-{uuid.uuid4().hex[:10].upper()}",
            "title_ja": "セイコー 腕時計 自動巻き SKX007 ダイバー",
            "description_ja": "動作確認済み。箱・説明書付き。",
            "brand": "Seiko",
            "category_hint": "腕時計",
            "price_jpy": 45000,
        },
    )
    assert created.status_code == 201, created.text
    product = created.json()
    target = await client.post(
        f"/api/products/{product['id']}/images/upload-url",
        json={"file_name": "front.png", "content_type": "image/png"},
    )
    assert target.status_code == 200, target.text
    key = target.json()["key"]
    assert key.startswith(f"product-images/{product['sku']}/") and key.endswith(".png")
    not_yet = await client.post(f"/api/products/{product['id']}/images", json={"key": key})
    assert not_yet.status_code == 422  # nothing uploaded yet
    (await apost_upload(target.json(), PNG)).raise_for_status()
    attached = await client.post(f"/api/products/{product['id']}/images", json={"key": key})
    assert attached.status_code == 200 and attached.json()["image_keys"] == [key]
    foreign = await client.post(
        f"/api/products/{product['id']}/images", json={"key": "product-images/OTHER/x.png"}
    )
    assert foreign.status_code == 422
    return attached.json()


async def _wait(client, url: str, check, seconds: float = 30):
    deadline = asyncio.get_running_loop().time() + seconds
    while True:
        response = await client.get(url)
        if response.status_code == 200 and check(response.json()):
            return response.json()
        assert asyncio.get_running_loop().time() < deadline, response.text
        await asyncio.sleep(0.2)


async def test_listing_start_review_and_publish(staff_client):
    client = staff_client
    product = await _product_with_image(client)
    pid = product["id"]
    first = await client.post(f"/api/products/{pid}/listing")
    assert first.status_code == 202, first.text
    assert first.json()["workflow_id"] == f"listing-{pid}"
    second = await client.post(f"/api/products/{pid}/listing")
    assert second.status_code == 200 and second.json()["already_started"] is True
    assert second.json()["workflow_id"] == first.json()["workflow_id"]
    assert second.json()["run_id"] == first.json()["run_id"]  # the same run, not a new one

    status = await _wait(
        client, f"/api/products/{pid}/listing", lambda s: s["step"] == "awaiting_approval"
    )
    assert status["sku"] == product["sku"] and status["title"]
    too_long = await client.post(f"/api/products/{pid}/listing/edit", json={"title": "x" * 81})
    assert too_long.status_code == 400  # the API validates before the workflow is asked
    empty_edit = await client.post(f"/api/products/{pid}/listing/edit", json={})
    assert empty_edit.status_code == 422
    title = "Seiko SKX007 Automatic Diver Watch 200m Made in Japan"
    edited = await client.post(
        f"/api/products/{pid}/listing/edit", json={"title": title, "price_usd": "299.00"}
    )
    assert edited.status_code == 200, edited.text
    assert edited.json()["title"] == title and edited.json()["edits"] == 1
    saved = (await client.get(f"/api/products/{pid}")).json()
    assert saved["title_en"] == title and saved["status"] == "awaiting_approval"  # not published
    approved = await client.post(
        "/api/listing-reviews/approve", json={"product_ids": [pid, str(uuid.uuid4())]}
    )
    assert approved.status_code == 200, approved.text
    outcome = {o["product_id"]: o for o in approved.json()}
    assert outcome[pid]["approved"] is True
    assert [o["approved"] for o in approved.json() if o["product_id"] != pid] == [False]
    listed = await _wait(client, f"/api/products/{pid}", lambda p: p["status"] == "listed")
    assert listed["title_en"] == title and listed["ebay_listing_id"]
    late = await client.post(f"/api/products/{pid}/listing/approve")
    # No more reviews: 409 once the workflow has finished; in the moment between the product's
    # row marked listed (by the publish activity) and the workflow's close, the running workflow
    # refuses with its rule's reason (422)
    assert late.status_code in (404, 409) or (
        late.status_code == 422 and "not awaiting approval" in late.json()["detail"]
    ), late.text
    missing = await client.get(f"/api/products/{uuid.uuid4()}/listing")
    assert missing.status_code == 404


async def _ebay_offer(offer_id: str) -> dict:
    from adapters.ebay import EbayClient
    from config import get_settings

    return await asyncio.to_thread(EbayClient(get_settings()).get_offer, offer_id)


async def test_price_change_end_and_relist(staff_client):
    client = staff_client
    pid = (await _product_with_image(client))["id"]
    assert (await client.post(f"/api/products/{pid}/listing")).status_code == 202
    await _wait(client, f"/api/products/{pid}/listing", lambda s: s["step"] == "awaiting_approval")
    assert (await client.post(f"/api/products/{pid}/listing/approve")).status_code == 200
    listed = await _wait(client, f"/api/products/{pid}", lambda p: p["status"] == "listed")
    offer_id = listed["ebay_offer_id"]
    not_ended = await client.post(f"/api/products/{pid}/listing/relist")
    assert not_ended.status_code == 409  # only an ended listing is relisted

    # a yen price change reaches the offer, in USD at JPY_PER_USD (150 by default)
    changed = await client.patch(f"/api/products/{pid}", json={"price_jpy": 60000})
    assert changed.status_code == 200 and changed.json()["price_usd"] == "400.00"
    await _until_offer(offer_id, lambda o: o["pricingSummary"]["price"]["value"] == "400.00")
    bad = await client.patch(f"/api/products/{pid}", json={"price_usd": "12.345"})
    assert bad.status_code == 400
    assert (await client.get(f"/api/products/{pid}")).json()["price_usd"] == "400.00"

    ended = await client.post(f"/api/products/{pid}/listing/end")
    assert ended.status_code == 202, ended.text
    await _wait(client, f"/api/products/{pid}", lambda p: p["status"] == "ended")
    assert (await _ebay_offer(offer_id))["status"] == "UNPUBLISHED"
    refused = await client.delete(f"/api/products/{pid}")
    assert refused.status_code == 409 and "listing/end" in refused.json()["detail"]

    relisted = await client.post(f"/api/products/{pid}/listing/relist")
    assert relisted.status_code == 202, relisted.text
    await _wait(client, f"/api/products/{pid}", lambda p: p["status"] == "listed")
    offer = await _ebay_offer(offer_id)
    assert offer["status"] == "PUBLISHED" and offer["availableQuantity"] == 1


async def _until_offer(offer_id: str, check, seconds: float = 30):
    deadline = asyncio.get_running_loop().time() + seconds
    while True:
        offer = await _ebay_offer(offer_id)
        if check(offer):
            return offer
        assert asyncio.get_running_loop().time() < deadline, offer
        await asyncio.sleep(0.2)


async def test_reject_through_the_api(staff_client):
    client = staff_client
    pid = (await _product_with_image(client))["id"]
    assert (await client.post(f"/api/products/{pid}/listing")).status_code == 202
    await _wait(client, f"/api/products/{pid}/listing", lambda s: s["step"] == "awaiting_approval")
    rejected = await client.post(
        f"/api/products/{pid}/listing/reject", json={"reason": "counterfeit risk"}
    )
    assert rejected.status_code == 200, rejected.text
    row = await _wait(client, f"/api/products/{pid}", lambda p: p["status"] == "rejected")
    assert row["last_error"] == "counterfeit risk"


async def test_bulk_listing_with_progress(staff_client):
    client = staff_client
    ids = [(await _product_with_image(client))["id"] for _ in range(3)]
    batch_id = f"batch-{uuid.uuid4().hex[:8]}"
    unknown = await client.post(
        "/api/listing-batches",
        json={"product_ids": [str(uuid.uuid4())], "batch_id": batch_id, "without_review": True},
    )
    assert unknown.status_code == 422 and "unknown products" in unknown.text
    implicit = await client.post(
        "/api/listing-batches", json={"product_ids": ids, "batch_id": batch_id}
    )
    assert implicit.status_code == 422  # publishing without review must be asked for
    batch = {"product_ids": ids, "batch_id": batch_id, "without_review": True}
    started = await client.post("/api/listing-batches", json=batch)
    assert started.status_code == 202, started.text
    again = await client.post("/api/listing-batches", json=batch)
    assert again.status_code == 200 and again.json()["already_started"] is True
    progress = await _wait(
        client,
        f"/api/listing-batches/{batch_id}",
        lambda p: p["done"] + p["failed"] == 3,
        seconds=60,
    )
    assert progress["total"] == 3 and progress["done"] == 3, progress
    for pid in ids:
        row = (await client.get(f"/api/products/{pid}")).json()
        assert row["status"] == "listed"

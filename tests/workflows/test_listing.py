"""ListingWorkflow end to end: real worker, eBay/OpenAI/SendGrid emulators over HTTP, real S3
(SeaweedFS server) and the real database; staff review through the `review` update."""

from __future__ import annotations

import asyncio
import uuid
from datetime import timedelta

import httpx
import pytest
from sqlmodel import select
from temporalio.client import WorkflowFailureError, WorkflowHandle, WorkflowUpdateFailedError
from temporalio.common import WorkflowIDConflictPolicy
from temporalio.exceptions import WorkflowAlreadyStartedError
from temporalio.service import RPCError

from tests.uploads import post_upload
from tests.workflows.conftest import record_history
from workflows.contracts.listing import (
    REVIEW_SIGNAL,
    ListingInput,
    ListingResult,
    ListingReview,
    ListingStatus,
    listing_workflow_id,
)
from workflows.listing import ListingWorkflow

pytestmark = pytest.mark.timeout(90)

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


@pytest.fixture(scope="module")
def storage(settings, sandbox):
    from adapters.s3 import Storage

    store = Storage(settings)
    store.ensure_bucket()
    return store


def upload_image(storage, name: str) -> str:
    """Staff upload: a presigned POST from the browser, here over real HTTP to the S3 server."""
    key = f"product-images/{name}.png"
    post_upload(storage.presign_upload(key, "image/png"), PNG).raise_for_status()
    return key


def make_product(settings, image_keys: list[str], **fields) -> tuple[str, str]:
    from models import Product
    from models.db import session_scope

    sku = f"WD-{uuid.uuid4().hex[:10].upper()}"
    product = Product(
        sku=sku,
        title_ja="セイコー 腕時計 自動巻き SKX007 ダイバー",
        description_ja="動作確認済み。ベルトに小傷あり。箱・説明書付き。",
        brand="Seiko",
        category_hint="腕時計",
        price_jpy=45000,
        image_keys=image_keys,
        **fields,
    )
    with session_scope(settings) as session:
        session.add(product)
    return str(product.id), sku


def product_row(settings, product_id: str):
    from models import Product
    from models.db import session_scope

    with session_scope(settings) as session:
        return session.get(Product, uuid.UUID(product_id))


async def settled_row(settings, product_id: str, status: str):
    """The product row once the workflow's projection caught up: the query shows a new step as
    soon as the workflow enters it, the row follows when the `set_status` activity has run."""
    deadline = asyncio.get_running_loop().time() + 20
    while (row := product_row(settings, product_id)).status != status:
        if asyncio.get_running_loop().time() > deadline:
            return row  # the caller's assertion names what the row holds
        await asyncio.sleep(0.05)
    return row


async def wait_for_step(handle: WorkflowHandle, step: str) -> ListingStatus:
    deadline = asyncio.get_running_loop().time() + 20
    while True:
        status = await handle.query(ListingWorkflow.status)
        if status.step == step:
            return status
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"workflow stuck at {status.step!r}, expected {step!r}")
        await asyncio.sleep(0.1)


async def start(worker, product_id: str, approval: bool = True, **kw) -> WorkflowHandle:
    return await worker.client.start_workflow(
        ListingWorkflow.run,
        ListingInput(product_id=product_id, requires_approval=approval, **kw),
        id=listing_workflow_id(product_id),
        task_queue=worker.task_queue,
    )


def ledger(sandbox, kind: str, key: str | None = None) -> int:
    return sandbox.ctx.ledger.count("ebay", kind, key)


async def test_approve_lists_the_product(worker, clean_sandbox, settings, storage) -> None:
    pid, sku = make_product(settings, [upload_image(storage, uuid.uuid4().hex)])
    handle = await start(worker, pid)
    status = await wait_for_step(handle, "awaiting_approval")
    assert status.sku == sku and status.title  # the AI copy is ready for review
    row = await settled_row(settings, pid, "awaiting_approval")
    assert row.status == "awaiting_approval" and 0 < len(row.title_en) <= 80
    assert row.ai_generation["response_id"] and row.ai_generation["model"]
    assert ledger(clean_sandbox, "inventory_item") == 0  # nothing on eBay before approval

    await handle.execute_update(ListingWorkflow.review, ListingReview(action="approve"))
    result: ListingResult = await handle.result()
    assert result.status == "listed" and result.offer_id and result.listing_id
    row = product_row(settings, pid)
    assert row.status == "listed" and row.ebay_listing_id == result.listing_id
    assert row.ebay_offer_id == result.offer_id and row.last_error == ""
    final = await handle.query(ListingWorkflow.status)
    assert (final.step, final.listing_id, final.offer_id) == (
        "listed",
        *[result.listing_id, result.offer_id],
    )
    assert ledger(clean_sandbox, "inventory_item", sku) == 1
    assert ledger(clean_sandbox, "offer_published") == 1
    # Staff can no longer review a listed product (its workflow has completed).
    with pytest.raises(RPCError, match="already completed"):
        await handle.execute_update(ListingWorkflow.review, ListingReview(action="approve"))
    await record_history(handle, "listing_approved")


async def test_edit_then_publish_uses_the_edit(worker, clean_sandbox, settings, storage) -> None:
    pid, sku = make_product(settings, [upload_image(storage, uuid.uuid4().hex)])
    handle = await start(worker, pid)
    await wait_for_step(handle, "awaiting_approval")
    # Invalid edits are rejected by validation, and the workflow keeps waiting.
    for bad in (
        {"action": "edit", "title": "x" * 81},
        {"action": "edit"},
        {"action": "edit", "price_usd": "-3"},
        {"action": "approve", "title": "sneaky edit"},
    ):
        with pytest.raises(WorkflowUpdateFailedError):
            await handle.execute_update(
                ListingWorkflow.review, ListingReview.model_construct(**bad)
            )
    title = "Seiko SKX007 Automatic Diver Watch 200m Japan Made Box Papers"
    status = await handle.execute_update(
        ListingWorkflow.review,
        ListingReview(
            action="edit",
            title=title,
            price_usd="329.00",
            item_specifics={"Brand": ["Seiko"], "Model": ["SKX007"]},
        ),
    )
    assert status.title == title and status.edits == 1
    saved = await handle.query(ListingWorkflow.status)
    assert saved.step == "awaiting_approval"  # an edit is saved, not published
    assert product_row(settings, pid).title_en == title
    await handle.execute_update(ListingWorkflow.review, ListingReview(action="approve"))
    result = await handle.result()
    assert result.status == "listed"
    row = product_row(settings, pid)
    assert row.title_en == title and row.price_usd == "329.00"
    assert row.item_specifics["Model"] == ["SKX007"]
    from adapters.ebay import EbayClient

    offers = EbayClient(settings).get_offers(sku)
    assert len(offers) == 1
    assert offers[0]["pricingSummary"]["price"]["value"] in ("329.00", "329.0", "329")
    await record_history(handle, "listing_edited_then_approved")


async def test_review_by_signal_is_answered_in_the_status(
    worker, clean_sandbox, settings, storage
) -> None:
    """The API's way (`request_review`): the edit's answer comes once the copy is saved, the
    approval publishes, a review after it is refused (nothing changes)."""
    pid, sku = make_product(settings, [upload_image(storage, uuid.uuid4().hex)])
    handle = await start(worker, pid)
    await wait_for_step(handle, "awaiting_approval")

    async def review(decision: ListingReview) -> ListingStatus:
        await handle.signal(REVIEW_SIGNAL, decision)
        for _ in range(300):
            status = await handle.query(ListingWorkflow.status)
            if any(a.request_id == decision.request_id for a in status.answers):
                return status
            await asyncio.sleep(0.05)
        raise AssertionError(f"no answer to {decision.request_id}")

    title = "Seiko SKX007 Automatic Diver Watch 200m Japan Made"
    edited = await review(ListingReview(action="edit", title=title, request_id="e1"))
    assert edited.title == title and edited.edits == 1 and edited.step == "awaiting_approval"
    assert product_row(settings, pid).title_en == title
    # a reject right behind the approval (sent before the listing could finish): refused
    await handle.signal(REVIEW_SIGNAL, ListingReview(action="approve", request_id="a1"))
    late = await review(ListingReview(action="reject", reason="late", request_id="r1"))
    approval, refusal = late.answers[-2:]
    assert approval.request_id == "a1" and approval.accepted
    assert not refusal.accepted
    assert "already been reviewed" in refusal.reason or "not awaiting" in refusal.reason
    result = await handle.result()
    assert result.status == "listed" and product_row(settings, pid).title_en == title
    await record_history(handle, "listing_reviewed_by_signal")


async def test_reject_ends_rejected(worker, clean_sandbox, settings, storage) -> None:
    pid, sku = make_product(settings, [upload_image(storage, uuid.uuid4().hex)])
    handle = await start(worker, pid)
    await wait_for_step(handle, "awaiting_approval")
    await handle.execute_update(
        ListingWorkflow.review, ListingReview(action="reject", reason="counterfeit risk")
    )
    result = await handle.result()
    assert result.status == "rejected" and not result.listing_id
    row = product_row(settings, pid)
    assert row.status == "rejected" and row.last_error == "counterfeit risk"
    assert ledger(clean_sandbox, "inventory_item", sku) == 0
    await record_history(handle, "listing_rejected")


async def test_idempotent_start_and_lost_response(worker, clean_sandbox, settings, storage) -> None:
    """Starting twice runs once; a publish whose answer is lost is not published twice; a later
    run for a listed product changes nothing (each activity's own retry tests are in
    tests/activities/test_catalog.py)."""
    pid, sku = make_product(settings, [upload_image(storage, uuid.uuid4().hex)])
    async with httpx.AsyncClient() as http:
        r = await http.post(
            f"{clean_sandbox.base_url}/_sandbox/faults",
            json={"ebay": {"lost_response_rate": 1.0, "times": 1, "path_contains": "/publish"}},
        )
        r.raise_for_status()
    handle = await start(worker, pid, approval=False)
    with pytest.raises(WorkflowAlreadyStartedError):
        await start(worker, pid, approval=False)
    same = await worker.client.start_workflow(
        ListingWorkflow.run,
        ListingInput(product_id=pid, requires_approval=False),
        id=listing_workflow_id(pid),
        task_queue=worker.task_queue,
        id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
    )
    assert same.result_run_id == handle.result_run_id
    result = await handle.result()
    assert result.status == "listed"
    assert clean_sandbox.ctx.faults["ebay"].times == 0  # the fault did fire
    # A second run after completion (same id) finds the product listed and does nothing.
    again = await worker.client.execute_workflow(
        ListingWorkflow.run,
        ListingInput(product_id=pid, requires_approval=False),
        id=listing_workflow_id(pid),
        task_queue=worker.task_queue,
    )
    assert again.listing_id == result.listing_id
    assert ledger(clean_sandbox, "inventory_item", sku) == 1
    assert ledger(clean_sandbox, "offer_created") == 1
    assert ledger(clean_sandbox, "offer_published") == 1
    assert clean_sandbox.ctx.ledger.duplicates().get("ebay", {}) == {}


async def test_missing_image_marks_the_product_failed(worker, clean_sandbox, settings) -> None:
    key = f"product-images/never-uploaded-{uuid.uuid4().hex}.jpg"
    pid, sku = make_product(settings, [key])
    handle = await start(worker, pid, approval=False)
    with pytest.raises(WorkflowFailureError) as failure:
        await handle.result()
    assert key in str(failure.value.cause)
    row = product_row(settings, pid)
    assert row.status == "failed" and key in row.last_error
    status = await handle.query(ListingWorkflow.status)
    assert status.step == "failed" and key in status.error
    assert ledger(clean_sandbox, "inventory_item", sku) == 0


async def test_reminders_on_the_timer(
    ts_worker, time_skipping_env, clean_sandbox, settings, storage
) -> None:
    """No answer for `reminder_hours`: staff get a reminder email, then one every period."""
    from models import EmailMessage
    from models.db import session_scope

    pid, sku = make_product(settings, [upload_image(storage, uuid.uuid4().hex)])
    handle = await start(ts_worker, pid, staff_email="ops@example.com", reminder_hours=2)
    await wait_for_step(handle, "awaiting_approval")
    await time_skipping_env.fast_forward(handle, timedelta(hours=2, minutes=1))
    await _wait_reminders(handle, 1)
    await time_skipping_env.fast_forward(handle, timedelta(hours=2))
    await _wait_reminders(handle, 2)
    for n in (1, 2):
        key = f"email-listing_approval_reminder-{pid}-{n}"
        for _ in range(100):
            with session_scope(settings) as session:
                row = session.exec(
                    select(EmailMessage).where(EmailMessage.dedupe_key == key)
                ).first()
            if row is not None and row.status == "sent":
                break
            await asyncio.sleep(0.1)
        assert row is not None and row.status == "sent" and row.recipient == "ops@example.com"
        assert clean_sandbox.ctx.ledger.count("sendgrid", "email_accepted", key) == 1
    await handle.execute_update(ListingWorkflow.review, ListingReview(action="approve"))
    result = await handle.result()
    assert result.status == "listed" and result.sku == sku
    await record_history(handle, "listing_reminded")


async def _wait_reminders(handle: WorkflowHandle, n: int) -> None:
    for _ in range(200):
        if (await handle.query(ListingWorkflow.status)).reminders_sent >= n:
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"reminder {n} was not sent")

"""The staff's decisions in a real browser, on the real worker, Temporal, sandbox and S3: fail an
inspection and take the decision; bulk listing with its live progress bar, then end and relist
a listing; a domestic parcel's issued-history upload, "mark delivered" and the label-charge flag;
and the late shipments and stuck workflows on Today. Each new page is checked for labels and
keyboard use and screenshotted in Japanese and English into docs/screenshots/."""

from __future__ import annotations

import asyncio
import re
import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest

from domain.pricing import usd_from_jpy
from tests.api.test_stuck import failing_order_sync
from tests.console.conftest import PHONE, Tab, check_page, fetch_order, sign_in, until
from tests.console.test_business_day import photo
from tests.workflows.test_fulfillment import import_order, make_product

pytestmark = pytest.mark.timeout(300)
JP_SITES = {"yamato": "b2", "sagawa": "ehiden"}


async def both_languages(tab: Tab, name: str, console_url: str) -> None:
    """check_page in Japanese, then in English (the tab is left in English)."""
    for lang in ("ja", "en"):
        await tab.context.add_cookies([{"name": "lang", "value": lang, "url": console_url}])
        await tab.page.reload()
        await check_page(tab, name, lang)


def badge_is(*texts: str):
    """The page's first status badge reads one of `texts` (the English tab's words)."""

    async def check(page: Any) -> bool:
        return await page.locator(".badge").first.inner_text() in texts

    return check


async def inspect(open_tab, make_user, order_id: str, tmp_path: Path, passed: bool) -> None:
    """The inspector, on a phone: the checklist (all ticked, or the first left empty), a photo."""
    phone: Tab = await open_tab("en", viewport=PHONE, is_mobile=True, has_touch=True)
    await sign_in(phone, await make_user("inspector"))
    url = f"/console/inspections/{order_id}"

    async def checklist_ready(p: Any) -> bool:
        return await p.locator("#inspect-form input[type=checkbox]").count() > 0

    await until(phone.page, url, checklist_ready, "inspection checklist")
    boxes = await phone.page.locator("#inspect-form input[type=checkbox]").all()
    for box in boxes[0 if passed else 1 :]:
        await box.check()
    await phone.page.get_by_label("Notes").fill("" if passed else "The case back is cracked.")
    await phone.page.set_input_files("#media", photo(tmp_path, f"evidence-{uuid.uuid4().hex}.jpg"))
    await phone.page.locator("#media-keys li").first.wait_for()
    await phone.page.locator("#submit-inspection").click()
    done = "Inspection passed." if passed else "Inspection failed: staff will decide"
    await phone.page.get_by_text(re.compile(done)).wait_for()


async def test_fail_an_inspection_and_take_the_decision(
    open_tab, make_user, clean_sandbox, settings, console_url, tmp_path
):
    sku = make_product(settings, quantity=1)
    ebay_order_id = import_order(clean_sandbox, sku, country_code="US", buyer_email="lee@x.com")
    tab: Tab = await open_tab("en")
    page = tab.page
    await sign_in(tab, await make_user("staff"))
    order_url = await fetch_order(page, ebay_order_id)
    await inspect(open_tab, make_user, order_url.rsplit("/", 1)[-1], tmp_path, passed=False)

    async def decision_awaited(p: Any) -> bool:
        return await p.locator("#decision-form").count() > 0

    await until(page, order_url, decision_awaited, "the decision form")
    assert await page.get_by_text("The case back is cracked.").count() == 1
    assert await page.locator("a", has_text="Evidence 1").count() == 1
    await both_languages(tab, "order-decision", console_url)

    # Relist without a condition: a field error in the page's language, the choice kept.
    await page.get_by_label("Relist under another condition").check()
    await page.get_by_label("Note", exact=True).fill("Sell it as used, for parts")
    await page.locator("#decide").click()
    error = "Choose the condition the unit is relisted under."
    assert await page.locator("#e-condition").inner_text() == error
    assert await page.get_by_label("Relist under another condition").is_checked()
    assert await page.get_by_label("Note", exact=True).input_value() == "Sell it as used, for parts"
    assert await page.locator("#decision-form").count() == 1  # nothing was decided

    await page.get_by_label("Condition when relisted").select_option("for_parts")
    await page.locator("#decide").click()
    await page.get_by_text("Decision recorded: the refund and apology go out now.").wait_for()
    await until(page, order_url, badge_is("Refunded"), "order refunded")
    assert await page.locator("#decision-form").count() == 0


def flag_charge(settings: Any, shipment_id: str, flag: str) -> None:
    from sqlmodel import select

    from models import LabelPurchase
    from models.db import session_scope

    with session_scope(settings) as session:
        purchase = session.exec(
            select(LabelPurchase).where(LabelPurchase.shipment_id == uuid.UUID(shipment_id))
        ).one()
        purchase.detail = {**purchase.detail, "charge_flag": flag}
        session.add(purchase)


def listable_product(settings, sku: str) -> str:
    """A draft product with one photo in S3 (what a batch needs), straight into the database."""
    from adapters.s3 import Storage
    from models import Product
    from models.db import session_scope

    key = f"product-images/{sku}/front.jpg"
    Storage(settings).put_bytes(key, photo_bytes(), "image/jpeg")
    with session_scope(settings) as session:
        product = Product(
            sku=sku,
            title_ja="セイコー 腕時計 自動巻き",
            description_ja="動作確認済み。",
            brand="Seiko",
            category_hint="watch",
            price_jpy=30000,
            quantity=1,
            weight_g=400,
            hs_code="910211",
            image_keys=[key],
        )
        session.add(product)
        session.flush()
        return str(product.id)


def photo_bytes() -> bytes:
    from io import BytesIO

    from PIL import Image

    buffer = BytesIO()
    Image.new("RGB", (640, 480), (120, 90, 60)).save(buffer, "JPEG")
    return buffer.getvalue()


async def test_bulk_listing_progress_then_end_and_relist(
    open_tab, make_user, clean_sandbox, settings, console_url
):
    prefix = f"BLK-{uuid.uuid4().hex[:6].upper()}"
    ids = [listable_product(settings, f"{prefix}-{i}") for i in range(2)]
    tab: Tab = await open_tab("en")
    page = tab.page
    await sign_in(tab, await make_user("staff"))

    async def pick() -> None:
        await page.goto(f"/console/products?q={prefix}")
        for product_id in ids:
            await page.locator(f"#pick-{product_id}").check()

    await pick()
    await page.locator("#bulk-list").click()  # without confirming "no review": refused
    await page.get_by_text(
        "Confirm that the batch publishes the AI copy without review."
    ).wait_for()
    await pick()
    await page.get_by_label("Publish the AI copy without review").check()
    await page.locator("#bulk-list").click()
    await page.wait_for_url(re.compile(r".*/console/batches/[0-9a-f]{32}$"))
    batch_url = page.url
    # The bar follows the workflow's progress query with no reload, until both are listed.
    await page.locator("[data-batch][data-state=finished]").wait_for(timeout=120_000)
    assert page.url == batch_url
    assert await page.locator("#batch-progress").evaluate("bar => [bar.value, bar.max]") == [2, 2]
    assert await page.locator("[data-progress-text]").inner_text() == "2 listed, 0 failed, of 2"
    await both_languages(tab, "batch", console_url)

    product_url = f"/console/products/{ids[0]}"
    await until(page, product_url, badge_is("Listed"), "listed by the batch")
    await page.locator("#end-listing").click()
    await page.get_by_text("Ending the eBay listing.").wait_for()
    await until(page, product_url, badge_is("Ended"), "listing ended")
    await both_languages(tab, "product-ended", console_url)
    await page.locator("#relist").click()
    await page.get_by_text("Relisting on eBay.").wait_for()
    await until(page, product_url, badge_is("Listed"), "relisted")

    # A new yen price on the listed product reaches the eBay offer (dollars derived).
    await page.get_by_label("Price (yen)").fill("45000")
    await page.get_by_role("button", name="Save", exact=True).click()
    await page.get_by_text("Saved.").wait_for()
    wanted = usd_from_jpy(45000, settings.jpy_per_usd)
    for _ in range(200):
        if await asyncio.to_thread(offer_price, settings, ids[0]) == wanted:
            break
        await asyncio.sleep(0.25)
    else:
        raise AssertionError(f"the eBay offer never got the price {wanted}")
    assert await page.locator("#price-usd").count() == 1


def offer_price(settings: Any, product_id: str) -> str:
    """The price of the product's offer on the eBay emulator, through the real adapter."""
    from adapters.ebay import EbayClient
    from models import Product
    from models.db import session_scope

    with session_scope(settings) as session:
        product = session.get(Product, uuid.UUID(product_id))
        assert product is not None
        offer_id = product.ebay_offer_id
    price = EbayClient(settings).get_offer(offer_id).get("pricingSummary", {}).get("price", {})
    return str(price.get("value", ""))


async def test_domestic_issued_history_upload_and_mark_delivered(
    open_tab, make_user, clean_sandbox, settings, console_url, tmp_path
):
    sku = make_product(settings, quantity=1)
    ebay_order_id = import_order(clean_sandbox, sku, domestic=True)
    tab: Tab = await open_tab("en")
    page = tab.page
    await sign_in(tab, await make_user("staff"))
    order_url = await fetch_order(page, ebay_order_id)
    await inspect(open_tab, make_user, order_url.rsplit("/", 1)[-1], tmp_path, passed=True)

    async def shipment_link(p: Any) -> bool:
        return await p.locator("a[href^='/console/shipments/']").count() > 0

    await until(page, order_url, shipment_link, "shipment created")
    shipment_url = await page.locator("a[href^='/console/shipments/']").first.get_attribute("href")
    assert shipment_url

    async def awaiting_tracking(p: Any) -> bool:
        rates = p.locator("input[name=rate]")
        if await rates.count():  # if the choice window is open, staff pick Yamato
            await p.locator("label", has_text=re.compile("yamato", re.I)).first.click()
            await p.get_by_role("button", name="Buy this label").click()
            await p.wait_for_load_state()
            return False
        return await p.locator("#history-form").count() > 0

    await until(page, shipment_url, awaiting_tracking, "hand-off waiting for its number")
    carrier = await page.locator("#carrier").get_attribute("data-carrier")
    assert carrier in JP_SITES

    # A file that is not the carrier's issued history: refused on the field, nothing changes.
    wrong = tmp_path / "notes.csv"
    wrong.write_text("hello,world\n1,2\n")
    await page.set_input_files("#f-history", wrong)
    await page.locator("#upload-history").click()
    assert await page.locator("#e-history").inner_text()
    assert await page.locator("#tracking-number").inner_text() == ""
    await both_languages(tab, "shipment-hand-off", console_url)

    # The carrier's site issues the numbers for our hand-off CSV; its history file goes up.
    handoff = await page.request.get(f"{shipment_url}/handoff")
    assert handoff.ok
    site = f"/_sandbox/{carrier}/{JP_SITES[carrier]}"
    async with httpx.AsyncClient(base_url=clean_sandbox.base_url) as http:
        imported = await http.post(
            f"{site}/import", content=await handoff.body(), headers={"Content-Type": "text/csv"}
        )
        imported.raise_for_status()
        history = await http.get(f"{site}/history")
        history.raise_for_status()
    issued = tmp_path / "issued-history.csv"
    issued.write_bytes(history.content)
    await page.set_input_files("#f-history", issued)
    await page.locator("#upload-history").click()
    await page.get_by_text("Tracking number read from the issued-history file.").wait_for()

    async def numbered(p: Any) -> bool:  # the workflow records it on the shipment next
        return bool((await p.locator("#tracking-number").inner_text()).strip())

    await until(page, shipment_url, numbered, "tracking number recorded")
    number = (await page.locator("#tracking-number").inner_text()).strip()
    assert re.fullmatch(r"\d{12}", number), number

    async def deliverable(p: Any) -> bool:
        return await p.locator("#delivered-form").count() > 0

    await until(page, shipment_url, deliverable, "label created with its number")
    await page.locator("#mark-delivered").click()
    assert await page.locator("#e-note").inner_text() == "This field is required."
    await page.get_by_label("Note (how you know it arrived)").fill("The buyer phoned: it arrived")
    await page.locator("#mark-delivered").click()
    await page.get_by_text("Marked delivered: the order completes.").wait_for()
    assert await page.locator("#events", has_text="The buyer phoned: it arrived").count() == 1
    await both_languages(tab, "shipment-delivered", console_url)

    # A carrier charge past the margin over the quote (as the label activity records it) shows.
    flag = "charged 1300 JPY, quoted 910 JPY: +42.9% (margin 5%)"
    flag_charge(settings, shipment_url.rsplit("/", 1)[-1], flag)
    await page.reload()
    assert flag in await page.locator("#charge-flag").inner_text()
    await until(page, order_url, badge_is("Delivered", "Completed"), "order delivered")


async def test_today_lists_a_late_shipment_and_a_stuck_workflow(
    open_tab, make_user, worker, sandbox, settings, console_url
):
    from datetime import UTC, datetime, timedelta

    from tests.api.test_today import add_shipment

    late = add_shipment(settings, bought=datetime.now(UTC) - timedelta(days=9), transit_days=5)
    tab: Tab = await open_tab("en")
    page = tab.page
    await sign_in(tab, await make_user("staff"))
    async with failing_order_sync(worker.client, worker.task_queue, sandbox.base_url) as handle:
        await page.goto("/console")
        late_row = page.locator("#late tbody tr", has=page.locator(f"a[href$='{late}']"))
        assert await late_row.count() == 1
        assert (await late_row.locator("td").last.inner_text()).strip() == "4"  # 9 days - 5
        row = page.locator("#stuck-list tbody tr", has_text=handle.id)
        assert await row.count() == 1
        text = await row.inner_text()
        assert "An outside service is not answering; the step keeps retrying." in text
        assert "HTTP 503" in text and "sync.fetch_orders" in text
        link = await row.get_by_role("link", name="Open in the Temporal web UI").get_attribute(
            "href"
        )
        assert link and link.endswith(f"/workflows/{handle.id}/{handle.result_run_id}/history")
        assert int(await page.locator("#count-stuck strong").inner_text()) >= 1
        await both_languages(tab, "today-stuck", console_url)

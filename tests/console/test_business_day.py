"""The business day in a real browser, on the real worker, Temporal, sandbox and S3: sign in with
two-factor, create a product with a photo uploaded straight to S3, approve the AI draft, import a
buyer's order from the eBay emulator, inspect it on a phone with a photo, print the label, follow
tracking to delivered, and watch the Today counts move at each step. Screenshots of every page
in Japanese and English are written to docs/screenshots/."""

from __future__ import annotations

import re
import time
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.console.conftest import (
    PHONE,
    Tab,
    check_page,
    enable_two_factor,
    fetch_order,
    sign_in,
    until,
)
from tests.workflows.test_fulfillment import import_order

pytestmark = pytest.mark.timeout(300)
COUNTS = ("listings", "inspections", "failed", "labels", "tracking", "transit")


def photo(tmp_path: Path, name: str = "item.jpg") -> Path:
    from PIL import Image, ImageDraw

    image = Image.new("RGB", (640, 480), (200, 180, 150))
    ImageDraw.Draw(image).rectangle((120, 100, 520, 380), fill=(40, 60, 90))
    path = tmp_path / name
    image.save(path, "JPEG", quality=85)
    return path


async def today(page: Any) -> dict[str, int]:
    await page.goto("/console")
    found = {}
    for name in COUNTS:
        cell = page.locator(f"#count-{name} strong")
        found[name] = int(await cell.inner_text()) if await cell.count() else 0
    return found


def has_text(text: str) -> Callable[[Any], Awaitable[bool]]:
    async def check(page: Any) -> bool:
        return await page.get_by_text(text, exact=True).count() > 0

    return check


async def test_business_day(open_tab, make_user, console_url, clean_sandbox, tmp_path, capsys):
    steps: list[tuple[str, float]] = []
    started = last = time.monotonic()

    def mark(name: str) -> None:
        nonlocal last
        now = time.monotonic()
        steps.append((name, now - last))
        last = now

    admin = await make_user("admin")
    secret, timecode = await enable_two_factor(console_url, admin)
    tab: Tab = await open_tab("ja")
    page = tab.page
    timecode = await sign_in(tab, admin, secret, timecode)
    assert timecode is not None
    counts = await today(page)
    await check_page(tab, "today", "ja")
    mark("sign in with two-factor (keyboard only)")

    # A product with a photo, uploaded by the browser straight to S3.
    await page.goto("/console/products/new")
    await check_page(tab, "product-new", "ja")
    sku = f"BD-{uuid.uuid4().hex[:8]}"
    await page.get_by_label("SKU").fill(sku)
    await page.get_by_label("商品名(日本語)").fill("セイコー 自動巻き 腕時計 1970年代")
    await page.get_by_label("説明(日本語)").fill("動作確認済み。小傷あり。")
    await page.get_by_label("ブランド").fill("Seiko")
    await page.get_by_label("カテゴリのヒント").fill("watch")
    await page.get_by_label("価格(円)").fill("30000")
    await page.get_by_label("在庫").fill("2")
    await page.get_by_label("HSコード").fill("910211")
    await page.get_by_role("button", name="商品を登録").click()
    await page.wait_for_url(re.compile(r".*/console/products/[0-9a-f-]{36}$"))
    product_url = page.url
    product_id = product_url.rsplit("/", 1)[-1]
    async with page.expect_navigation():  # the page reloads once the photo is attached
        await page.set_input_files("#photo", photo(tmp_path))
    await page.locator("#thumbs img").first.wait_for()
    assert await page.locator("#thumbs img").first.evaluate("img => img.naturalWidth") == 640
    await check_page(tab, "product", "ja")
    await page.goto(f"/console/products?q={sku}")
    await check_page(tab, "products", "ja")
    mark("create product, photo to S3")

    await page.goto(product_url)
    await page.locator("#start-listing").click()
    await until(page, product_url, has_text("承認待ち"), "AI draft awaiting approval")
    after = await today(page)
    assert after["listings"] == counts["listings"] + 1
    mark("AI draft written (Today: +1 listing to approve)")

    # Review: the Japanese source beside the English draft, then approve.
    await page.goto("/console/listings")
    await check_page(tab, "listings", "ja")
    await page.goto(f"/console/listings/{product_id}")
    assert await page.get_by_label("eBayタイトル").input_value()  # the AI draft is there
    await check_page(tab, "listing-review", "ja")
    await page.locator("#approve").click()
    await page.wait_for_url("**/console/listings")
    await until(page, product_url, has_text("出品済み"), "listed on eBay")
    assert (await today(page))["listings"] == counts["listings"]
    mark("approve listing, published on eBay (Today: -1)")

    # A buyer orders it on eBay (emulator); staff fetch orders from Operations.
    ebay_order_id = import_order(
        clean_sandbox, sku, country_code="US", buyer_email="pat@example.com"
    )
    await page.goto("/console/operations")
    await check_page(tab, "operations", "ja")
    await page.get_by_role("button", name="eBayの注文を今すぐ取り込む").click()
    await page.get_by_text("注文の取り込みを開始しました。").wait_for()

    async def order_waits_for_inspection(p: Any) -> bool:
        return (await today(p))["inspections"] == counts["inspections"] + 1

    await until(page, "/console", order_waits_for_inspection, "order waiting for inspection")
    await page.goto(f"/console/orders?q={ebay_order_id}")
    await check_page(tab, "orders", "ja")
    await page.get_by_role("link", name=ebay_order_id).click()
    order_url = page.url
    mark("import the buyer's order (Today: +1 to inspect)")

    # Inspection on a phone, as the inspector, with a photo from the camera input.
    inspector = await make_user("inspector")
    phone: Tab = await open_tab("ja", viewport=PHONE, is_mobile=True, has_touch=True)
    await sign_in(phone, inspector)
    await phone.page.goto("/console/inspections")
    await check_page(phone, "inspections", "ja")
    await phone.page.get_by_role("link", name=re.compile(ebay_order_id)).click()
    inspection_url = phone.page.url

    async def checklist_ready(p: Any) -> bool:
        return await p.locator("#inspect-form input[type=checkbox]").count() > 0

    await until(phone.page, inspection_url, checklist_ready, "inspection checklist")
    assert await phone.page.locator("#media").get_attribute("capture") == "environment"
    for box in await phone.page.locator("#inspect-form input[type=checkbox]").all():
        await box.check()
    await phone.page.set_input_files("#media", photo(tmp_path, "evidence.jpg"))
    await phone.page.locator("#media-keys li").first.wait_for()
    await check_page(phone, "inspection", "ja")
    await phone.page.locator("#submit-inspection").click()
    await phone.page.get_by_text("検品に合格しました。").wait_for()
    mark("inspect on a phone with a photo upload")

    # The label: FedEx bought by the workflow; staff print it from the shipment page.
    async def shipment_link(p: Any) -> bool:
        return await p.locator("a[href^='/console/shipments/']").count() > 0

    await until(page, order_url, shipment_link, "shipment created")
    await page.goto(order_url)
    await check_page(tab, "order", "ja")
    shipment_url = await page.locator("a[href^='/console/shipments/']").first.get_attribute("href")
    assert shipment_url

    async def label_ready(p: Any) -> bool:
        return await p.locator("#print-label").count() > 0

    await until(page, shipment_url, label_ready, "label bought")
    pdf = await page.request.get(await page.locator("#print-label").get_attribute("href"))
    assert pdf.ok and (await pdf.body()).startswith(b"%PDF")
    await check_page(tab, "shipment", "ja")
    await page.goto("/console/shipments")
    await check_page(tab, "shipments", "ja")
    in_transit = await today(page)
    assert in_transit["inspections"] == counts["inspections"]
    assert in_transit["transit"] + in_transit["labels"] == counts["transit"] + counts["labels"] + 1
    mark("print the label (Today: -1 to inspect, +1 shipping)")

    # Tracking: the parcel is delivered (emulator); the tracking refresh runs from Operations.
    await page.goto(shipment_url)
    tracking = (await page.locator("#tracking-number").inner_text()).strip()
    async with httpx.AsyncClient(base_url=clean_sandbox.base_url) as http:
        advanced = await http.post(
            "/_sandbox/fedex/advance", json={"tracking_number": tracking, "to": "delivered"}
        )
        advanced.raise_for_status()

    async def delivered(p: Any) -> bool:
        await p.goto("/console/operations")
        row = p.get_by_role("row").filter(has_text="tracking-refresh")
        await row.get_by_role("button", name=re.compile("今すぐ実行")).click()
        await p.get_by_text("スケジュールを更新しました。").wait_for()
        await p.goto(order_url)
        return await p.locator(".badge").first.inner_text() in ("配達済み", "完了")

    await until(page, order_url, delivered, "delivered")
    done = await today(page)
    assert done["transit"] + done["labels"] == counts["transit"] + counts["labels"]
    mark("tracking to delivered (Today: -1 shipping)")

    # Every page in both languages, with the keyboard and label checks.
    pages = {
        "today": "/console",
        "products": "/console/products",
        "product-new": "/console/products/new",
        "product": product_url,
        "listings": "/console/listings",
        "listing-review": f"/console/listings/{product_id}",
        "orders": "/console/orders",
        "order": order_url,
        "inspections": "/console/inspections",
        "inspection": inspection_url,
        "shipments": "/console/shipments",
        "shipment": shipment_url,
        "operations": "/console/operations",
    }
    english: Tab = await open_tab("en")
    await sign_in(
        english,
        admin,
        secret,
        timecode,  # the first sign-in's step: the next code must be newer
        at_two_factor=lambda: check_page(english, "two-factor", "en"),
    )
    for name, url in pages.items():
        await english.page.goto(url)
        await check_page(english, name, "en")
    await english.page.goto("/console/logout")  # GET: not allowed, a page in English
    for lang, target in (("en", english), ("ja", tab)):
        await target.context.clear_cookies()
        await target.context.add_cookies([{"name": "lang", "value": lang, "url": console_url}])
        await target.page.goto("/console/login")
        await check_page(target, "login", lang)
    mark("every page in English, keyboard and label checks")

    with capsys.disabled():
        print(f"\nbusiness day in the browser: {time.monotonic() - started:.1f} s")
        for name, seconds in steps:
            print(f"  {seconds:6.1f} s  {name}")


async def test_cancel_an_order_with_a_reason(open_tab, make_user, clean_sandbox, settings):
    from tests.workflows.test_fulfillment import make_product

    ebay_order_id = import_order(
        clean_sandbox,
        make_product(settings, quantity=1),
        country_code="DE",
        buyer_email="kim@example.de",
    )
    tab: Tab = await open_tab("en")
    page = tab.page
    await sign_in(tab, await make_user("staff"))
    await fetch_order(page, ebay_order_id)
    await page.get_by_role("button", name="Cancel and refund").click()
    assert await page.locator("#e-reason").inner_text() == "This field is required."
    await page.get_by_label("Reason (sent with the refund)").fill("Out of stock at the warehouse")
    await page.get_by_role("button", name="Cancel and refund").click()
    await page.get_by_text("The order is being cancelled and refunded.").wait_for()
    order_url = page.url

    async def cancelled(p: Any) -> bool:
        return await p.locator(".badge").first.inner_text() in ("Cancelled", "Refunded")

    await until(page, order_url, cancelled, "order cancelled")

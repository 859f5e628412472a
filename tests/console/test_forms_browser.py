"""Bad input in a real browser: field errors in the page's language next to each field, what
was typed kept, nothing saved; a refused upload says why and the next try works."""

from __future__ import annotations

import pytest

from tests.console.conftest import sign_in
from tests.console.test_business_day import photo

pytestmark = pytest.mark.timeout(180)

EXPECTED = {
    "ja": {
        "new": "新規商品",
        "create": "商品を登録",
        "sku": "形式が正しくありません。",
        "title_ja": "この項目は必須です。",
        "price_jpy": "1以上の数値を入力してください。",
        "failed": "アップロードに失敗しました:",
        "done": "アップロードしました。",
    },
    "en": {
        "new": "New product",
        "create": "Create product",
        "sku": "The format is not valid.",
        "title_ja": "This field is required.",
        "price_jpy": "Enter a number of at least 1.",
        "failed": "Upload failed:",
        "done": "Uploaded.",
    },
}


@pytest.mark.parametrize("lang", ["ja", "en"])
async def test_product_form_errors_keep_what_was_typed(open_tab, make_user, lang, tmp_path):
    words = EXPECTED[lang]
    tab = await open_tab(lang)
    page = tab.page
    await sign_in(tab, await make_user("staff"))
    await page.goto("/console/products")
    await page.get_by_role("link", name=words["new"]).click()
    await page.locator("#f-sku").fill("BAD SKU!")
    await page.locator("#f-brand").fill("Seiko")
    await page.locator("#f-price_jpy").fill("0")
    await page.get_by_role("button", name=words["create"]).click()
    for name in ("sku", "title_ja", "price_jpy"):
        error = page.locator(f"#e-{name}")
        assert await error.inner_text() == words[name]
        assert await page.locator(f"#f-{name}").get_attribute("aria-invalid") == "true"
    assert await page.locator("#f-sku").input_value() == "BAD SKU!"
    assert await page.locator("#f-brand").input_value() == "Seiko"
    await page.goto("/console/products?q=BAD%20SKU")
    assert await page.locator("tbody a").count() == 0  # nothing half-saved

    # A valid product; then a refused upload (GIF is not accepted), then a good one.
    await page.goto("/console/products/new")
    sku = f"FORM-{lang}-{tmp_path.name[-6:]}".replace("_", "-")
    await page.locator("#f-sku").fill(sku)
    await page.locator("#f-title_ja").fill("テスト商品")
    await page.locator("#f-price_jpy").fill("1200")
    await page.get_by_role("button", name=words["create"]).click()
    await page.locator("#photo").wait_for()
    gif = tmp_path / "wrong.gif"
    gif.write_bytes(b"GIF89a\x01\x00\x01\x00\x00\x00\x00;")
    await page.set_input_files("#photo", gif)
    status = page.locator(".upload-status")
    await page.wait_for_function(
        "() => document.querySelector('[data-upload]').dataset.state === 'failed'"
    )
    assert (await status.inner_text()).startswith(words["failed"])
    assert "content_type" in await status.inner_text()
    assert [p for p in tab.problems if "422" in p and "/upload-url" in p]  # the refusal itself
    tab.problems.clear()
    async with page.expect_navigation():
        await page.set_input_files("#photo", photo(tmp_path))
    await page.locator("#thumbs img").first.wait_for()
    assert await page.locator("#thumbs img").count() == 1

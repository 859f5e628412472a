"""Sign-in in a real browser: password + TOTP by keyboard only, a recovery code, wrong
passwords answered in the page's language with the email kept, role-aware navigation."""

from __future__ import annotations

import re

import pytest

from tests.console.conftest import check_page, enable_two_factor, sign_in

pytestmark = pytest.mark.timeout(180)


async def test_two_factor_sign_in_by_keyboard(open_tab, make_user, console_url):
    admin = await make_user("admin")
    secret, timecode = await enable_two_factor(console_url, admin)
    tab = await open_tab("ja")
    page = tab.page
    await page.goto("/console/login")
    await check_page(tab, "login", "ja")
    await page.goto("/console/login")
    await page.get_by_label("メールアドレス").fill(admin.email)
    await page.get_by_label("パスワード").fill(admin.password)
    await page.get_by_role("button", name="サインイン").click()
    await page.wait_for_url("**/console/login/two-factor")
    await check_page(tab, "two-factor", "ja")
    before = await tab.context.cookies()
    await sign_in(tab, admin, secret, timecode)
    after = await tab.context.cookies()
    session = next(c for c in after if c["name"] == "wd_console")
    assert session["httpOnly"] and session["sameSite"] == "Lax"
    assert session["value"] not in {c["value"] for c in before}  # a new ID after sign-in
    nav = await page.get_by_role("navigation", name="メイン").inner_text()
    for item in ("今日", "商品", "出品レビュー", "注文", "検品", "出荷", "運用"):
        assert item in nav
    await page.get_by_role("button", name="サインアウト").click()
    await page.wait_for_url("**/console/login")
    await page.goto("/console")
    await page.wait_for_url(re.compile(r".*/console/login.*"))


async def test_wrong_password_in_each_language_keeps_the_email(open_tab, make_user):
    staff = await make_user("staff")
    for lang, email_label, message in (
        ("ja", "メールアドレス", "メールアドレスまたはパスワードが正しくありません。"),
        ("en", "Email", "Email or password is incorrect."),
    ):
        tab = await open_tab(lang)
        page = tab.page
        await page.goto("/console/login")
        await page.get_by_label(email_label).fill(staff.email)
        await page.locator("#f-password").fill("not the password at all")
        await page.locator("#f-password").press("Enter")
        await page.get_by_text(message).wait_for()
        assert await page.get_by_label(email_label).input_value() == staff.email
        await page.get_by_label(email_label).fill("")
        await page.locator("#f-password").press("Enter")
        required = "この項目は必須です。" if lang == "ja" else "This field is required."
        await page.locator("#e-email").get_by_text(required).wait_for()


async def test_inspector_sees_only_their_pages(open_tab, make_user):
    inspector = await make_user("inspector")
    tab = await open_tab("en")
    await sign_in(tab, inspector)
    nav = await tab.page.get_by_role("navigation", name="Main").inner_text()
    assert "Inspection" in nav and "Orders" in nav
    assert "Products" not in nav and "Operations" not in nav
    response = await tab.page.goto("/console/operations")
    assert response.status == 403
    await tab.page.get_by_text("Your role does not allow this.").wait_for()

"""Accounts in a real browser, on the real worker and the SendGrid emulator: an admin invites a
user, who opens the emailed link, sets a password, "scans" the QR code (reads the secret from the
page), confirms a code, keeps the recovery codes and signs in with two-factor; the account page
(two-factor on, new recovery codes, off); password reset by emailed link; each user-management
action with its field error on bad input; provider health. Every new page is checked for labels
and keyboard reach and screenshotted in both languages."""

from __future__ import annotations

import asyncio
import re
import time
import uuid

import httpx
import pytest

from tests.api.conftest import Account, next_code
from tests.console.accounts import emailed_link
from tests.console.conftest import Tab, check_page, enable_two_factor, sign_in

pytestmark = pytest.mark.timeout(300)
NEW_PASSWORD = "my own passphrase 2026"
WRONG = {
    "ja": "コードが正しくないか、すでに使用されています。",
    "en": "The code is incorrect or was already used.",
}
WORDS = {
    "ja": {"invited": "招待中", "on": "オン", "off": "オフ"},
    "en": {"invited": "invited", "on": "on", "off": "off"},
}


async def usable_code(secret: str, used: int) -> tuple[str, int]:
    """A code newer than the last one used that the server still accepts: its one-step drift
    window admits the next step, so when the last used code was already a step ahead of the
    clock, wait for the clock to reach it (at most one 30 s step)."""
    while int(time.time() // 30) < used:  # noqa: ASYNC110 - waiting on the wall clock
        await asyncio.sleep(0.5)
    return next_code(secret, used)


async def _invite(tab: Tab, email: str, lang: str) -> None:
    page = tab.page
    await page.goto("/console/operations")
    form = page.locator("form[action='/console/operations/users']")
    await form.locator("#f-email").fill(email)
    await form.locator("#f-full_name").fill("Invited Person")
    await form.locator("#f-role").select_option("inspector")
    await form.locator("button[type=submit]").click()
    await page.wait_for_url(re.compile(r".*/console/operations/users/[0-9a-f-]+$"))
    await page.locator("#member-state").get_by_text(WORDS[lang]["invited"]).wait_for()
    await check_page(tab, "user", lang)


@pytest.mark.parametrize("lang", ["ja", "en"])
async def test_invitation_accepted_end_to_end(open_tab, make_user, clean_sandbox, lang):
    admin = await make_user("admin")
    admin_tab = await open_tab(lang)
    await sign_in(admin_tab, admin)
    email = f"invitee-{uuid.uuid4().hex[:8]}@theworlddoor.example"
    await _invite(admin_tab, email, lang)
    link = await emailed_link(clean_sandbox.base_url, email, "invitation_url")
    assert "/console/invitation?token=" in link

    tab = await open_tab(lang)
    page = tab.page
    await page.goto(link)
    await page.wait_for_url(re.compile(r".*/console/invitation$"))  # the token left the URL
    assert "token=" not in page.url
    await page.locator(".qr svg").wait_for()
    await check_page(tab, "invitation", lang)
    secret = (await page.locator("#totp-secret").inner_text()).strip()

    # Bad input first: a short password and a different repeat, kept on the page as errors.
    await page.locator("#f-new_password").fill("short")
    await page.locator("#f-repeat_password").fill("other")
    await page.locator("#f-code").fill("123456")
    await page.locator("#f-code").press("Enter")
    await page.locator("#e-new_password").wait_for()
    await page.locator("#f-new_password").fill(NEW_PASSWORD)
    await page.locator("#f-repeat_password").fill(NEW_PASSWORD)
    await page.locator("#f-code").fill("000000")
    await page.locator("#f-code").press("Enter")
    await page.locator("#e-code").get_by_text(WRONG[lang]).wait_for()

    # Keyboard only from here: the password fields, then the code from the "scanned" secret.
    code, timecode = next_code(secret)
    await page.locator("#f-new_password").focus()
    await page.keyboard.type(NEW_PASSWORD)
    await page.keyboard.press("Tab")
    await page.keyboard.type(NEW_PASSWORD)
    await page.locator("#f-code").focus()
    await page.keyboard.type(code)
    await page.keyboard.press("Enter")
    codes = page.locator("ul.codes li")
    await codes.first.wait_for()
    assert await codes.count() == 10
    await check_page(tab, "recovery-codes", lang)
    await page.locator("a.button.primary").click()
    await page.wait_for_url("**/console")
    nav = await page.get_by_role("navigation").inner_text()
    assert ("検品" if lang == "ja" else "Inspection") in nav

    await page.locator("form[action='/console/logout'] button").click()
    await page.wait_for_url("**/console/login")
    account = Account(id="", email=email, password=NEW_PASSWORD, role="inspector")
    await sign_in(tab, account, secret, timecode)

    # The link is used up: opening it again says so, in the page's language.
    again = await open_tab(lang)
    await again.page.goto(link)
    used = "すでに使われたか" if lang == "ja" else "already used"
    await again.page.get_by_text(re.compile(used)).wait_for()


@pytest.mark.parametrize("lang", ["ja", "en"])
async def test_account_two_factor_and_password_reset(
    open_tab, make_user, clean_sandbox, console_url, lang
):
    staff = await make_user("staff")
    tab = await open_tab(lang)
    page = tab.page
    await sign_in(tab, staff)
    await page.locator("a.who").click()
    await page.wait_for_url("**/console/account")
    await check_page(tab, "account", lang)
    await page.locator("form[action='/console/account/two-factor/enrol'] button").click()
    await page.locator(".qr svg").wait_for()
    await check_page(tab, "account-two-factor", lang)
    secret = (await page.locator("#totp-secret").inner_text()).strip()
    await page.locator("#f-code").fill("000000")
    await page.locator("#f-code").press("Enter")
    await page.locator("#e-code").get_by_text(WRONG[lang]).wait_for()
    code, timecode = next_code(secret)
    await page.locator("#f-code").fill(code)
    await page.locator("#f-code").press("Enter")
    await page.locator("ul.codes li").first.wait_for()
    first_codes = await page.locator("ul.codes li").all_inner_texts()
    await page.locator("a.button.primary").click()
    await page.wait_for_url("**/console/account")
    assert await page.locator("#two-factor-state").inner_text() == WORDS[lang]["on"]

    code, timecode = await usable_code(secret, timecode)
    await page.locator("#f-recovery-code").fill(code)
    await page.locator("#f-recovery-code").press("Enter")
    await page.locator("ul.codes li").first.wait_for()
    assert set(await page.locator("ul.codes li").all_inner_texts()).isdisjoint(first_codes)
    await page.locator("a.button.primary").click()

    await page.locator("#f-off-password").fill("not my password at all")
    await page.locator("#f-off-code").fill("123456")
    await page.locator("#f-off-code").press("Enter")
    await page.locator("#e-off-password").wait_for()
    await page.locator("#f-off-password").fill(staff.password)
    code, timecode = await usable_code(secret, timecode)
    await page.locator("#f-off-code").fill(code)
    await page.locator("#f-off-code").press("Enter")
    await page.wait_for_url("**/console/account")
    await page.locator("#two-factor-state").get_by_text(WORDS[lang]["off"]).wait_for()

    # Password reset: the sign-in page's link, the emailed link, the console's page.
    await page.locator("form[action='/console/logout'] button").click()
    await page.wait_for_url("**/console/login")
    await page.locator("a[href='/console/reset-password']").click()
    await page.wait_for_url("**/console/reset-password")  # the Tab check runs on the new page
    await check_page(tab, "reset-request", lang)
    await page.locator("#f-email").fill(staff.email)
    await page.locator("#f-email").press("Enter")
    await page.locator("p.flash[role=status]").wait_for()
    link = await emailed_link(clean_sandbox.base_url, staff.email, "reset_url")
    assert link.startswith(f"{console_url}/console/reset-password/confirm?token=")
    await page.goto(link)
    await page.wait_for_url(re.compile(r".*/console/reset-password/confirm$"))
    await check_page(tab, "reset-confirm", lang)
    await page.locator("#f-new_password").fill(NEW_PASSWORD)
    await page.locator("#f-repeat_password").fill("something else entirely")
    await page.locator("#f-repeat_password").press("Enter")
    await page.locator("#e-repeat_password").wait_for()
    await page.locator("#f-new_password").fill(NEW_PASSWORD)
    await page.locator("#f-repeat_password").fill(NEW_PASSWORD)
    await page.locator("#f-repeat_password").press("Enter")
    await page.wait_for_url("**/console/login?changed=1")
    staff.password = NEW_PASSWORD
    await sign_in(tab, staff)


async def test_each_user_management_action(open_tab, make_user, console_url, settings):
    admin = await make_user("admin")
    target = await make_user("staff")
    await enable_two_factor(console_url, target)
    async with httpx.AsyncClient(base_url=console_url) as http:  # lock the target out
        for _ in range(settings.login_max_failures):
            await http.post("/api/auth/login", json={"email": target.email, "password": "nope!!"})
    tab = await open_tab("en")
    page = tab.page
    await sign_in(tab, admin)
    await page.goto("/console/operations")
    await page.get_by_role("link", name=target.email).click()
    await page.wait_for_url(f"**/console/operations/users/{target.id}")
    state = page.locator("#member-state")
    assert await state.inner_text() == "locked"

    await page.locator("#f-full_name").fill("x" * 201)
    await page.locator("#f-full_name").press("Enter")
    await page.locator("#e-full_name").get_by_text("Enter at most 200 characters.").wait_for()
    assert await page.locator("#f-full_name").input_value() == "x" * 201  # kept
    await page.locator("#f-full_name").fill("Taro Renamed")
    await page.locator("#f-full_name").press("Enter")
    await page.get_by_text("The name is saved.").wait_for()

    await page.locator("#f-role").select_option("inspector")
    await page.locator("form[action$='/role'] button").click()
    await page.get_by_text("The role is changed.").wait_for()

    await page.locator("form[action$='/unlock'] button").click()
    await page.get_by_text("The account is unlocked.").wait_for()
    assert await state.inner_text() == "active"

    assert await page.locator("#member-two-factor").inner_text() == "on"
    await page.locator("form[action$='/two-factor-reset'] button").click()
    await page.get_by_text(re.compile("Two-factor is reset")).wait_for()
    assert await page.locator("#member-two-factor").inner_text() == "off"

    await page.locator("form[action$='/deactivate'] button").click()
    await page.get_by_text("The account is deactivated.").wait_for()
    assert await state.inner_text() == "deactivated"
    async with httpx.AsyncClient(base_url=console_url) as http:
        users = await http.post(
            "/api/auth/login", json={"email": admin.email, "password": admin.password}
        )
        token = users.json()["access_token"]
        row = await http.get(
            f"/api/users/{target.id}", headers={"Authorization": f"Bearer {token}"}
        )
    body = row.json()
    assert body["full_name"] == "Taro Renamed" and body["role"] == "inspector"
    assert body["is_active"] is False and body["two_factor_enabled"] is False

    # Refusals on one's own account, shown beside the control, nothing changed.
    await page.goto(f"/console/operations/users/{admin.id}")
    await page.locator("#f-role").select_option("staff")
    await page.locator("form[action$='/role'] button").click()
    await page.locator("#e-role").get_by_text(re.compile("cannot change the role")).wait_for()
    await page.locator("form[action$='/deactivate'] button").click()
    await page.locator("#e-deactivate").get_by_text(re.compile("cannot deactivate")).wait_for()
    assert await page.locator("#member-state").inner_text() == "active"


@pytest.mark.parametrize("lang", ["ja", "en"])
async def test_operations_shows_provider_health(open_tab, make_user, lang):
    admin = await make_user("admin")
    tab = await open_tab(lang)
    await sign_in(tab, admin)
    page = tab.page
    await page.goto("/console/operations")
    table = page.locator("table.health")
    name = "データベース" if lang == "ja" else "Database"
    database = table.get_by_role("row").filter(has=page.get_by_role("cell", name=name, exact=True))
    assert "reachable, migrated" in await database.inner_text()
    assert await database.locator("td.ok").count() == 1
    assert await table.locator("tbody tr").count() == 12
    await page.locator("form[action='/console/operations/health'] button").click()
    await page.wait_for_url("**/console/operations")
    await check_page(tab, "operations", lang)

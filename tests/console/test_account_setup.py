"""Setup steps in the console: the first admin's printed password must be changed at first
sign-in (browser), and where admins must have two-factor (production) an admin without it is
sent to the account page to enrol and may not turn it off (HTTP)."""

from __future__ import annotations

import re
import uuid

import anyio.to_thread
import pytest

from tests.api.conftest import PASSWORD, Account
from tests.console.conftest import csrf_from, next_code, sign_in

pytestmark = pytest.mark.timeout(180)


async def test_first_admin_changes_the_printed_password(open_tab, settings, migrated_db):
    from api.accounts import create_admin

    email = f"first-admin-{uuid.uuid4().hex[:8]}@theworlddoor.example"
    _, printed = await anyio.to_thread.run_sync(lambda: create_admin(settings, email, None))
    admin = Account(id="", email=email, password=printed, role="admin")
    tab = await open_tab("en")
    page = tab.page
    await page.goto("/console/login")
    await page.locator("#f-email").fill(email)
    await page.locator("#f-password").fill(printed)
    await page.locator("#f-password").press("Enter")
    await page.wait_for_url("**/console/password")
    await page.get_by_text(re.compile("Your password was issued to you")).wait_for()
    await page.goto("/console/operations")  # nothing else opens until it is changed
    await page.wait_for_url("**/console/password")
    await page.locator("#f-current_password").fill(printed)
    await page.locator("#f-new_password").fill(PASSWORD)
    await page.locator("#f-new_password").press("Enter")
    await page.wait_for_url("**/console/login?changed=1")
    admin.password = PASSWORD
    await sign_in(tab, admin)  # straight to Today
    assert (await page.goto("/console/operations")).status == 200


async def _form_login(client, account) -> str:
    page = await client.get("/console/login")
    answer = await client.post(
        "/console/login",
        data={
            "_csrf_token": csrf_from(page.text),
            "email": account.email,
            "password": account.password,
        },
        follow_redirects=False,
    )
    assert answer.status_code == 303, answer.text
    return answer.headers["location"]


async def test_admin_without_two_factor_enrols_first_where_required(make_client, make_user):
    admin = await make_user("admin")
    async with make_client(admin_two_factor_required=True) as client:
        assert await _form_login(client, admin) == "/console/account"
        blocked = await client.get("/console/products", follow_redirects=False)
        assert blocked.status_code == 303 and blocked.headers["location"] == "/console/account"
        account = await client.get("/console/account")
        assert account.status_code == 200
        assert 'action="/console/account/two-factor/enrol"' in account.text
        enrol = await client.post(
            "/console/account/two-factor/enrol", data={"_csrf_token": csrf_from(account.text)}
        )
        assert enrol.status_code == 200 and "<svg" in enrol.text
        secret = re.search(r'id="totp-secret"[^>]*>([A-Z2-7]+)<', enrol.text).group(1)
        wrong = await client.post(
            "/console/account/two-factor/confirm",
            data={"_csrf_token": csrf_from(enrol.text), "code": "000000"},
        )
        assert wrong.status_code == 400 and secret in wrong.text  # same secret, field error
        code, _ = next_code(secret)
        done = await client.post(
            "/console/account/two-factor/confirm",
            data={"_csrf_token": csrf_from(enrol.text), "code": code},
        )
        assert done.status_code == 200 and done.text.count("<li><code>") == 10
        assert (await client.get("/console/products")).status_code == 200
        after = await client.get("/console/account")
        assert 'action="/console/account/two-factor/disable"' not in after.text  # must keep it

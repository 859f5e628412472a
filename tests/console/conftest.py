"""Console fixtures: one app server (uvicorn in a thread, on the real worker, Temporal dev
server, sandbox and database) and one headless Debian Chromium per test session.

Chromium missing: the browser tests skip, or fail under REQUIRE_SERVICES=1."""

from __future__ import annotations

import asyncio
import os
import re
import shutil
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pyotp
import pytest

from tests.api.conftest import (  # noqa: F401
    PASSWORD,
    Account,
    Server,
    app_settings,
    client,
    free_port,
    logged_in,
    login,
    make_client,
    make_user,
    next_code,
    worker,
)

CSRF = re.compile(r'name="_csrf_token" value="([^"]+)"')
CHROMIUM = os.environ.get("CHROMIUM_PATH") or shutil.which("chromium") or "/usr/bin/chromium"
SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
PHONE = {"width": 390, "height": 664}
FOCUSABLE = "a[href], button, input:not([type=hidden]), select, textarea, summary"
MACHINE_VALUE = re.compile(r"\b(?:[a-z]+(?:_[a-z]+)+|[A-Z]+(?:_[A-Z]+)+)\b")
"""A status, step, condition or carrier service as the code spells it (`uploading_tracking`,
`FEDEX_INTERNATIONAL_PRIORITY`): the pages show words from the catalogs or the carrier's quote
instead (identifiers for developers in `<code>` and a vendor's or the SDK's own error text in
`<samp>` aside)."""


def csrf_from(html: str) -> str:
    found = CSRF.search(html)
    assert found, "no CSRF field in the page"
    return found.group(1)


@pytest.fixture(scope="session")
async def browser() -> AsyncIterator[Any]:
    if not os.path.exists(CHROMIUM):  # noqa: ASYNC240 - once per session
        if os.environ.get("REQUIRE_SERVICES") == "1":
            raise RuntimeError(f"REQUIRE_SERVICES=1 but Chromium is not at {CHROMIUM}")
        pytest.skip("Chromium is not installed (apt-get install chromium fonts-noto-cjk)")
    from playwright.async_api import async_playwright

    async with async_playwright() as playwright:
        chromium = await playwright.chromium.launch(
            executable_path=CHROMIUM, args=["--no-sandbox"], headless=True
        )
        yield chromium
        await chromium.close()


@pytest.fixture(scope="session")
async def console_url(worker, temporal_env, sandbox, settings, migrated_db) -> AsyncIterator[str]:  # noqa: F811
    """The whole app under uvicorn, with the schedules, for the browser."""
    from adapters.s3 import Storage
    from api.app import create_app
    from schedules import delete_schedules, ensure_schedules

    port = free_port()
    app_config = app_settings(
        settings,
        temporal_address=temporal_env.client.service_client.config.target_host,
        temporal_task_queue=worker.task_queue,
        public_base_url=f"http://127.0.0.1:{port}",
        # Every browser test signs in from 127.0.0.1 on this one server: the per-client limits
        # would be spent by the suite itself (they are tested in tests/api/test_protection.py).
        rate_limit_two_factor=1000,
        rate_limit_login=1000,
        rate_limit_public=5000,
        # The Today page must show a workflow stuck a moment ago, not the scan of the previous
        # page load (reused for 10 s by default; the reuse is tested in test_running_scan.py).
        workflow_scan_seconds=0,
    )
    # The bucket's CORS admits the console's origin (the browser posts files straight to it).
    Storage(app_config).ensure_bucket()
    # Paused, so no schedule fires during other tests; "Run now" still runs a paused one.
    await ensure_schedules(worker.client, app_config, paused_on_create=True)
    with Server(create_app(app_config), port):
        yield f"http://127.0.0.1:{port}"
    await delete_schedules(worker.client)


@dataclass
class Tab:
    """A browser context + page that records console errors and failed requests (a CSP
    violation or a 404 asset shows up here)."""

    page: Any
    context: Any
    problems: list[str] = field(default_factory=list)


@pytest.fixture
async def open_tab(browser, console_url) -> AsyncIterator[Any]:
    tabs: list[Tab] = []

    async def factory(
        lang: str = "ja", viewport: dict[str, int] | None = None, **extra: Any
    ) -> Tab:
        context = await browser.new_context(
            base_url=console_url,
            locale="ja-JP" if lang == "ja" else "en-US",
            viewport=viewport or {"width": 1280, "height": 900},
            **extra,
        )
        await context.add_cookies([{"name": "lang", "value": lang, "url": console_url}])
        page = await context.new_page()
        tab = Tab(page, context)
        # Pages answer form errors with 400 on purpose, which Chromium logs as a failed load:
        # count failed loads of anything but the page itself instead.
        page.on(
            "console",
            lambda m: (
                tab.problems.append(f"console: {m.text}")
                if m.type == "error" and not m.text.startswith("Failed to load resource")
                else None
            ),
        )
        page.on(
            "response",
            lambda r: (
                tab.problems.append(f"{r.status} {r.url}")
                if r.status >= 400 and r.request.resource_type != "document"
                else None
            ),
        )
        page.on("pageerror", lambda e: tab.problems.append(f"pageerror: {e}"))
        tabs.append(tab)
        return tab

    yield factory
    for tab in tabs:
        await tab.context.close()
    for tab in tabs:
        assert not tab.problems, tab.problems


async def sign_in(
    tab: Tab,
    account: Account,
    secret: str | None = None,
    after: int | None = None,
    at_two_factor: Callable[[], Awaitable[None]] | None = None,
) -> int | None:
    """Keyboard only: Tab to each field, type, Enter."""
    page = tab.page
    await page.goto("/console/login")
    await page.get_by_label(re.compile("メールアドレス|Email")).focus()
    await page.keyboard.type(account.email)
    await page.keyboard.press("Tab")
    await page.keyboard.type(account.password)
    await page.keyboard.press("Enter")
    if secret is None:
        await page.wait_for_url("**/console")
        return None
    await page.wait_for_url("**/console/login/two-factor")
    if at_two_factor is not None:
        await at_two_factor()
    # The field has autofocus; focusing it again is what a keyboard user's Tab would do, and keeps
    # the typing from landing nowhere when a loaded machine applies autofocus late.
    await page.locator("#f-code").focus()
    code, timecode = next_code(secret, after)
    step = pyotp.TOTP(secret).interval
    if timecode - int(time.time() // step) > 1:
        # the server takes a code one step ahead at most: wait until the clock allows this one
        await asyncio.sleep((timecode - 1) * step - time.time() + 0.5)
    await page.keyboard.type(code)
    await page.keyboard.press("Enter")
    await page.wait_for_url("**/console")
    return timecode


async def enable_two_factor(base_url: str, account: Account) -> tuple[str, int]:
    """Through the JSON API, as a user would enrol from their authenticator app."""
    async with httpx.AsyncClient(base_url=base_url, timeout=30) as http:
        await login(http, account)
        enrol = await http.post("/api/auth/two-factor/enrol", headers=account.headers)
        enrol.raise_for_status()
        secret = enrol.json()["secret"]
        code, timecode = next_code(secret)
        confirm = await http.post(
            "/api/auth/two-factor/confirm", headers=account.headers, json={"code": code}
        )
        confirm.raise_for_status()
    return secret, timecode


async def check_page(tab: Tab, name: str, lang: str) -> None:
    """Every form control has a label, every control is reachable with Tab, no machine value is
    shown as the code spells it, and a screenshot."""
    page = tab.page
    text = await page.evaluate(
        """() => { const walk = document.createTreeWalker(document.querySelector('main'),
                                                         NodeFilter.SHOW_TEXT);
           const parts = [];
           while (walk.nextNode()) {
             const raw = walk.currentNode.parentElement.closest('code, samp');
             if (!raw) parts.push(walk.currentNode.data);
           }
           return parts.join(' '); }"""
    )
    shown = MACHINE_VALUE.findall(text)
    assert not shown, f"{name}: values shown untranslated: {sorted(set(shown))}"
    unlabelled = await page.evaluate(
        """() => [...document.querySelectorAll('input:not([type=hidden]), select, textarea')]
            .filter(e => !(e.labels && e.labels.length) && !e.getAttribute('aria-label'))
            .map(e => e.outerHTML)"""
    )
    assert not unlabelled, f"{name}: controls without a label: {unlabelled}"
    await page.evaluate(
        """() => { window.__seen = new Set();
           document.addEventListener('focusin', e => window.__seen.add(e.target)); }"""
    )
    total = await page.evaluate(
        "() => [...document.querySelectorAll('"
        + FOCUSABLE
        + "')]"
        + """
            .filter(e => e.checkVisibility() && !e.disabled).length"""
    )
    # Chromium gives a date field one Tab stop per part (year, month, day).
    date_parts = await page.evaluate(
        "() => document.querySelectorAll('input[type=date]').length * 2"
    )
    await page.locator("body").focus()
    for _ in range(total + date_parts + 3):
        await page.keyboard.press("Tab")
    missed = await page.evaluate(
        "() => [...document.querySelectorAll('"
        + FOCUSABLE
        + "')]"
        + """
            .filter(e => e.checkVisibility() && !e.disabled && !window.__seen.has(e))
            .filter(e => !(e.type === 'radio' && !e.checked))
            .map(e => e.outerHTML.slice(0, 120))"""
    )
    assert not missed, f"{name}: not reachable with Tab: {missed}"
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    await page.screenshot(path=str(SCREENSHOTS / f"{name}-{lang}.png"), full_page=True)


async def enable_two_factor_in_process(http: Any, account: Account) -> tuple[str, int]:
    """The same enrolment as enable_two_factor, on an in-process test client."""
    await login(http, account)
    enrol = await http.post("/api/auth/two-factor/enrol", headers=account.headers)
    enrol.raise_for_status()
    secret = enrol.json()["secret"]
    code, timecode = next_code(secret)
    confirm = await http.post(
        "/api/auth/two-factor/confirm", headers=account.headers, json={"code": code}
    )
    confirm.raise_for_status()
    return secret, timecode


async def until(page: Any, url: str, check: Callable[[Any], Awaitable[bool]], what: str) -> None:
    """Reload `url` until `check(page)` holds (the workflows run in the background)."""
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        await page.goto(url)
        if await check(page):
            return
        await asyncio.sleep(0.5)
    raise AssertionError(f"never reached: {what}")


async def fetch_order(page: Any, ebay_order_id: str) -> str:
    """Staff fetch eBay orders now; the order's page once it waits for inspection."""
    await page.goto("/console/orders")
    await page.get_by_role("button", name="Fetch eBay orders now").click()
    await page.get_by_text("Order sync started.").wait_for()

    async def inspecting(p: Any) -> bool:
        badges = p.locator("tbody .badge")
        return await badges.count() == 1 and await badges.inner_text() == "Inspecting"

    await until(page, f"/console/orders?q={ebay_order_id}", inspecting, "order inspecting")
    await page.get_by_role("link", name=ebay_order_id).click()
    await page.wait_for_url(re.compile(r".*/console/orders/[0-9a-f-]{36}$"))
    return str(page.url)

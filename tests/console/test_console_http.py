"""The console over HTTP without a browser: sessions beside JWT, CSRF, cookie flags, session
rotation at sign-in, the console CSP, /schema offline, and the catalogs."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from babel.messages.extract import extract_from_dir

from api.console.i18n import jst, money, translations
from api.console.labels import DYNAMIC
from tests.console.conftest import csrf_from, enable_two_factor_in_process, next_code

CONSOLE = Path(__file__).resolve().parents[2] / "api" / "console"


async def _form_login(client, account) -> None:
    page = await client.get("/console/login")
    token = csrf_from(page.text)
    answer = await client.post(
        "/console/login",
        data={"_csrf_token": token, "email": account.email, "password": account.password},
        follow_redirects=False,
    )
    assert answer.status_code == 303, answer.text


async def test_console_pages_need_a_session_not_a_token(client, logged_in):
    staff = await logged_in("staff")
    anonymous = await client.get("/console/products", follow_redirects=False)
    assert anonymous.status_code == 303
    assert anonymous.headers["location"] == "/console/login?next=/console/products"
    with_token = await client.get(
        "/console/products", headers=staff.headers, follow_redirects=False
    )
    assert with_token.status_code == 303  # a bearer token does not open the console
    assert "set-cookie" not in (await client.get("/api/auth/me", headers=staff.headers)).headers
    await _form_login(client, staff)
    assert (await client.get("/console/products")).status_code == 200
    client.headers.pop("Authorization", None)
    me = await client.get("/api/auth/me")  # the console cookie does not open the API
    assert me.status_code == 401


async def test_forms_need_the_csrf_token(client, make_user):
    staff = await make_user("staff")
    await client.get("/console/login")
    refused = await client.post(
        "/console/login", data={"email": staff.email, "password": staff.password}
    )
    assert refused.status_code == 403
    assert "text/html" in refused.headers["content-type"]
    assert "フォームの有効期限が切れました" in refused.text
    api = await client.post(
        "/api/auth/login", json={"email": staff.email, "password": staff.password}
    )
    assert api.status_code == 200  # the JSON API is outside CSRF (bearer tokens, no cookies)
    assert "set-cookie" not in api.headers


async def test_session_cookie_is_renewed_at_sign_in_and_ends_at_sign_out(client, make_user):
    staff = await make_user("staff")
    secret, timecode = await enable_two_factor_in_process(client, staff)
    await _form_login(client, staff)  # password step: a session holding only the step token
    before = client.cookies.get("wd_console")
    assert before
    page = await client.get("/console/login/two-factor")
    code, _ = next_code(secret, timecode)
    done = await client.post(
        "/console/login/two-factor",
        data={"_csrf_token": csrf_from(page.text), "code": code},
        follow_redirects=False,
    )
    assert done.status_code == 303 and done.headers["location"] == "/console"
    cookie = done.headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=lax" in cookie and "Path=/console" in cookie
    after = client.cookies.get("wd_console")
    assert after and after != before
    today = await client.get("/console")
    assert today.status_code == 200
    client.cookies.set("wd_console", before, path="/console")  # the pre-sign-in ID is dead
    assert (await client.get("/console", follow_redirects=False)).status_code == 303
    client.cookies.set("wd_console", after, path="/console")
    out = await client.post(
        "/console/logout", data={"_csrf_token": csrf_from(today.text)}, follow_redirects=False
    )
    assert out.status_code == 303
    client.cookies.set("wd_console", after, path="/console")
    assert (await client.get("/console", follow_redirects=False)).status_code == 303


async def test_console_csp_forbids_eval_and_inline_script(client):
    page = await client.get("/console/login")
    csp = page.headers["content-security-policy"]
    assert "unsafe-eval" not in csp and "unsafe-inline" not in csp
    assert "script-src 'self';" in csp
    assert "<script>" not in page.text and " on" not in page.text.split("<body>")[1].split("=")[0]


async def test_schema_is_served_without_a_cdn(client):
    page = await client.get("/schema")
    assert page.status_code == 200
    assert "/_docs/swagger-ui-bundle.js" in page.text
    assert "jsdelivr" not in page.text and "unpkg" not in page.text
    assert "https://" not in page.headers["content-security-policy"]
    bundle = await client.get("/_docs/swagger-ui-bundle.js")
    assert bundle.status_code == 200 and len(bundle.content) > 100_000


def test_every_console_message_has_a_japanese_translation():
    catalog = translations("ja")
    messages = [
        message
        for _, _, message, *_ in extract_from_dir(
            CONSOLE,
            method_map=[("**.py", "python"), ("templates/**.html", "jinja2")],
            options_map={"templates/**.html": {"extensions": "jinja2.ext.i18n"}},
            keywords={"_": None, "gettext": (2,), "N_": None},
        )
    ]
    assert len(messages) > 150
    missing = [m for m in messages if isinstance(m, str) and catalog.gettext(m) == m]
    assert not missing, missing


def test_every_machine_value_has_english_words():
    """Statuses, steps, roles, carriers and checks are identifiers in the code (`in_transit`);
    the English pages show words for them, as the Japanese ones do."""
    catalog = translations("en")
    values = [value for value in DYNAMIC if value == value.lower()]
    assert {"uploading_tracking", "in_transit", "like_new", "fedex", "picked_up"} <= set(values)
    unworded = [value for value in values if catalog.gettext(value) == value]
    assert not unworded, unworded
    assert catalog.gettext("uploading_tracking") == "Uploading tracking"
    assert catalog.gettext("Today") == "Today"  # page texts are the source language


def test_dates_in_japan_time_and_money_per_locale():
    moment = datetime(2025, 1, 31, 15, 30, tzinfo=UTC)
    assert jst(moment, "ja") == "2025/02/01 0:30:00"
    assert jst(moment, "en").startswith("Feb 1, 2025")
    assert money(1234567, "JPY", "ja") == "￥1,234,567"
    assert money(1234567, "JPY", "en") == "¥1,234,567"
    assert money("1234.5", "USD", "ja") == "$1,234.50"


async def test_orders_page_filters_by_carrier_and_received_day(client, make_user, settings):
    """The orders page's carrier and date fields reach the list route; a malformed date is a
    field error beside its field, and the rest of the filters still apply."""
    import anyio.to_thread

    from tests.api.test_order_routes import _insert_order

    staff = await make_user("staff")
    await _form_login(client, staff)
    fedex = await anyio.to_thread.run_sync(lambda: _insert_order(settings, "fedex"))
    yamato = await anyio.to_thread.run_sync(lambda: _insert_order(settings, "yamato"))
    page = await client.get(
        "/console/orders",
        params={"carrier": "yamato", "received_from": "2020-01-01", "received_to": "2999-12-31"},
    )
    assert page.status_code == 200
    assert yamato["ebay_order_id"] in page.text and fedex["ebay_order_id"] not in page.text
    future = await client.get("/console/orders", params={"received_from": "2999-01-01"})
    assert fedex["ebay_order_id"] not in future.text
    assert "<caption>注文 0件</caption>" in future.text  # the page asks for the exact count
    one = await client.get("/console/orders", params={"q": yamato["ebay_order_id"]})
    assert "<caption>注文 1件</caption>" in one.text
    bad = await client.get("/console/orders", params={"received_to": "31/12/2026", "lang": "en"})
    assert bad.status_code == 200
    assert 'id="e-received_to"' in bad.text and 'aria-invalid="true"' in bad.text


def test_received_days_are_whole_days_in_japan():
    from api.console.pages.orders import jst_day_bound

    errors: dict[str, str] = {}
    assert jst_day_bound("2026-12-02", "from", errors) == "2026-12-02T00:00:00+09:00"
    assert jst_day_bound("2026-12-02", "to", errors) == "2026-12-02T23:59:59.999999+09:00"
    assert jst_day_bound("", "to", errors) is None and not errors
    assert jst_day_bound("2026-13-40", "from", errors) is None
    assert errors == {"received_from": "The date is not valid."}


def test_setting_names_in_a_check_detail_are_code_and_the_rest_is_escaped():
    from api.console.i18n import setting_names

    shown = setting_names("APP_ENV=production needs <SENTRY_DSN> & S3_BUCKET")
    assert str(shown) == (
        "<code>APP_ENV</code>=production needs &lt;<code>SENTRY_DSN</code>&gt; &amp; "
        "<code>S3_BUCKET</code>"
    )

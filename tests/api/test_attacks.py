"""The attack suite: every hole found by attacking the API from outside (issue 14), kept closed.
Each test names the attack and the answer it got before; all run against the real app, the real
database and store (and the real Temporal dev server where an email must be started).

Webhook attacks (SendGrid replay window, eBay `kid`) are in tests/api/test_webhook_attacks.py."""

from __future__ import annotations

import contextlib
import uuid
from datetime import datetime
from typing import Any

import anyio.to_thread
import pytest
from litestar.routes import HTTPRoute
from temporalio.service import RPCError

from api.openapi_document import body_model
from api.pagination import MAX_OFFSET
from api.routes.temporal_codec import COOKIE
from api.security import notices, sessions
from tests.api.conftest import PASSWORD, login, next_code, visible
from tests.api.test_order_routes import _insert_order

LIST_ROUTES = ["/api/users", "/api/products", "/api/orders", "/api/inspections", "/api/shipments"]
PROBLEM = "application/problem+json"


def _deep(depth: int) -> bytes:
    return b"[" * depth + b"]" * depth


def _problem(response: Any, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith(PROBLEM)
    body = response.json()
    assert body["status"] == status and "Traceback" not in response.text
    return body


# 1. Inputs that answered 500 -------------------------------------------------------------------


async def test_huge_offset_on_every_list_route_is_a_400(client, logged_in):
    """Before: `?offset=9223372036854775808` -> 500 (OverflowError in the driver)."""
    admin = await logged_in("admin")
    for path in LIST_ROUTES:
        for query in ("offset=9223372036854775808", f"offset={MAX_OFFSET + 1}", "limit=201"):
            _problem(await client.get(f"{path}?{query}", headers=admin.headers), 400)
        edge = await client.get(f"{path}?offset={MAX_OFFSET}", headers=admin.headers)
        assert edge.status_code == 200 and edge.json()["items"] == []


async def test_deeply_nested_json_is_refused_before_parsing(client, logged_in):
    """Before: a 2 KB body nested 1,000 deep -> 500 (RecursionError), even unauthenticated."""
    headers = {"content-type": "application/json"}
    body = _deep(1000)
    assert len(body) == 2000
    public = await client.post("/api/auth/password-reset/confirm", content=body, headers=headers)
    assert "nested deeper" in _problem(public, 400)["detail"]
    login_attempt = await client.post(
        "/api/auth/login", content=b'{"email": ' + _deep(5000) + b"}", headers=headers
    )
    _problem(login_attempt, 400)
    staff = await logged_in("staff")
    nested_tags = b'{"sku": "DEEP-1", "title_ja": "x", "price_jpy": 1, "tags": ' + _deep(40) + b"}"
    create = await client.post(
        "/api/products", content=nested_tags, headers={**headers, **staff.headers}
    )
    _problem(create, 400)
    listed = await client.get("/api/products?q=DEEP-1", headers=staff.headers)
    assert listed.json()["total"] == 0  # nothing changed
    # Brackets inside strings are text, not nesting.
    fine = await client.post(
        "/api/products",
        json={"sku": "DEEP-2", "title_ja": "[[[[" * 50, "price_jpy": 1},
        headers=staff.headers,
    )
    assert fine.status_code == 201, fine.text


async def test_free_text_and_lists_are_bounded(client, logged_in):
    """Before: a single 5 MB tag was stored (201)."""
    staff = await logged_in("staff")
    base = {"sku": f"BIG-{uuid.uuid4().hex[:6]}", "title_ja": "t", "price_jpy": 100}
    attacks = [
        {"tags": ["x" * 5_000_000]},
        {"tags": ["x" * 51]},
        {"tags": ["ok"] * 31},
        {"tags": [""]},
        {"description_ja": "x" * 10_001},
    ]
    for extra in attacks:
        _problem(
            await client.post("/api/products", json={**base, **extra}, headers=staff.headers), 400
        )
    assert (await client.get(f"/api/products?q={base['sku']}", headers=staff.headers)).json()[
        "total"
    ] == 0
    created = await client.post(
        "/api/products", json={**base, "tags": ["x" * 50] * 30}, headers=staff.headers
    )
    assert created.status_code == 201


async def test_numbers_and_booleans_must_be_json_numbers_and_booleans(client, logged_in):
    """Before: `"price_jpy": "100"` was accepted (coerced to 100)."""
    admin = await logged_in("admin")
    base = {"sku": f"NUM-{uuid.uuid4().hex[:6]}", "title_ja": "t", "price_jpy": 100}
    for field, value in [
        ("price_jpy", "100"),
        ("price_jpy", 100.5),
        ("price_jpy", True),
        ("quantity", "1"),
        ("weight_g", "500"),
        ("length_cm", "20"),
    ]:
        response = await client.post(
            "/api/products", json={**base, field: value}, headers=admin.headers
        )
        _problem(response, 400)
    created = await client.post(
        "/api/products", json={**base, "length_cm": 20, "width_cm": 15.5}, headers=admin.headers
    )
    assert created.status_code == 201, created.text
    product = created.json()
    patch = await client.patch(
        f"/api/products/{product['id']}", json={"price_jpy": "200"}, headers=admin.headers
    )
    _problem(patch, 400)
    victim = await login(client, await _user(client, admin, "staff"))
    flag = await client.patch(
        f"/api/users/{victim.id}", json={"is_active": "false"}, headers=admin.headers
    )
    _problem(flag, 400)
    assert (await client.get("/api/auth/me", headers=victim.headers)).status_code == 200


async def _user(client, admin, role: str):
    """An account with a known password (accounts made through the API are invited instead)."""
    from api.accounts import create_user
    from config import get_settings
    from models import Role
    from tests.api.conftest import Account

    del client, admin
    email = f"{role}-{uuid.uuid4().hex[:8]}@theworlddoor.example"
    user, _ = await anyio.to_thread.run_sync(
        lambda: create_user(get_settings(), email, PASSWORD, Role(role))
    )
    return Account(id=str(user.id), email=email, password=PASSWORD, role=role)


async def test_unknown_body_fields_are_refused_not_ignored(client, logged_in):
    """Before: `{"full_name": "x", "role": "admin"}` on a profile edit answered 200 (role silently
    dropped); a NUL in any string was a 500 from PostgreSQL."""
    admin = await logged_in("admin")
    victim = await logged_in("staff")
    escalate = await client.patch(
        f"/api/users/{victim.id}", json={"full_name": "x", "role": "admin"}, headers=admin.headers
    )
    _problem(escalate, 400)
    nul = await client.post(
        "/api/products",
        json={"sku": f"NUL-{uuid.uuid4().hex[:6]}", "title_ja": "a\u0000b", "price_jpy": 1},
        headers=admin.headers,
    )
    assert "NUL" in _problem(nul, 400)["detail"]
    search = await client.get("/api/orders?q=%00", headers=admin.headers)
    _problem(search, 400)
    me = (await client.get("/api/auth/me", headers=victim.headers)).json()
    assert me["role"] == "staff" and me["full_name"] == ""


def _datetimes(value: Any, found: list[str]) -> list[str]:
    if isinstance(value, dict):
        for key, item in value.items():
            if key.endswith(("_at", "_until", "_time")) or key in {"next_runs", "last_run"}:
                items = item if isinstance(item, list) else [item]
                found.extend(i for i in items if isinstance(i, str))
            else:
                _datetimes(item, found)
    elif isinstance(value, list):
        for item in value:
            _datetimes(item, found)
    return found


async def test_every_datetime_in_responses_carries_its_offset(client, logged_in, settings):
    """Before: `2026-12-01T23:48:41.351413` (naive) - every schema violation schemathesis found."""
    admin = await logged_in("admin")
    _insert_order(settings)
    await client.post(
        "/api/products",
        json={"sku": f"TZ-{uuid.uuid4().hex[:6]}", "title_ja": "t", "price_jpy": 1},
        headers=admin.headers,
    )
    found: list[str] = []
    for path in LIST_ROUTES:
        _datetimes((await client.get(path, headers=admin.headers)).json(), found)
    assert len(found) > 5
    for value in found:
        assert datetime.fromisoformat(value).tzinfo is not None, value


def test_naive_datetimes_from_temporal_or_sqlite_are_given_utc():
    from models.types import UTCDateTime  # noqa: F401 - the type under test
    from schedules import ScheduleView

    view = ScheduleView(
        schedule_id="x",
        workflow="w",
        paused=False,
        next_runs=[datetime(2026, 12, 1, 23, 48, 41)],
        last_run=datetime(2026, 12, 1, 23, 0),
    )
    dumped = view.model_dump(mode="json")
    assert dumped["next_runs"][0].endswith("Z") or dumped["next_runs"][0].endswith("+00:00")
    assert dumped["last_run"].endswith(("Z", "+00:00"))


# 2. Revocation takes effect at once ------------------------------------------------------------


async def test_refresh_reuse_ends_the_access_tokens_at_once(client, make_user):
    """Before: the access token kept working for up to 15 minutes after reuse detection."""
    account = await login(client, await make_user("staff"))
    first = account.refresh_token
    rotated = await client.post("/api/auth/refresh", json={"refresh_token": first})
    new_access = rotated.json()["access_token"]
    assert (await client.get("/api/auth/me", headers=account.headers)).status_code == 200
    reuse = await client.post("/api/auth/refresh", json={"refresh_token": first})
    assert reuse.status_code == 401
    for token in (account.access_token, new_access):
        me = await client.get("/api/auth/me", headers={"Authorization": f"Bearer {token}"})
        _problem(me, 401)
    assert (await login(client, account)).access_token  # a fresh login works


@pytest.mark.parametrize("action", ["two_factor_reset", "role_change", "deactivate", "patch"])
async def test_admin_actions_end_the_users_access_tokens_at_once(client, logged_in, action):
    """Before: the victim's access token worked until it expired (two-factor reset kept it)."""
    admin = await logged_in("admin")
    victim = await logged_in("staff")
    assert (await client.get("/api/products", headers=victim.headers)).status_code == 200
    path = f"/api/users/{victim.id}"
    if action == "two_factor_reset":
        done = await client.delete(f"{path}/two-factor", headers=admin.headers)
    elif action == "role_change":
        done = await client.put(f"{path}/role", json={"role": "inspector"}, headers=admin.headers)
    elif action == "deactivate":
        done = await client.delete(path, headers=admin.headers)
    else:
        done = await client.patch(path, json={"is_active": False}, headers=admin.headers)
    assert done.status_code in (200, 204), done.text
    _problem(await client.get("/api/products", headers=victim.headers), 401)
    refreshed = await client.post("/api/auth/refresh", json={"refresh_token": victim.refresh_token})
    assert refreshed.status_code == 401
    if action in {"two_factor_reset", "role_change"}:
        again = await login(client, victim)  # the account itself still works
        assert (await client.get("/api/auth/me", headers=again.headers)).status_code == 200


async def test_a_forged_generation_is_refused(client, make_user, settings):
    """A token naming a newer generation than the account has is not a way around revocation."""
    from tests.api.test_auth import _forge

    account = await login(client, await make_user("staff"))
    for generation in (1, -1, "0", None, True):
        token = _forge(settings, account, gen=generation)
        me = await client.get("/api/auth/me", headers={"Authorization": f"Bearer {token}"})
        assert me.status_code == 401, generation


async def test_the_generation_snapshot_is_written_monotonically(client, make_user, settings):
    """A request that read the row before a bump cannot put the old generation back."""
    from api.db import in_session
    from api.security import auth_state
    from api.stores import AUTH_STATE, build_store_registry

    account = await login(client, await make_user("staff"))
    # The app's own store in this test's event loop (the test client runs the app in another).
    store = build_store_registry(client.app.state["settings"]).get(AUTH_STATE)
    user_id = uuid.UUID(account.id)
    stale = await auth_state.current(store, settings, user_id, 0)
    assert stale is not None and stale.generation == 0

    await in_session(settings, lambda s: auth_state.bump_generation(s, user_id))
    fresh = await auth_state.publish(store, settings, user_id)
    assert fresh is not None and fresh.generation == 1
    await auth_state._store_if_not_older(store, user_id, stale)  # the slow request's write
    kept = await auth_state.current(store, settings, user_id, 0)
    assert kept is not None and kept.generation == 1
    _problem(await client.get("/api/auth/me", headers=account.headers), 401)


# 2. Setup steps: printed passwords, admin two-factor -------------------------------------------


async def test_a_printed_password_must_be_changed_first(make_client, settings, migrated_db):
    """Before: the first admin could work with the password `create-admin` printed."""
    import anyio.to_thread

    from api.accounts import create_admin
    from tests.api.conftest import Account

    email = f"first-{uuid.uuid4().hex[:8]}@theworlddoor.example"
    user, printed = await anyio.to_thread.run_sync(lambda: create_admin(settings, email, None))
    async with make_client(admin_two_factor_required=False) as client:
        admin = await login(client, Account(str(user.id), email, printed, "admin"))
        blocked = await client.get("/api/users", headers=admin.headers)
        assert _problem(blocked, 403)["code"] == "password_change_required"
        me = await client.get("/api/auth/me", headers=admin.headers)
        assert me.json()["setup_required"] == "password_change_required"
        enrol = await client.post("/api/auth/two-factor/enrol", headers=admin.headers)
        assert _problem(enrol, 403)["code"] == "password_change_required"
        changed = await client.post(
            "/api/auth/password",
            json={"current_password": printed, "new_password": PASSWORD},
            headers=admin.headers,
        )
        assert changed.status_code == 204
        admin.password = PASSWORD
        await login(client, admin)
        assert (await client.get("/api/users", headers=admin.headers)).status_code == 200


async def test_admins_must_enrol_two_factor_where_required(make_client, make_user):
    """Before: an admin without two-factor could do everything in production."""
    async with make_client(admin_two_factor_required=True) as client:
        admin = await login(client, await make_user("admin"))
        staff = await login(client, await make_user("staff"))
        assert (await client.get("/api/products", headers=staff.headers)).status_code == 200
        blocked = await client.get("/api/users", headers=admin.headers)
        assert _problem(blocked, 403)["code"] == "two_factor_enrolment_required"
        enrol = await client.post("/api/auth/two-factor/enrol", headers=admin.headers)
        assert enrol.status_code == 200
        code, timecode = next_code(enrol.json()["secret"])
        confirm = await client.post(
            "/api/auth/two-factor/confirm", json={"code": code}, headers=admin.headers
        )
        assert confirm.status_code == 200, confirm.text
        assert (await client.get("/api/users", headers=admin.headers)).status_code == 200
        code, _ = next_code(enrol.json()["secret"], after_timecode=timecode)
        keep = await client.post(
            "/api/auth/two-factor/disable",
            json={"password": PASSWORD, "code": code},
            headers=admin.headers,
        )
        assert _problem(keep, 409)["detail"] == "admins must keep two-factor enabled"


def test_production_requires_admin_two_factor_by_default(settings):
    assert settings.model_copy(update={"app_env": "production"}).requires_admin_two_factor
    assert not settings.requires_admin_two_factor  # test/development: opt-in


# 2. Login answers reveal nothing ---------------------------------------------------------------


async def _refused_accounts(client, admin, settings) -> tuple[Any, Any, Any]:
    """Three staff accounts whose logins are refused: one locked by failed attempts, one
    deactivated, one that is fine (for a wrong password)."""
    locked = await _user(client, admin, "staff")
    for _ in range(settings.login_max_failures):
        await client.post("/api/auth/login", json={"email": locked.email, "password": "wrong!"})
    inactive = await _user(client, admin, "staff")
    await client.delete(f"/api/users/{inactive.id}", headers=admin.headers)
    return locked, inactive, await _user(client, admin, "staff")


async def test_login_answers_do_not_reveal_whether_an_account_exists(client, logged_in, settings):
    """Before: a locked real account answered 423 (even to a wrong password), unknown emails
    401: an account-existence oracle."""
    locked, inactive, wrong = await _refused_accounts(client, await logged_in("admin"), settings)
    answers = []
    for email, password in [
        (f"nobody-{uuid.uuid4().hex[:6]}@theworlddoor.example", "whatever-password"),
        (locked.email, "wrong password!"),
        (locked.email, PASSWORD),  # even the right password, while locked
        (inactive.email, PASSWORD),
        (wrong.email, "wrong password!"),
    ]:
        response = await client.post("/api/auth/login", json={"email": email, "password": password})
        answers.append((response.status_code, response.json(), sorted(response.headers.keys())))
    assert all(a[0] == 401 for a in answers)
    assert all(a[1] == answers[0][1] for a in answers), answers
    assert all(a[2] == answers[0][2] for a in answers)  # no Retry-After on the locked one


async def test_every_login_refusal_costs_one_password_verification(
    client, logged_in, settings, monkeypatch
):
    """The "same timing" half, counted rather than timed: an unknown email, a locked account
    (even with its right password), a deactivated one and a wrong password each run exactly one
    Argon2 verification (unknown emails against the dummy hash), so how long the 401 takes does
    not tell whether the account exists."""
    from api.security import passwords

    locked, inactive, wrong = await _refused_accounts(client, await logged_in("admin"), settings)
    real = passwords._passwords
    verified: list[str] = []

    class Counting:
        def verify_and_update(self, password: str, password_hash: str) -> Any:
            verified.append(password_hash)
            return real.verify_and_update(password, password_hash)

    monkeypatch.setattr(passwords, "_passwords", Counting())
    unknown = f"nobody-{uuid.uuid4().hex[:6]}@theworlddoor.example"
    for email, password in [
        (unknown, PASSWORD),
        (locked.email, PASSWORD),
        (inactive.email, PASSWORD),
        (wrong.email, "wrong password!"),
    ]:
        verified.clear()
        response = await client.post("/api/auth/login", json={"email": email, "password": password})
        _problem(response, 401)
        assert len(verified) == 1, email
        assert (verified[0] == passwords.dummy_hash()) == (email == unknown), email


async def test_a_lock_is_told_to_the_owner_by_email(make_client, make_user, temporal_env, settings):
    account = await make_user("staff")
    async with make_client(temporal_client=temporal_env.client) as client:
        for _ in range(settings.login_max_failures):
            await client.post(
                "/api/auth/login", json={"email": account.email, "password": "wrong!"}
            )
        await notices.drain()
    user = await sessions.find_user_by_email(settings, account.email)
    assert user is not None and user.locked_until is not None
    workflow_id = (
        f"email-two_factor_code-account_locked-{user.id}-{int(user.locked_until.timestamp())}"
    )
    payload = await _started_email(temporal_env, workflow_id)
    assert account.email.encode() in payload and b'"account_locked"' in payload


async def test_wrong_and_replayed_codes_get_the_same_answer(client, make_user):
    """Before: "incorrect" vs "already used; wait for the next one" told a replayer the code
    had been right."""
    account = await login(client, await make_user("staff"))
    enrol = await client.post("/api/auth/two-factor/enrol", headers=account.headers)
    secret = enrol.json()["secret"]
    code, used = next_code(secret)
    await client.post("/api/auth/two-factor/confirm", json={"code": code}, headers=account.headers)

    async def step() -> str:
        response = await client.post(
            "/api/auth/login", json={"email": account.email, "password": PASSWORD}
        )
        return response.json()["two_factor_token"]

    import pyotp

    replayed = await client.post(
        "/api/auth/two-factor/verify",
        json={"two_factor_token": await step(), "code": pyotp.TOTP(secret).generate_otp(used)},
    )
    wrong = await client.post(
        "/api/auth/two-factor/verify", json={"two_factor_token": await step(), "code": "000000"}
    )
    assert replayed.status_code == wrong.status_code == 401
    assert replayed.json() == wrong.json()


async def _started_email(temporal_env, workflow_id: str, settings=None) -> bytes:
    """The input of the EmailWorkflow started under that id (fails if none was started)."""
    from config import get_settings
    from temporal_codec import EncryptionCodec

    settings = settings or get_settings()
    handle = temporal_env.client.get_workflow_handle(workflow_id)
    assert (await handle.describe()).workflow_type == "EmailWorkflow"
    async for event in handle.fetch_history_events():
        sealed = event.workflow_execution_started_event_attributes.input.payloads[0]
        # Payloads are encrypted in Temporal: open it with the same keys as the workers.
        codec = EncryptionCodec.from_spec(settings.temporal_payload_keys.get_secret_value())
        data = (await codec.decode([sealed]))[0].data
        # A worker on the same task queue (other tests) may already have sent it; else stop it.
        with contextlib.suppress(RPCError):
            await handle.terminate("checked by the attack suite")
        return data
    raise AssertionError(workflow_id)


async def test_new_device_sign_in_and_two_factor_changes_send_notices(
    make_client, make_user, temporal_env
):
    from api.security.notices import device_fingerprint, secret_tag

    account = await make_user("staff")
    admin = await make_user("admin")
    prefix = "email-two_factor_code"
    async with make_client(temporal_client=temporal_env.client) as client:
        await login(client, account)  # the first device ever: no notice
        client.headers["user-agent"] = "attacker-browser/1.0"
        await login(client, account)
        enrol = await client.post("/api/auth/two-factor/enrol", headers=account.headers)
        secret = enrol.json()["secret"]
        code, _ = next_code(secret)
        confirmed = await client.post(
            "/api/auth/two-factor/confirm", json={"code": code}, headers=account.headers
        )
        assert confirmed.status_code == 200
        await login(client, admin)
        reset = await client.delete(f"/api/users/{account.id}/two-factor", headers=admin.headers)
        assert reset.status_code == 200
        await notices.drain()
    device = device_fingerprint("attacker-browser/1.0", "testclient")
    new_device = await _started_email(
        temporal_env, f"{prefix}-new_device_sign_in-{account.id}-{device}"
    )
    assert b"attacker-browser/1.0" in new_device and account.email.encode() in new_device
    enabled = await _started_email(
        temporal_env, f"{prefix}-two_factor_enabled-{account.id}-{secret_tag(secret)}"
    )
    assert b'"two_factor_enabled"' in enabled
    reset_notice = await _started_email(temporal_env, f"{prefix}-two_factor_reset-{account.id}-g1")
    assert admin.email.encode() in reset_notice  # says who reset it


async def test_a_new_user_gets_the_welcome_email_without_the_password(
    make_client, make_user, temporal_env
):
    """Before: the API answered the generated password. Now no password exists to leak: the
    welcome email carries a sealed invitation link (tests/api/test_invitations.py)."""
    admin = await make_user("admin")
    async with make_client(temporal_client=temporal_env.client) as client:
        await login(client, admin)
        created = await client.post(
            "/api/users",
            json={"email": f"new-{uuid.uuid4().hex[:8]}@theworlddoor.example"},
            headers=admin.headers,
        )
        assert created.status_code == 201
    body = created.json()
    assert "password" not in body and body["user"]["invitation_pending"] is True

    async def mine_listed() -> list[bytes]:
        welcome = [
            w.id
            async for w in temporal_env.client.list_workflows("WorkflowType = 'EmailWorkflow'")
            if w.id.startswith("email-welcome-")
        ]
        payloads = [await _started_email(temporal_env, w) for w in welcome]
        return [p for p in payloads if body["user"]["email"].encode() in p]

    mine = await visible(mine_listed, bool)
    assert len(mine) == 1 and b"invitation_url" in mine[0]
    assert b"/console/invitation?token=" not in mine[0]  # the link itself is sealed


# 3. CORS, inspectors, OpenAPI ------------------------------------------------------------------


async def test_cors_details_only_for_allowed_origins(client, settings):
    """Before: allow-methods and allow-headers were sent to any Origin."""
    evil = await client.get("/api/health", headers={"Origin": "https://evil.example"})
    assert evil.status_code == 200
    for name in (
        "access-control-allow-origin",
        "access-control-allow-methods",
        "access-control-allow-headers",
    ):
        assert name not in evil.headers
    good_origin = settings.cors_allow_origins[0]
    good = await client.get("/api/health", headers={"Origin": good_origin})
    assert good.headers["access-control-allow-origin"] == good_origin
    assert "access-control-allow-methods" in good.headers
    preflight = await client.options(
        "/api/auth/login",
        headers={"Origin": "https://evil.example", "Access-Control-Request-Method": "POST"},
    )
    assert preflight.status_code == 400
    assert "access-control-allow-methods" not in preflight.headers


async def test_inspectors_do_not_see_the_buyers_contact_details(client, logged_in, settings):
    """Before: an inspector's order detail carried the buyer's email and full address."""
    stored = _insert_order(settings)
    inspector = await logged_in("inspector")
    staff = await logged_in("staff")
    seen = (await client.get(f"/api/orders/{stored['order_id']}", headers=inspector.headers)).json()
    assert seen["buyer_email"] is None and seen["ship_to"] is None
    assert seen["line_items"][0]["title"] == "Seiko watch"  # what inspection needs
    full = (await client.get(f"/api/orders/{stored['order_id']}", headers=staff.headers)).json()
    assert full["buyer_email"] == "buyer@example.com" and full["ship_to"]["full_name"]
    queue = await client.get("/api/inspections?result=pending", headers=inspector.headers)
    assert "buyer@example.com" not in queue.text and "Jane Buyer" not in queue.text


async def test_openapi_lists_every_error_status_as_problem_json(client):
    """Before: only a 400 with a body shape (`status_code`) the API never sends."""
    spec = (await client.get("/schema/openapi.json")).json()
    assert "Problem" in spec["components"]["schemas"]
    app = client.app
    checked = 0
    for route in app.routes:
        if not isinstance(route, HTTPRoute) or route.path in {"/api/health", "/api/ready"}:
            continue
        if not route.path.startswith("/api/"):
            continue
        for method, (handler, _) in route.route_handler_map.items():
            if method == "OPTIONS":
                continue  # CORS preflight, answered by the middleware
            operation = spec["paths"][route.path_format][str(method).lower()]
            codes = {int(c) for c in operation["responses"] if int(c) >= 400}
            authenticated = not handler.opt.get("exclude_from_auth", False)
            expected = {429} | ({401, 403} if authenticated else set())
            if route.path_parameters:
                expected |= {400, 404}
            if "data" in handler.parsed_fn_signature.parameters:
                expected |= {400, 413, 422}
            assert expected <= codes, (method, route.path, codes)
            for code in codes:
                content = operation["responses"][str(code)]["content"]
                assert list(content) == [PROBLEM], (method, route.path, code)
            checked += 1
    assert checked > 50


async def test_openapi_security_names_only_what_authenticates_the_api(client):
    """Before: every /api operation declared the console's session cookie (`wd_console`) as an
    alternative to the bearer token, though it opens /console only (test_console_http). Tools
    that read the document (schemathesis's ignored-auth check) sent a made-up cookie beside a
    valid token and reported 'API accepts invalid authentication' on every staff route."""
    spec = (await client.get("/schema/openapi.json")).json()
    schemes = spec["components"]["securitySchemes"]
    assert set(schemes) == {"BearerToken", "codecSession"}
    assert schemes["codecSession"] == {
        "type": "apiKey",
        "in": "cookie",
        "name": COOKIE,
        "description": schemes["codecSession"]["description"],
    }
    assert spec["security"] == [{"BearerToken": []}]
    for path, item in spec["paths"].items():
        for method, operation in item.items():
            security = operation.get("security", spec["security"])
            if path.startswith("/api/temporal-codec/") and path != "/api/temporal-codec/session":
                assert security == [{"BearerToken": []}, {"codecSession": []}], path
            else:
                assert security in ([], [{"BearerToken": []}]), (method, path, security)


async def test_every_json_body_refuses_unknown_fields(client):
    """Before: three bodies (batch approval, inspection decision, mark delivered) ignored unknown
    fields, and their schema allowed any property, so a generated key holding a NUL answered an
    undocumented 400 where the document promised acceptance."""
    spec = (await client.get("/schema/openapi.json")).json()
    schemas = spec["components"]["schemas"]
    checked = 0
    for route in client.app.routes:
        if not isinstance(route, HTTPRoute) or route.path.startswith("/api/temporal-codec/"):
            continue
        for method, (handler, _) in route.route_handler_map.items():
            model = body_model(handler)
            if model is None:
                continue
            assert model.model_config.get("extra") == "forbid", (method, route.path)
            assert schemas[model.__name__]["additionalProperties"] is False, model.__name__
            checked += 1
    assert checked >= 15


async def test_inspection_decision_rule_is_a_422_and_changes_nothing(client, logged_in, settings):
    """Before: a condition with `unit: write_off` (the contract's cross-field rule) was a 400
    that the document did not list for a schema-valid body; it is the route refusing: 422."""
    staff = await logged_in("staff")
    stored = _insert_order(settings)
    path = f"/api/orders/{stored['order_id']}/inspection-decision"
    refused = await client.post(
        path, json={"unit": "write_off", "condition": "for_parts"}, headers=staff.headers
    )
    assert "only given when the unit is relisted" in _problem(refused, 422)["detail"]
    missing = await client.post(path, json={"unit": "relist"}, headers=staff.headers)
    assert "needs the condition" in _problem(missing, 422)["detail"]
    spoofed = await client.post(path, json={"staff_id": "someone"}, headers=staff.headers)
    _problem(spoofed, 400)  # the caller is the staff id; it is not a field
    order = (await client.get(f"/api/orders/{stored['order_id']}", headers=staff.headers)).json()
    assert order["status"] == "inspecting"


async def test_date_filters_take_iso_8601_only(client, logged_in):
    """Before: `?created_to=0.5` answered 200 (read as a Unix time), though the document says
    date-time; `created_from` after `created_to` was a 400 the document could not promise."""
    staff = await logged_in("staff")
    spec = (await client.get("/schema/openapi.json")).json()
    for path in ("/api/orders", "/api/products", "/api/shipments", "/api/inspections"):
        params = {p["name"]: p for p in spec["paths"][path]["get"]["parameters"]}
        assert params["created_to"]["schema"]["format"] == "date-time"
        assert "422" in spec["paths"][path]["get"]["responses"]
        for bad in ("0.5", "-1", "2026-12-01", "yesterday", "2026-12-01T25:00:00Z"):
            _problem(await client.get(path, params={"created_to": bad}, headers=staff.headers), 400)
        backwards = {"created_from": "2026-12-02T00:00:00Z", "created_to": "2026-12-01T00:00:00Z"}
        _problem(await client.get(path, params=backwards, headers=staff.headers), 422)
        fine = {"created_from": "2026-12-01T09:00:00+09:00", "created_to": "2026-12-01T00:00:01Z"}
        assert (await client.get(path, params=fine, headers=staff.headers)).status_code == 200


async def test_no_pattern_in_the_document_admits_a_nul(client, logged_in):
    """Found by `make fuzz`: the user email pattern admitted `a\\x00b@k`, which the parser then
    refused with a 400 the document did not promise (its own rule admitted the address)."""
    import re

    spec = (await client.get("/schema/openapi.json")).json()
    patterns: set[str] = set()

    def collect(value: Any) -> None:
        if isinstance(value, dict):
            if isinstance(value.get("pattern"), str):
                patterns.add(value["pattern"])
            for item in value.values():
                collect(item)
        elif isinstance(value, list):
            for item in value:
                collect(item)

    collect(spec)
    assert len(patterns) > 5
    for pattern in patterns:
        for probe in ("a\x00b@example.com", "ab@exa\x00mple.com", "\x00", "AB\x00C1"):
            assert not re.search(pattern, probe), (pattern, probe)
    admin = await logged_in("admin")
    refused = await client.post(
        "/api/users", json={"email": "a\x00b@example.com"}, headers=admin.headers
    )
    _problem(refused, 400)

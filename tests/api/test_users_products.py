"""Admin user management, create_admin, health/readiness, and product CRUD from the database."""

from __future__ import annotations

import uuid

import anyio.to_thread
import pytest

from tests.api.conftest import login


async def test_health_and_readiness_names_the_failing_part(client):
    health = await client.get("/api/health")
    assert health.status_code == 200 and health.json() == {"status": "ok"}
    ready = await client.get("/api/ready")
    # No Temporal server in this test: readiness says so, and only that.
    assert ready.status_code == 503
    body = ready.json()
    assert body["checks"]["database"] == "ok"
    assert body["checks"]["store"] == "ok"
    assert body["failing"] == ["temporal"]


async def test_readiness_ok_with_temporal(make_client, temporal_env):
    async with make_client(temporal_client=temporal_env.client) as client:
        ready = await client.get("/api/ready")
        assert ready.status_code == 200, ready.text
        assert ready.json()["failing"] == []


async def test_create_admin(settings, migrated_db):
    from api.accounts import create_admin
    from api.security.passwords import verify_password

    email = f"Boss-{uuid.uuid4().hex[:6]}@TheWorldDoor.example"
    user, password = await anyio.to_thread.run_sync(lambda: create_admin(settings, email, None))
    assert user.role == "admin" and user.email == email.lower()
    assert len(password) >= 20
    assert (await verify_password(password, user.password_hash))[0]
    with pytest.raises(ValueError, match="already exists"):
        await anyio.to_thread.run_sync(lambda: create_admin(settings, email, "another password"))
    with pytest.raises(ValueError, match="at least"):
        await anyio.to_thread.run_sync(lambda: create_admin(settings, "x" + email, "short"))


async def test_admin_manages_users(make_client, make_user, temporal_env):
    async with make_client(
        temporal_client=temporal_env.client, temporal_task_queue=f"users-{uuid.uuid4().hex[:6]}"
    ) as client:
        await _manage_users(client, make_user)


async def _manage_users(client, make_user):
    admin = await login(client, await make_user("admin"))
    email = f"new-{uuid.uuid4().hex[:8]}@theworlddoor.example"
    created = await client.post(
        "/api/users", headers=admin.headers, json={"email": email, "role": "inspector"}
    )
    assert created.status_code == 201, created.text
    body = created.json()
    assert "password" not in body  # invited: the owner sets it (tests/api/test_invitations.py)
    assert body["user"]["role"] == "inspector" and "password_hash" not in str(body)
    dup = await client.post("/api/users", headers=admin.headers, json={"email": email})
    assert dup.status_code == 409
    listed = await client.get(
        "/api/users", headers=admin.headers, params={"role": "inspector", "q": email[:12]}
    )
    assert [u["email"] for u in listed.json()["items"]] == [email]

    member = await make_user("inspector")
    user_id, email, password = member.id, member.email, member.password
    login_new = await client.post("/api/auth/login", json={"email": email, "password": password})
    assert login_new.status_code == 200
    token = login_new.json()["access_token"]
    promoted = await client.put(
        f"/api/users/{user_id}/role", headers=admin.headers, json={"role": "staff"}
    )
    assert promoted.status_code == 200 and promoted.json()["role"] == "staff"
    deactivated = await client.delete(f"/api/users/{user_id}", headers=admin.headers)
    assert deactivated.status_code == 204
    me = await client.get("/api/auth/me", headers={"Authorization": f"Bearer {token}"})
    assert me.status_code == 401  # a deactivated account's tokens stop working at once
    gone = await client.post("/api/auth/login", json={"email": email, "password": password})
    assert gone.status_code == 401
    self_demote = await client.put(
        f"/api/users/{admin.id}/role", headers=admin.headers, json={"role": "staff"}
    )
    assert self_demote.status_code == 409


async def test_admin_unlocks_a_locked_account(client, logged_in, make_user, settings):
    admin = await logged_in("admin")
    victim = await make_user("staff")
    for _ in range(settings.login_max_failures):
        await client.post("/api/auth/login", json={"email": victim.email, "password": "wrong!!"})
    locked = await client.get(f"/api/users/{victim.id}", headers=admin.headers)
    assert locked.json()["locked_until"] is not None
    unlocked = await client.post(f"/api/users/{victim.id}/unlock", headers=admin.headers)
    assert unlocked.status_code == 200 and unlocked.json()["locked_until"] is None
    await login(client, victim)


def _product(**overrides):
    sku = f"TWD-{uuid.uuid4().hex[:10].upper()}"
    return {
        "sku": sku,
        "title_ja": "セイコー 腕時計 自動巻き",
        "description_ja": "動作確認済み。",
        "brand": "Seiko",
        "condition": "used_excellent",
        "price_jpy": 25000,
        **overrides,
    }


def _set_english_title(settings, product_id: str, title: str) -> None:
    from models import Product
    from models.db import session_scope

    with session_scope(settings) as session:
        product = session.get(Product, uuid.UUID(product_id))
        assert product is not None
        product.title_en = title
        session.add(product)


async def test_product_crud_and_filters(client, logged_in, settings):
    staff = await logged_in("staff")
    payload = _product()
    created = await client.post("/api/products", headers=staff.headers, json=payload)
    assert created.status_code == 201, created.text
    product = created.json()
    assert product["status"] == "draft" and product["sku"] == payload["sku"]
    dup = await client.post("/api/products", headers=staff.headers, json=payload)
    assert dup.status_code == 409
    invalid = await client.post(
        "/api/products", headers=staff.headers, json=_product(price_jpy=0, sku="bad sku!")
    )
    assert invalid.status_code == 400
    assert "price_jpy" in invalid.text and "sku" in invalid.text
    dotted = await client.post("/api/products", headers=staff.headers, json=_product(sku="ABC.1"))
    assert dotted.status_code == 400 and "sku" in dotted.text  # eBay would refuse it later

    edited = await client.patch(
        f"/api/products/{product['id']}", headers=staff.headers, json={"quantity": 3}
    )
    assert edited.status_code == 200 and edited.json()["quantity"] == 3
    found = await client.get(
        "/api/products", headers=staff.headers, params={"q": payload["sku"], "status": "draft"}
    )
    assert found.json()["total"] == 1 and found.json()["items"][0]["quantity"] == 3
    none = await client.get(
        "/api/products", headers=staff.headers, params={"q": payload["sku"], "status": "listed"}
    )
    assert none.json()["total"] == 0
    marker = uuid.uuid4().hex[:8]
    titled = await client.post(
        "/api/products", headers=staff.headers, json=_product(title_ja=f"南部鉄器 急須 {marker}")
    )
    await anyio.to_thread.run_sync(
        lambda: _set_english_title(settings, titled.json()["id"], f"Nanbu Iron Teapot {marker}")
    )
    for term in (f"急須 {marker}", f"iron teapot {marker}", titled.json()["sku"].lower()):
        hit = await client.get("/api/products", headers=staff.headers, params={"q": term})
        assert [p["id"] for p in hit.json()["items"]] == [titled.json()["id"]], term
    dated = await client.get(
        "/api/products",
        headers=staff.headers,
        params={
            "q": marker,
            "created_from": "2020-01-01T00:00:00Z",
            "created_to": "2999-01-01T00:00:00Z",
        },
    )
    assert dated.status_code == 200, dated.text
    assert dated.json()["total"] == 1
    later = await client.get(
        "/api/products",
        headers=staff.headers,
        params={"q": marker, "created_from": "2999-01-01T00:00:00Z"},
    )
    assert later.json()["total"] == 0
    page = await client.get("/api/products", headers=staff.headers, params={"limit": 1})
    assert len(page.json()["items"]) == 1 and page.json()["limit"] == 1
    no_images = await client.post(f"/api/products/{product['id']}/listing", headers=staff.headers)
    assert no_images.status_code == 422
    deleted = await client.delete(f"/api/products/{product['id']}", headers=staff.headers)
    assert deleted.status_code == 204
    missing = await client.get(f"/api/products/{product['id']}", headers=staff.headers)
    assert missing.status_code == 404


def test_production_refuses_development_settings(settings):
    from api.app import create_app

    with pytest.raises(RuntimeError, match="refusing to start in production") as refused:
        create_app(settings.model_copy(update={"app_env": "production"}))
    assert "JWT_SECRET" in str(refused.value)


async def test_two_factor_disable_and_admin_reset(client, logged_in, settings):
    from tests.api.conftest import next_code

    admin = await logged_in("admin")
    staff = await logged_in("staff")
    secret = (await client.post("/api/auth/two-factor/enrol", headers=staff.headers)).json()[
        "secret"
    ]
    code, used = next_code(secret)
    confirmed = await client.post(
        "/api/auth/two-factor/confirm", headers=staff.headers, json={"code": code}
    )
    assert confirmed.status_code == 200
    again = await client.post("/api/auth/two-factor/enrol", headers=staff.headers)
    assert again.status_code == 409  # no silent re-enrolment over an active secret
    wrong_password = await client.post(
        "/api/auth/two-factor/disable",
        headers=staff.headers,
        json={"password": "not it at all", "code": next_code(secret, used)[0]},
    )
    assert wrong_password.status_code == 401
    # Lost device: an admin resets two-factor, which also ends the user's sessions.
    reset = await client.delete(f"/api/users/{staff.id}/two-factor", headers=admin.headers)
    assert reset.status_code == 200 and reset.json()["two_factor_enabled"] is False
    refresh = await client.post("/api/auth/refresh", json={"refresh_token": staff.refresh_token})
    assert refresh.status_code == 401
    relogin = await client.post(
        "/api/auth/login", json={"email": staff.email, "password": staff.password}
    )
    assert relogin.json()["two_factor_required"] is False


async def test_a_product_with_stock_history_is_kept(client, logged_in, settings):
    """Deleting a product whose stock moved (a sale, a restock) was a 500 (foreign key from
    stock_movements, found by schemathesis): now a 409 that deletes nothing."""
    from models import StockMovement
    from models.db import session_scope

    staff = await logged_in("staff")
    created = await client.post("/api/products", headers=staff.headers, json=_product())
    assert created.status_code == 201, created.text
    product_id, sku = created.json()["id"], created.json()["sku"]
    with session_scope(settings) as session:
        session.add(
            StockMovement(
                sku=sku,
                product_id=uuid.UUID(product_id),
                line_item_id="L-1",
                reason="sale",
                quantity=-1,
            )
        )
    refused = await client.delete(f"/api/products/{product_id}", headers=staff.headers)
    assert refused.status_code == 409, refused.text
    assert "stock history" in refused.json()["detail"]
    kept = await client.get(f"/api/products/{product_id}", headers=staff.headers)
    assert kept.status_code == 200

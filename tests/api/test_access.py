"""Every route is either deliberately public or refuses anonymous callers; the role matrix;
the guard on every protected handler. Routes are enumerated from the app, so a new route fails
these tests until it is classified here (which is also the README's route table)."""

from __future__ import annotations

import re
import uuid

import pytest
from litestar.routes import HTTPRoute

from tests.api.conftest import login

A, S, INS = "admin", "staff", "inspector"
PUBLIC = {
    ("GET", "/api/health"),
    ("GET", "/api/ready"),
    ("GET", "/metrics"),  # METRICS_TOKEN, not a staff JWT (tests/api/test_metrics.py)
    ("POST", "/api/auth/login"),
    ("POST", "/api/auth/two-factor/verify"),
    ("POST", "/api/auth/two-factor/recovery"),
    ("POST", "/api/auth/refresh"),
    ("POST", "/api/auth/password-reset"),
    ("POST", "/api/auth/password-reset/confirm"),
    ("GET", "/reset-password"),  # forwards old emailed links to the console's page
    ("POST", "/api/auth/invitation"),  # the emailed invitation token is the credential
    ("POST", "/api/auth/invitation/accept"),
    ("POST", "/api/webhooks/sendgrid"),
    ("GET", "/api/webhooks/ebay/account-deletion"),
    ("POST", "/api/webhooks/ebay/account-deletion"),
    ("DELETE", "/api/temporal-codec/session"),  # only clears the codec cookie
}
ROLES = {
    ("POST", "/api/auth/logout"): {A, S, INS},
    ("GET", "/api/auth/me"): {A, S, INS},
    ("POST", "/api/auth/password"): {A, S, INS},
    ("POST", "/api/auth/two-factor/enrol"): {A, S, INS},
    ("POST", "/api/auth/two-factor/confirm"): {A, S, INS},
    ("POST", "/api/auth/two-factor/disable"): {A, S, INS},
    ("POST", "/api/auth/two-factor/recovery-codes"): {A, S, INS},
    ("GET", "/api/users"): {A},
    ("POST", "/api/users"): {A},
    ("POST", "/api/users/{user_id:uuid}/invitation"): {A},
    ("GET", "/api/users/{user_id:uuid}"): {A},
    ("PATCH", "/api/users/{user_id:uuid}"): {A},
    ("DELETE", "/api/users/{user_id:uuid}"): {A},
    ("PUT", "/api/users/{user_id:uuid}/role"): {A},
    ("POST", "/api/users/{user_id:uuid}/unlock"): {A},
    ("DELETE", "/api/users/{user_id:uuid}/two-factor"): {A},
    ("GET", "/api/products"): {A, S},
    ("POST", "/api/products"): {A, S},
    ("GET", "/api/products/{product_id:uuid}"): {A, S},
    ("PATCH", "/api/products/{product_id:uuid}"): {A, S},
    ("DELETE", "/api/products/{product_id:uuid}"): {A, S},
    ("POST", "/api/products/{product_id:uuid}/images/upload-url"): {A, S},
    ("POST", "/api/products/{product_id:uuid}/images"): {A, S},
    ("GET", "/api/products/{product_id:uuid}/images/{index:int}"): {A, S},
    ("POST", "/api/products/{product_id:uuid}/listing"): {A, S},
    ("GET", "/api/products/{product_id:uuid}/listing"): {A, S},
    ("POST", "/api/products/{product_id:uuid}/listing/approve"): {A, S},
    ("POST", "/api/products/{product_id:uuid}/listing/edit"): {A, S},
    ("POST", "/api/products/{product_id:uuid}/listing/reject"): {A, S},
    ("POST", "/api/products/{product_id:uuid}/listing/end"): {A, S},
    ("POST", "/api/products/{product_id:uuid}/listing/relist"): {A, S},
    ("POST", "/api/listing-reviews/approve"): {A, S},
    ("POST", "/api/listing-batches"): {A, S},
    ("GET", "/api/listing-batches/{batch_id:str}"): {A, S},
    ("GET", "/api/orders"): {A, S, INS},
    ("GET", "/api/orders/{order_id:uuid}"): {A, S, INS},
    ("POST", "/api/orders/{order_id:uuid}/cancel"): {A, S},
    ("POST", "/api/orders/{order_id:uuid}/inspection-decision"): {A, S},
    ("GET", "/api/inspections"): {A, S, INS},
    ("GET", "/api/inspections/{order_id:uuid}"): {A, S, INS},
    ("POST", "/api/inspections/{order_id:uuid}/media/upload-urls"): {A, INS},
    ("POST", "/api/inspections/{order_id:uuid}/result"): {A, INS},
    ("GET", "/api/inspections/{order_id:uuid}/media"): {A, S, INS},
    ("GET", "/api/shipments"): {A, S},
    ("GET", "/api/shipments/{shipment_id:uuid}"): {A, S},
    ("GET", "/api/shipments/{shipment_id:uuid}/quotes"): {A, S},
    ("POST", "/api/shipments/{shipment_id:uuid}/rate"): {A, S},
    ("GET", "/api/shipments/{shipment_id:uuid}/label"): {A, S},
    ("GET", "/api/shipments/{shipment_id:uuid}/handoff"): {A, S},
    ("GET", "/api/shipments/{shipment_id:uuid}/invoice"): {A, S},
    ("GET", "/api/shipments/{shipment_id:uuid}/tracking"): {A, S},
    ("POST", "/api/shipments/{shipment_id:uuid}/tracking"): {A, S},
    ("POST", "/api/shipments/{shipment_id:uuid}/delivered"): {A, S},
    ("POST", "/api/shipments/{shipment_id:uuid}/issued-history"): {A, S},
    ("POST", "/api/operations/order-sync"): {A, S},
    ("GET", "/api/operations/schedules"): {A},
    ("GET", "/api/operations/health"): {A},
    ("POST", "/api/operations/schedules/{schedule_id:str}/pause"): {A},
    ("POST", "/api/operations/schedules/{schedule_id:str}/unpause"): {A},
    ("POST", "/api/operations/schedules/{schedule_id:str}/trigger"): {A},
    ("GET", "/api/operations/workflows/{workflow_id:str}"): {A, S},
    ("GET", "/api/operations/stuck"): {A, S},
    ("POST", "/api/temporal-codec/decode"): {A, S},
    ("POST", "/api/temporal-codec/encode"): {A, S},
    ("POST", "/api/temporal-codec/session"): {A, S},
}


CONSOLE_PATHS = ("/schema", "/console", "/_docs")


def _operations(app):
    """(method, path template, handler) for every route but the OpenAPI pages (the console's
    pages and assets have their own table in tests/console/test_console_access.py)."""
    for route in app.routes:
        if not isinstance(route, HTTPRoute) or route.path.startswith(CONSOLE_PATHS):
            continue
        if route.path == "/":  # the redirect to the console
            continue
        for handler in route.route_handlers:
            for method in handler.http_methods:
                if method not in {"OPTIONS", "HEAD"}:
                    yield method, route.path, handler


def _concrete(path: str) -> str:
    path = re.sub(r"\{[a-z_]+:uuid\}", str(uuid.uuid4()), path)
    path = re.sub(r"\{[a-z_]+:int\}", "0", path)
    return re.sub(r"\{[a-z_]+:str\}", "order-sync", path)


async def test_every_route_is_classified(client):
    found = {(m, p) for m, p, _ in _operations(client.app)}
    assert found == PUBLIC | set(ROLES), (
        f"unclassified: {sorted(found - PUBLIC - set(ROLES))}; "
        f"gone: {sorted((PUBLIC | set(ROLES)) - found)}"
    )


async def test_protected_routes_refuse_anonymous_and_have_guards(client):
    checked = 0
    for method, path, handler in _operations(client.app):
        if (method, path) in PUBLIC:
            assert (
                handler.opt.get("exclude_from_auth")
                or path.startswith("/api/health")
                or (path == "/api/ready")
            )
            continue
        assert handler.resolve_guards(), f"{method} {path} has no role guard"
        url = _concrete(path)
        anonymous = await client.request(method, url)
        assert anonymous.status_code == 401, (method, path, anonymous.status_code)
        forged = await client.request(method, url, headers={"Authorization": "Bearer x.y.z"})
        assert forged.status_code == 401, (method, path)
        checked += 1
    assert checked == len(ROLES)


@pytest.mark.parametrize("role", [A, S, INS])
async def test_role_matrix(client, make_user, role):
    account = await login(client, await make_user(role))
    for (method, path), allowed in ROLES.items():
        if path.startswith("/api/auth/"):
            continue  # self-service routes: exercised by test_auth (logout would end the session)
        response = await client.request(method, _concrete(path), headers=account.headers)
        if role in allowed:
            assert response.status_code not in (401, 403), (role, method, path, response.text)
        else:
            assert response.status_code == 403, (role, method, path, response.status_code)
            assert "roles" in response.json()["detail"]

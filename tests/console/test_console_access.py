"""Every console route is either one of the sign-in steps (or an asset) or guarded by the API's
own role guards; anonymous visitors are sent to sign in; roles see only their pages."""

from __future__ import annotations

import re
import uuid

import pytest
from litestar.routes import HTTPRoute

from tests.console.test_console_http import _form_login

OPEN = {
    ("GET", "/"),
    ("GET", "/console/login"),
    ("POST", "/console/login"),
    ("GET", "/console/login/two-factor"),
    ("POST", "/console/login/two-factor"),
    ("GET", "/console/lang"),
    # the pages the emailed links open (the token is the credential) and the reset request
    ("GET", "/console/invitation"),
    ("POST", "/console/invitation"),
    ("GET", "/console/reset-password"),
    ("POST", "/console/reset-password"),
    ("GET", "/console/reset-password/confirm"),
    ("POST", "/console/reset-password/confirm"),
    ("GET", "/console/static/{file_path:path}"),
    ("GET", "/_docs/{file_path:path}"),
}


def _console_routes(app):
    for route in app.routes:
        if not isinstance(route, HTTPRoute):
            continue
        if not (route.path == "/" or route.path.startswith(("/console", "/_docs"))):
            continue
        for handler in route.route_handlers:
            for method in handler.http_methods:
                if method not in {"OPTIONS", "HEAD"}:
                    yield method, route.path, handler


def _concrete(path: str) -> str:
    path = re.sub(r"\{[a-z_]+:uuid\}", str(uuid.uuid4()), path)
    path = re.sub(r"\{[a-z_]+:int\}", "0", path)
    return re.sub(r"\{[a-z_]+:str\}", "x", path)


async def test_console_routes_are_open_sign_in_steps_or_guarded(client):
    guarded = 0
    for method, path, handler in _console_routes(client.app):
        if (method, path) in OPEN:
            assert handler.opt.get("exclude_from_auth"), path
            continue
        assert path.startswith("/console"), path
        assert handler.resolve_guards(), f"{method} {path} has no role guard"
        anonymous = await client.request(method, _concrete(path), follow_redirects=False)
        assert anonymous.status_code == 303, (method, path, anonymous.status_code)
        assert anonymous.headers["location"].startswith("/console/login")
        guarded += 1
    assert guarded >= 25


@pytest.mark.parametrize(
    ("role", "allowed", "refused"),
    [
        (
            "inspector",
            ["/console", "/console/orders", "/console/inspections", "/console/account"],
            ["/console/products", "/console/listings", "/console/shipments", "/console/operations"],
        ),
        (
            "staff",
            ["/console/products", "/console/listings", "/console/shipments", "/console/account"],
            ["/console/operations", f"/console/operations/users/{uuid.uuid4()}"],
        ),
        ("admin", ["/console/operations", "/console/products", "/console/inspections"], []),
    ],
)
async def test_role_matrix(client, make_user, role, allowed, refused):
    await _form_login(client, await make_user(role))
    for path in allowed:
        assert (await client.get(path)).status_code == 200, path
    for path in refused:
        answer = await client.get(path)
        assert answer.status_code == 403, path
        assert "text/html" in answer.headers["content-type"]

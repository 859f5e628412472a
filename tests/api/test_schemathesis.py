"""Property-based run over the OpenAPI schema (schemathesis) against the app served by uvicorn,
authenticated as an admin: no 5xx, and every documented response matches its schema."""

from __future__ import annotations

import anyio.to_thread
import pytest
from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from hypothesis.errors import Unsatisfiable

from tests.api.conftest import Server, app_settings, free_port, login

SKIP = {
    # They end or change the session the run itself uses; covered by test_auth.
    ("POST", "/api/auth/logout"),
    ("POST", "/api/auth/password"),
    ("POST", "/api/auth/two-factor/enrol"),
    ("POST", "/api/auth/two-factor/confirm"),
    ("POST", "/api/auth/two-factor/disable"),
    # Starts the real "order-sync-manual" workflow; exercised end to end in test_order_flow.
    ("POST", "/api/operations/order-sync"),
}
MAX_EXAMPLES = 6


def _run(schema, base_url: str, headers: dict[str, str]) -> list[str]:
    from schemathesis.checks import not_a_server_error
    from schemathesis.specs.openapi.checks import response_schema_conformance

    failures: list[str] = []
    tested = 0
    for result in schema.get_all_operations():
        operation = result.ok()
        if (operation.method.upper(), operation.path) in SKIP:
            continue
        tested += 1

        @given(case=operation.as_strategy())
        @hsettings(
            max_examples=MAX_EXAMPLES,
            deadline=None,
            database=None,
            derandomize=True,
            suppress_health_check=list(HealthCheck),
        )
        def check(case) -> None:
            case.call_and_validate(
                base_url=base_url,
                headers=headers,
                checks=[not_a_server_error, response_schema_conformance],
            )

        try:
            check()
        except Unsatisfiable:
            pass
        except (Exception, BaseExceptionGroup) as exc:  # noqa: BLE001 - collect them all
            failures.append(f"{operation.method.upper()} {operation.path}: {exc}"[:2000])
    assert tested > 40
    return failures


@pytest.mark.timeout(170)
async def test_schemathesis_finds_no_server_errors(settings, migrated_db, make_user, temporal_env):
    import schemathesis

    from api.app import create_app

    target = temporal_env.client.service_client.config.target_host
    app = create_app(
        app_settings(
            settings,
            temporal_address=target,
            rate_limit_public=100_000,
            rate_limit_login=100_000,
            rate_limit_two_factor=100_000,
            rate_limit_api=100_000,
        )
    )
    port = free_port()
    with Server(app, port):
        from litestar.testing import AsyncTestClient

        base_url = f"http://127.0.0.1:{port}"
        async with AsyncTestClient(app=create_app(app_settings(settings))) as local:
            admin = await login(local, await make_user("admin"))
            spec = (await local.get("/schema/openapi.json")).json()
        schema = schemathesis.openapi.from_dict(spec)
        headers = {"Authorization": f"Bearer {admin.access_token}"}
        failures = await anyio.to_thread.run_sync(lambda: _run(schema, base_url, headers))
    assert not failures, "\n\n".join(failures)

"""`worlddoor doctor` against a live (test) deployment: every check passes or names its problem."""

from __future__ import annotations

import uuid

from ops.doctor import run_checks


async def test_doctor_passes_against_the_sandbox_and_names_what_is_missing(
    settings, migrated_db, clean_sandbox, temporal_env
) -> None:
    from api.accounts import create_admin

    create_admin(settings, f"doctor-{uuid.uuid4().hex[:6]}@theworlddoor.example", None)
    live = settings.model_copy(
        update={
            "temporal_address": temporal_env.client.service_client.config.target_host,
            "public_base_url": "http://127.0.0.1:9",  # no API there: that check must fail
        }
    )
    results = {r.name: r for r in await run_checks(live, fix=True)}
    failing = {name: r.detail for name, r in results.items() if not r.ok}
    assert set(failing) == {"api"}, failing
    assert "schedules order-sync" in results["temporal"].detail
    assert "versioning on" in results["s3 bucket"].detail

    wrong = live.model_copy(update={"openai_model": "gpt-nonexistent", "fedex_api_key": "nope"})
    results = {r.name: r for r in await run_checks(wrong)}
    assert not results["openai credentials"].ok and not results["fedex credentials"].ok


async def test_the_api_check_uses_the_configured_port_without_public_base_url() -> None:
    from config import Settings
    from ops.doctor import check_api
    from sandbox.local_s3 import free_port

    port = free_port()
    settings = Settings(api_port=port)
    assert settings.public_base_url == f"http://127.0.0.1:{port}"
    try:
        await check_api(settings, False)
    except RuntimeError as exc:
        assert f"http://127.0.0.1:{port}/api/ready" in str(exc)
    else:
        raise AssertionError("nothing listens there: the check must fail")

"""The SendGrid emulator over raw HTTP: auth, validation, accepted messages, rate-limit
headers, the signed-webhook settings endpoint and its sandbox controls."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest

from sandbox.sendgrid_signing import public_key_b64


@pytest.fixture
def api(clean_sandbox, settings) -> httpx.Client:
    key = settings.sendgrid_api_key.get_secret_value()
    with httpx.Client(
        base_url=f"{clean_sandbox.base_url}/sendgrid",
        headers={"Authorization": f"Bearer {key}"},
    ) as client:
        yield client


def _body(settings, **changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "from": {"email": "noreply@theworlddoor.example", "name": "The World Door"},
        "personalizations": [
            {
                "to": [{"email": "buyer@example.com"}],
                "dynamic_template_data": {"name": "Jo"},
                "custom_args": {"dedupe_key": "welcome:1"},
            }
        ],
        "template_id": settings.email_template_id("welcome"),
    }
    body.update(changes)
    return body


def test_wrong_or_missing_key_gets_sendgrids_401(clean_sandbox, settings):
    url = f"{clean_sandbox.base_url}/sendgrid/v3/mail/send"
    for headers in ({}, {"Authorization": "Bearer SG.nope"}):
        response = httpx.post(url, json=_body(settings), headers=headers)
        assert response.status_code == 401
        assert response.json() == {
            "errors": [
                {
                    "message": "The provided authorization grant is invalid, expired, or revoked",
                    "field": None,
                    "help": None,
                }
            ]
        }


def test_accepted_send_has_message_id_and_rate_limit_headers(api, settings, clean_sandbox):
    response = api.post("/v3/mail/send", json=_body(settings))
    assert response.status_code == 202 and response.content == b""
    message_id = response.headers["X-Message-Id"]
    assert len(message_id) == 22
    assert response.headers["X-RateLimit-Limit"] == "600"
    remaining = int(response.headers["X-RateLimit-Remaining"])
    again = api.post("/v3/mail/send", json=_body(settings))
    assert int(again.headers["X-RateLimit-Remaining"]) == remaining - 1
    assert int(again.headers["X-RateLimit-Reset"]) > 0
    assert clean_sandbox.ctx.ledger.count("sendgrid", "email_accepted", "welcome:1") == 2
    messages = httpx.get(f"{clean_sandbox.base_url}/_sandbox/sendgrid/messages").json()
    assert [m["id"] for m in messages["messages"]] == [message_id, again.headers["X-Message-Id"]]


def test_ledger_falls_back_to_message_id_without_dedupe_key(api, settings, clean_sandbox):
    body = _body(settings)
    del body["personalizations"][0]["custom_args"]
    response = api.post("/v3/mail/send", json=body)
    assert response.status_code == 202
    key = response.headers["X-Message-Id"]
    assert clean_sandbox.ctx.ledger.count("sendgrid", "email_accepted", key) == 1


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"from": None}, None),
        ({"personalizations": []}, None),
        ({"template_id": "d-unknown"}, "template_id"),
        ({"personalizations": [{"to": [{"email": "nobody"}]}]}, "personalizations.0.to.0.email"),
        ({"personalizations": [{"to": []}]}, "personalizations.0.to"),
    ],
)
def test_invalid_bodies_are_refused_with_field(api, settings, clean_sandbox, change, field):
    body = _body(settings, **change)
    if change.get("from", 0) is None:
        del body["from"]
    response = api.post("/v3/mail/send", json=body)
    assert response.status_code == 400, response.text
    [error] = response.json()["errors"]
    assert error["message"]
    if field:
        assert error["field"] == field
    assert clean_sandbox.ctx.ledger.count("sendgrid", "email_accepted") == 0


def test_content_required_without_template(api, settings):
    body = _body(settings)
    del body["template_id"]
    response = api.post("/v3/mail/send", json=body)
    assert response.status_code == 400 and response.json()["errors"][0]["field"] == "content"
    body["subject"] = "Hi"
    body["content"] = [{"type": "text/plain", "value": "Hello"}]
    assert api.post("/v3/mail/send", json=body).status_code == 202


def test_signed_webhook_settings_serve_the_verification_key(api, settings):
    response = api.get("/v3/user/webhooks/event/settings/signed")
    assert response.status_code == 200
    assert response.json() == {
        "enabled": True,
        "public_key": public_key_b64(settings.var_dir),
    }
    assert response.json()["public_key"] == settings.sendgrid_webhook_public_key


def test_event_control_validates_and_reset_clears(api, settings, clean_sandbox):
    url = f"{clean_sandbox.base_url}/_sandbox/sendgrid/events"
    assert httpx.post(url, json={"events": []}).status_code == 400
    bad = httpx.post(url, json={"events": [{"email": "a@example.com", "event": "exploded"}]})
    assert bad.status_code == 400 and "event" in bad.text
    unreachable = httpx.post(
        url,
        json={
            "url": "http://127.0.0.1:9/none",
            "events": [{"email": "a@x.example", "event": "open"}],
        },
    )
    assert unreachable.status_code == 502
    api.post("/v3/mail/send", json=_body(settings))
    httpx.post(f"{clean_sandbox.base_url}/_sandbox/sendgrid/settings", json={"auto_events": True})
    httpx.post(f"{clean_sandbox.base_url}/_sandbox/reset")
    state = httpx.get(f"{clean_sandbox.base_url}/_sandbox/sendgrid/messages").json()
    assert state == {"messages": [], "auto_events": False}


def test_unknown_routes_answer_in_sendgrids_shape(api):
    response = api.get("/v3/mail/send")
    assert response.status_code == 405
    assert response.json()["errors"][0]["message"]
    assert api.post("/v3/nothing", json={}).json()["errors"][0]["field"] is None


async def test_webhook_batches_the_receiver_refused_are_posted_again(settings, tmp_path):
    """Our API restarting (500 while its database is away) must not lose SendGrid's events: the
    emulator retries the batch, as SendGrid does, until the receiver takes it."""
    from litestar import Litestar, Request, Response, post

    from sandbox import sendgrid
    from sandbox.core import SandboxContext
    from tests.api.conftest import Server, free_port

    answers = [500, 503, 200]
    received: list[list[dict[str, Any]]] = []

    @post("/hook", status_code=200)
    async def hook(request: Request[Any, Any, Any]) -> Any:
        status = answers.pop(0)
        received.append(await request.json())
        return Response(b"", status_code=status)

    port = free_port()
    own = settings.model_copy(
        update={"sandbox_webhook_url": f"http://127.0.0.1:{port}/hook", "var_dir": tmp_path}
    )
    ctx = SandboxContext(settings=own)
    events = [{"email": "buyer@example.com", "event": "delivered", "sg_event_id": "e1"}]
    with Server(Litestar([hook]), port):
        await sendgrid._deliver(ctx, events, first_delay=0.05)
        state = sendgrid.state_of(ctx)
        assert len(state.retrying) == 1  # refused once: retried beside the emulator
        for _ in range(100):
            if not state.retrying:
                break
            await asyncio.sleep(0.05)
    assert not state.retrying and answers == []
    assert received == [events, events, events]


async def test_webhook_retries_stop_when_the_sandbox_resets(settings, tmp_path):
    from sandbox import sendgrid
    from sandbox.core import SandboxContext
    from tests.api.conftest import free_port

    own = settings.model_copy(
        update={"sandbox_webhook_url": f"http://127.0.0.1:{free_port()}/down", "var_dir": tmp_path}
    )
    ctx = SandboxContext(settings=own)
    await sendgrid._deliver(ctx, [{"email": "a@example.com", "event": "delivered"}], 0.05)
    state = sendgrid.state_of(ctx)
    (task,) = state.retrying
    ctx.reset()
    await asyncio.sleep(0)
    assert task.cancelled() or task.cancelling()

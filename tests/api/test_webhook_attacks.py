"""Webhook attacks (issue 14), against the app with the real store, database and the eBay
emulator over HTTP: replayed or malformed SendGrid batches, forged eBay deletion notices."""

from __future__ import annotations

import base64
import json
import time
import uuid
from typing import Any

import anyio.to_thread
import pytest

from models import Suppression
from models.db import session_scope
from sandbox.sendgrid_signing import private_key, sign

SIG = "X-Twilio-Email-Event-Webhook-Signature"
TS = "X-Twilio-Email-Event-Webhook-Timestamp"
SENDGRID = "/api/webhooks/sendgrid"
EBAY = "/api/webhooks/ebay/account-deletion"


def _signed(settings, payload: bytes, at: int | str) -> dict[str, str]:
    timestamp = str(at)
    return {
        SIG: sign(private_key(settings.var_dir), timestamp, payload),
        TS: timestamp,
        "content-type": "application/json",
    }


def _spam_report(email: str, **changes: Any) -> dict[str, Any]:
    return {
        "email": email,
        "event": "spamreport",
        "sg_event_id": uuid.uuid4().hex,
        "timestamp": int(time.time()),
        **changes,
    }


async def _suppressed(settings, email: str) -> bool:
    def run() -> bool:
        with session_scope(settings) as session:
            return session.get(Suppression, email) is not None

    return await anyio.to_thread.run_sync(run)


async def test_sendgrid_batches_outside_the_window_are_refused(client, settings):
    """Before: a validly signed batch a year old (or ten years ahead) was applied (200)."""
    email = f"replayed-{uuid.uuid4().hex[:8]}@spam.test"
    payload = json.dumps([_spam_report(email)]).encode()
    now = int(time.time())
    for at in (now - 365 * 86400, now - 301, now + 301, now + 10 * 365 * 86400):
        response = await client.post(
            SENDGRID, content=payload, headers=_signed(settings, payload, at)
        )
        assert response.status_code == 403, (at, response.text)
        assert "window" in response.json()["detail"]
    assert not await _suppressed(settings, email)
    fresh = await client.post(SENDGRID, content=payload, headers=_signed(settings, payload, now))
    assert fresh.status_code == 200 and await _suppressed(settings, email)


@pytest.mark.parametrize("timestamp", ["soon", "1e9", "-5", "12a", " 123", "9" * 20])
async def test_sendgrid_non_numeric_signed_timestamp_is_a_400(client, settings, timestamp):
    payload = b"[]"
    response = await client.post(
        SENDGRID, content=payload, headers=_signed(settings, payload, timestamp)
    )
    assert response.status_code == 400, response.text


@pytest.mark.parametrize("stamp", ["yesterday", [1], {"t": 1}, 1.5, True, None])
async def test_sendgrid_events_with_a_malformed_timestamp_are_a_400(client, settings, stamp):
    """Before: `"timestamp": [1]` in a signed batch -> 500 (TypeError in int())."""
    email = f"odd-{uuid.uuid4().hex[:8]}@spam.test"
    payload = json.dumps([_spam_report(email, timestamp=stamp)]).encode()
    response = await client.post(
        SENDGRID, content=payload, headers=_signed(settings, payload, int(time.time()))
    )
    assert response.status_code == 400, response.text
    assert not await _suppressed(settings, email)


async def test_sendgrid_deeply_nested_signed_batch_is_a_400(client, settings):
    """Before: a signed body nested 1,000 deep -> 500 (RecursionError in json.loads)."""
    payload = b"[" * 1000 + b"]" * 1000
    response = await client.post(
        SENDGRID, content=payload, headers=_signed(settings, payload, int(time.time()))
    )
    assert response.status_code == 400, response.text


def _ebay_header(kid: object) -> str:
    claims = {"alg": "ECDSA", "kid": kid, "signature": "AAAA", "digest": "SHA1"}
    return base64.b64encode(json.dumps(claims).encode()).decode()


async def test_forged_ebay_notifications_with_unknown_key_ids(client, clean_sandbox):
    """Before: an unknown `kid` -> 503 and an authenticated fetch from eBay per request, the kid
    pasted unescaped into the URL path. Now: 412, one fetch per unknown kid, none for a kid that
    is not shaped like one."""
    body = json.dumps({"notification": {"notificationId": "n-1", "data": {}}}).encode()
    for kid in ["no-such-key", "no-such-key", "../../sell/fulfillment/v1/order", "a%2Fb", 12]:
        response = await client.post(
            EBAY,
            content=body,
            headers={"X-EBAY-SIGNATURE": _ebay_header(kid), "content-type": "application/json"},
        )
        assert response.status_code == 412, (kid, response.text)
    deep = b"[" * 1000 + b"]" * 1000
    nested = await client.post(
        EBAY, content=deep, headers={"X-EBAY-SIGNATURE": _ebay_header("k"), "content-type": "a/b"}
    )
    assert nested.status_code == 400

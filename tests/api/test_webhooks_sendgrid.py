"""SendGrid Event Webhook: batches signed by the emulator (ECDSA, as SendGrid signs) reach the
API over real HTTP; forged signatures are refused; a replayed batch changes nothing."""

from __future__ import annotations

import json
import time
import uuid

import anyio.to_thread
import httpx
from sqlmodel import select

from models import EmailMessage, Suppression, WebhookEvent
from models.db import session_scope
from sandbox.sendgrid_signing import private_key, sign
from tests.api.conftest import Server, app_settings, free_port

SIG = "X-Twilio-Email-Event-Webhook-Signature"
TS = "X-Twilio-Email-Event-Webhook-Timestamp"
SPAMMER = f"someone-{uuid.uuid4().hex[:8]}@spam.test"


def _signed(settings, events: list[dict]) -> tuple[bytes, dict[str, str]]:
    payload = json.dumps(events).encode()
    timestamp = str(int(time.time()))
    signature = sign(private_key(settings.var_dir), timestamp, payload)
    return payload, {SIG: signature, TS: timestamp, "content-type": "application/json"}


def _message(settings, **values) -> EmailMessage:
    def run() -> EmailMessage:
        with session_scope(settings) as session:
            row = EmailMessage(template="order_confirmation", data={}, **values)
            session.add(row)
            return row

    return run()


def _reload(settings, message_id) -> EmailMessage:
    with session_scope(settings) as session:
        return session.get(EmailMessage, message_id)


async def test_emulator_signed_events_update_messages_and_suppressions(
    settings, migrated_db, clean_sandbox
):
    from adapters.sendgrid import Mailer
    from api.app import create_app

    recipient = f"buyer-{uuid.uuid4().hex[:8]}@example.com"
    dedupe = f"email-order_confirmation-{uuid.uuid4().hex[:8]}"
    mailer = Mailer(settings)
    provider_id = await anyio.to_thread.run_sync(
        lambda: mailer.send_template("order_confirmation", recipient, "Buyer", {}, dedupe)
    )
    row = await anyio.to_thread.run_sync(
        lambda: _message(
            settings,
            dedupe_key=dedupe,
            recipient=recipient,
            provider_message_id=provider_id,
            status="sent",
        )
    )
    bounced = f"gone-{uuid.uuid4().hex[:8]}@bounce.test"
    port = free_port()
    with Server(create_app(app_settings(settings)), port):
        url = f"http://127.0.0.1:{port}/api/webhooks/sendgrid"
        async with httpx.AsyncClient(base_url=clean_sandbox.base_url, timeout=20) as sandbox:
            posted = await sandbox.post(
                "/_sandbox/sendgrid/events",
                json={
                    "url": url,
                    "events": [
                        {"email": recipient, "event": "delivered", "message_id": provider_id},
                        {"email": recipient, "event": "open", "message_id": provider_id},
                        {"email": recipient, "event": "click", "message_id": provider_id},
                        {"email": recipient, "event": "open", "message_id": provider_id},
                        {"email": bounced, "event": "bounce"},
                    ],
                },
            )
            assert posted.status_code == 200, posted.text
            assert posted.json()["status"] == 200  # our receiver accepted the signed batch
            events = posted.json()["events"]

        updated = await anyio.to_thread.run_sync(lambda: _reload(settings, row.id))
        assert updated.status == "clicked"  # a later 'open' does not move it back
        assert (updated.opens, updated.clicks) == (2, 1)

        def suppression() -> Suppression | None:
            with session_scope(settings) as session:
                return session.get(Suppression, bounced)

        found = await anyio.to_thread.run_sync(suppression)
        assert found is not None and found.reason == "bounce" and "550" in found.detail

        # Replaying the very same signed batch: every event is a duplicate, nothing changes.
        payload, headers = _signed(settings, events)
        async with httpx.AsyncClient(timeout=20) as client:
            replay = await client.post(url, content=payload, headers=headers)
        assert replay.status_code == 200
        assert replay.json() == {"received": 5, "processed": 0, "duplicates": 5}
        again = await anyio.to_thread.run_sync(lambda: _reload(settings, row.id))
        assert (again.opens, again.clicks) == (2, 1)

        def recorded() -> int:
            ids = [f"sendgrid:{e['sg_event_id']}" for e in events]
            with session_scope(settings) as session:
                return len(session.exec(select(WebhookEvent).where(WebhookEvent.id.in_(ids))).all())

        assert await anyio.to_thread.run_sync(recorded) == 5


async def test_forged_or_unsigned_batches_are_refused(client, settings):
    event = {
        "email": SPAMMER,
        "event": "spamreport",
        "sg_event_id": uuid.uuid4().hex,
        "sg_message_id": "abc.filter",
        "timestamp": int(time.time()),
    }
    payload, headers = _signed(settings, [event])
    unsigned = await client.post(
        "/api/webhooks/sendgrid", content=payload, headers={"content-type": "application/json"}
    )
    assert unsigned.status_code == 400  # the headers are required (documented)
    tampered = payload.replace(b"spamreport", b"delivered")
    forged = await client.post("/api/webhooks/sendgrid", content=tampered, headers=headers)
    assert forged.status_code == 403
    assert forged.json()["detail"] == "the SendGrid signature does not match"
    wrong_time = {**headers, TS: str(int(headers[TS]) - 1)}
    stale = await client.post("/api/webhooks/sendgrid", content=payload, headers=wrong_time)
    assert stale.status_code == 403

    def suppressed() -> Suppression | None:
        with session_scope(settings) as session:
            return session.get(Suppression, SPAMMER)

    assert await anyio.to_thread.run_sync(suppressed) is None  # nothing applied
    good = await client.post("/api/webhooks/sendgrid", content=payload, headers=headers)
    assert good.status_code == 200 and good.json()["processed"] == 1
    assert (await anyio.to_thread.run_sync(suppressed)).reason == "spamreport"
    not_events = b'{"not": "a list"}'
    _, bad_headers = _signed(settings, [])
    bad_headers[SIG] = sign(private_key(settings.var_dir), bad_headers[TS], not_events)
    malformed = await client.post("/api/webhooks/sendgrid", content=not_events, headers=bad_headers)
    assert malformed.status_code == 400

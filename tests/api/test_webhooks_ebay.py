"""eBay Marketplace Account Deletion: the endpoint challenge and signed notifications sent by the
emulator over real HTTP; the buyer's personal data is erased, the orders are kept; a replayed
notification is processed once; a bad signature is refused."""

from __future__ import annotations

import json
import uuid

import anyio.to_thread
import httpx
import pytest

from models import EmailMessage, Order, Suppression
from models.db import session_scope
from tests.api.conftest import Server, app_settings, free_port


def _insert_order(settings, username: str, email: str) -> tuple[uuid.UUID, uuid.UUID]:
    with session_scope(settings) as session:
        order = Order(
            ebay_order_id=f"27-{uuid.uuid4().hex[:10]}",
            buyer_username=username,
            buyer_email=email,
            ship_to={"full_name": "Jane Buyer", "line1": "1 Main St", "country_code": "US"},
            line_items=[{"sku": "WD-1", "quantity": 1}],
            total_value="120.00",
            status="completed",
        )
        message = EmailMessage(
            dedupe_key=f"email-order_confirmation-{uuid.uuid4().hex[:8]}",
            template="order_confirmation",
            recipient=email,
            data={"buyer_name": "Jane Buyer"},
        )
        session.add(order)
        session.add(message)
        if session.get(Suppression, email) is None:
            session.add(Suppression(email=email, reason="bounce"))
        session.flush()
        return order.id, message.id


@pytest.fixture
async def deletion_endpoint(settings, migrated_db, clean_sandbox):
    from api.app import create_app

    port = free_port()
    url = f"http://127.0.0.1:{port}/api/webhooks/ebay/account-deletion"
    # The configured endpoint URL is part of the challenge hash: it must be the URL eBay calls.
    with Server(create_app(app_settings(settings, ebay_deletion_endpoint_url=url)), port):
        yield url


async def test_challenge_is_answered(deletion_endpoint, clean_sandbox):
    async with httpx.AsyncClient(base_url=clean_sandbox.base_url, timeout=20) as sandbox:
        checked = await sandbox.post(
            "/_sandbox/ebay/account-deletion/challenge", json={"endpoint_url": deletion_endpoint}
        )
    assert checked.status_code == 200, checked.text
    assert checked.json() == {"status": 200, "valid": True}


async def test_signed_deletion_erases_buyer_data_once(deletion_endpoint, clean_sandbox, settings):
    from sandbox.ebay import sign_notification, state_for

    username = f"buyer_{uuid.uuid4().hex[:8]}"
    email = f"{username}@example.com"
    order_id, message_id = await anyio.to_thread.run_sync(
        lambda: _insert_order(settings, username, email)
    )
    async with httpx.AsyncClient(base_url=clean_sandbox.base_url, timeout=20) as sandbox:
        sent = await sandbox.post(
            "/_sandbox/ebay/account-deletion",
            json={"username": username, "endpoint_url": deletion_endpoint},
        )
    assert sent.status_code == 200, sent.text
    assert sent.json()["status"] == 204

    def load() -> tuple[Order, EmailMessage, Suppression | None]:
        with session_scope(settings) as session:
            return (
                session.get(Order, order_id),
                session.get(EmailMessage, message_id),
                session.get(Suppression, email),
            )

    order, message, suppression = await anyio.to_thread.run_sync(load)
    assert order is not None and order.status == "completed"  # the order is kept
    assert order.buyer_username == "deleted-user" and order.buyer_email == ""
    assert order.ship_to == {"country_code": "US"}
    assert message.recipient != email and message.data == {}
    assert suppression is None

    # Replay of the same signed notification: recognised by its notificationId, no new work
    # (an order recorded for the same username afterwards is left alone).
    later_id, _ = await anyio.to_thread.run_sync(lambda: _insert_order(settings, username, email))
    body = json.dumps(sent.json()["notification"]).encode()
    signature = sign_notification(state_for(clean_sandbox.ctx), body)
    async with httpx.AsyncClient(timeout=20) as client:
        replay = await client.post(
            deletion_endpoint,
            content=body,
            headers={"X-EBAY-SIGNATURE": signature, "content-type": "application/json"},
        )
        assert replay.status_code == 204
        forged = await client.post(
            deletion_endpoint,
            content=body.replace(username.encode(), b"somebody_else"),
            headers={"X-EBAY-SIGNATURE": signature, "content-type": "application/json"},
        )
        assert forged.status_code == 412
        unsigned = await client.post(deletion_endpoint, content=body)
        assert unsigned.status_code == 400  # the header is required (documented)

    def later() -> Order:
        with session_scope(settings) as session:
            return session.get(Order, later_id)

    assert (await anyio.to_thread.run_sync(later)).buyer_username == username

"""Security notices, sent through the EmailWorkflow (started by name). The welcome email carries
an invitation link and is sent by api.security.invitations.

The `two_factor_code` template carries the security notices (`data.event` says which): two-factor
enabled, disabled or reset, a login lockout, and a sign-in from a new device. We chose notices
over emailed one-time codes as a fallback second factor: for staff accounts an emailed code is
only as strong as the mailbox, which is also where password resets land, so it would fold the
two factors into one; a notice instead tells the owner, out of band, when something changed.

Notices are started in the background, after the answer: a login that locks an account answers
as fast as one that does not (no timing difference), and an unreachable Temporal never blocks a
login. A failed start is logged, not retried (the action itself is already recorded)."""

from __future__ import annotations

import asyncio
import hashlib
import ipaddress
import json
from datetime import UTC, datetime
from typing import Any

from litestar import Request
from litestar.stores.base import Store

from api.temporal import TemporalGateway
from api.workflows import start
from config import Settings
from observability import get_logger
from workflows.contracts.email import SendEmail, email_workflow_id

log = get_logger(__name__)

NOTICE_TEMPLATE = "two_factor_code"
WELCOME_TEMPLATE = "welcome"
MAX_KNOWN_DEVICES = 20
TEMPORAL_STATE = "temporal"
SETTINGS_STATE = "settings"
"""Keys of the gateway and settings in the app state (set by create_app)."""

_pending: set[asyncio.Task[None]] = set()


async def _send(temporal: TemporalGateway, settings: Settings, email: SendEmail) -> None:
    try:
        client = await temporal.client()
        await start(
            client, settings, "EmailWorkflow", email, email_workflow_id(email.template, email.key)
        )
    except Exception as exc:  # noqa: BLE001 - a notice must never fail the request it follows
        log.warning("security email not started", template=email.template, error=str(exc))


def send_later(request: Request[Any, Any, Any], email: SendEmail) -> None:
    """Start the EmailWorkflow in the background (the gateway and settings are in app state)."""
    state = request.app.state
    task = asyncio.create_task(_send(state[TEMPORAL_STATE], state[SETTINGS_STATE], email))
    _pending.add(task)
    task.add_done_callback(_pending.discard)


async def drain() -> None:
    """Wait for the notices started so far (tests, shutdown). Polls, so it also works from
    another event loop than the app's (Litestar's test client runs the app in its own)."""
    while any(not task.done() for task in list(_pending)):  # noqa: ASYNC110 - cross-loop
        await asyncio.sleep(0.02)


def notice(
    request: Request[Any, Any, Any],
    *,
    to_email: str,
    to_name: str,
    event: str,
    key: str,
    details: dict[str, Any] | None = None,
) -> None:
    """One notice per (event, key): the key makes a retried request send it once."""
    send_later(
        request,
        SendEmail(
            template=NOTICE_TEMPLATE,
            to_email=to_email,
            to_name=to_name,
            key=f"{event}-{key}",
            data={
                "event": event,
                "at": datetime.now(UTC).isoformat(timespec="seconds"),
                **(details or {}),
            },
            categories=["security", event],
        ),
    )


def device_fingerprint(user_agent: str, client_id: str) -> str:
    """The browser/app (User-Agent) and the network (/24 or /48) it signs in from."""
    try:
        address = ipaddress.ip_address(client_id)
        prefix = 24 if address.version == 4 else 48
        network = str(ipaddress.ip_network(f"{address}/{prefix}", strict=False))
    except ValueError:
        network = client_id
    return hashlib.sha256(f"{user_agent[:300]}\n{network}".encode()).hexdigest()[:32]


def secret_tag(secret: str | None) -> str:
    """Names one two-factor enrolment in a notice key without revealing the secret."""
    return hashlib.sha256((secret or "none").encode()).hexdigest()[:12]


async def remember_device(store: Store, settings: Settings, user_id: str, device: str) -> bool:
    """Record the device; true when the account had signed in before from other devices only
    (a first sign-in ever is not news to the owner)."""
    raw = await store.get(user_id)
    known: list[str] = json.loads(raw) if raw else []
    if device in known:
        return False
    known = [device, *known][:MAX_KNOWN_DEVICES]
    await store.set(user_id, json.dumps(known), expires_in=settings.known_device_days * 86400)
    return bool(raw)

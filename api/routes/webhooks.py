"""Provider webhooks (public, signature-checked, own rate limit):

- SendGrid Event Webhook: ECDSA signature over timestamp + body; each sg_event_id once; bounces
  and spam reports become suppressions; delivery/open/click update the email's row.
- eBay Marketplace Account Deletion: the GET challenge, and signed POST notifications that erase
  the buyer's personal data from our orders (the orders themselves are kept, anonymised)."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Annotated, Any

import anyio.to_thread
from litestar import Request, Router, get, post
from litestar.di import NamedDependency
from litestar.exceptions import ClientException, HTTPException, PermissionDeniedException
from litestar.params import HeaderParameter, Parameter
from litestar.status_codes import HTTP_200_OK, HTTP_204_NO_CONTENT, HTTP_503_SERVICE_UNAVAILABLE
from pydantic import BaseModel
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from adapters.ebay_notifications import SIGNATURE_HEADER as EBAY_SIGNATURE_HEADER
from adapters.ebay_notifications import (
    ChallengeResponse,
    challenge_response,
    parse_account_deletion,
)
from adapters.sendgrid import SIGNATURE_HEADER as SENDGRID_SIGNATURE
from adapters.sendgrid import TIMESTAMP_HEADER as SENDGRID_TIMESTAMP
from adapters.sendgrid import TIMESTAMP_PATTERN, DeliveryEvent, event_webhook_signed_at
from api.db import in_session
from api.json_limits import check_json_depth
from api.security.ratelimit import limiter
from api.services import Services
from api.stores import RL_WEBHOOKS
from config import Settings
from models import EmailMessage, Order, Suppression, WebhookEvent
from observability import get_logger

log = get_logger(__name__)

ERASED_BUYER = "deleted-user"

# Progress of a delivered message; a later event never moves it backwards.
RANK = {"queued": 0, "sent": 1, "suppressed": 1, "delivered": 2, "opened": 3, "clicked": 4}
FAILED = {"bounced", "dropped", "spamreport"}


class EventsResult(BaseModel):
    received: int
    processed: int
    duplicates: int


# SendGrid -------------------------------------------------------------------------------------


def _claim(session: Session, event_id: str, source: str, kind: str) -> bool:
    """Record the event id; False if it was seen before (a savepoint absorbs the race)."""
    if session.get(WebhookEvent, event_id) is not None:
        return False
    try:
        with session.begin_nested():
            session.add(WebhookEvent(id=event_id, source=source, kind=kind[:40]))
    except IntegrityError:
        return False
    return True


def _find_message(session: Session, event: DeliveryEvent) -> EmailMessage | None:
    if event.dedupe_key:
        found = session.exec(
            select(EmailMessage).where(EmailMessage.dedupe_key == event.dedupe_key)
        ).first()
        if found is not None:
            return found
    if not event.message_id:
        return None
    return session.exec(
        select(EmailMessage).where(EmailMessage.provider_message_id == event.message_id)
    ).first()


def _advances(current: str, new: str) -> bool:
    """A failure always wins; otherwise only forward (opened never goes back to delivered)."""
    return new in FAILED or (current not in FAILED and RANK[new] > RANK.get(current, 0))


def _apply(session: Session, event: DeliveryEvent) -> None:
    if event.suppress and event.recipient:
        email = event.recipient.strip().lower()
        if session.get(Suppression, email) is None:
            session.add(Suppression(email=email, reason=event.suppress, detail=event.detail[:1000]))
    message = _find_message(session, event)
    if message is None:
        return
    status = event.status
    if status == "opened":
        message.opens += 1
    elif status == "clicked":
        message.clicks += 1
    if status and _advances(message.status, status):
        message.status = status
    message.updated_at = datetime.now(UTC)
    session.add(message)


@post(
    "/sendgrid",
    exclude_from_auth=True,
    status_code=HTTP_200_OK,
    summary="SendGrid Event Webhook (signed)",
    opt={"errors": (400, 403)},
)
async def sendgrid_events(
    request: Request[Any, Any, Any],
    settings: NamedDependency[Settings],
    services: NamedDependency[Services],
    signature: Annotated[
        str, HeaderParameter(name=SENDGRID_SIGNATURE, min_length=1, max_length=1024)
    ],
    timestamp: Annotated[str, HeaderParameter(name=SENDGRID_TIMESTAMP, pattern=TIMESTAMP_PATTERN)],
) -> EventsResult:
    payload = await request.body()
    try:
        signed_at = event_webhook_signed_at(timestamp)
    except ValueError as exc:
        raise ClientException(status_code=400, detail=str(exc)) from exc
    # A captured batch replayed later (or stamped ahead) is refused even with a valid signature.
    if abs(time.time() - signed_at) > settings.sendgrid_webhook_tolerance_seconds:
        raise PermissionDeniedException(
            "the SendGrid timestamp is outside the "
            f"{settings.sendgrid_webhook_tolerance_seconds}-second window"
        )
    check_json_depth(payload)
    mailer = services.mailer
    valid = await anyio.to_thread.run_sync(
        lambda: mailer.verify_event_webhook(payload, signature, timestamp)
    )
    if not valid:
        raise PermissionDeniedException("the SendGrid signature does not match")
    try:
        events = mailer.delivery_events(payload)
    except ValueError as exc:
        raise ClientException(status_code=400, detail=f"not a SendGrid event batch: {exc}") from exc

    def run(session: Session) -> EventsResult:
        processed = duplicates = 0
        for event in events:
            if not event.event_id:
                continue
            if not _claim(session, f"sendgrid:{event.event_id}", "sendgrid", event.kind):
                duplicates += 1
                continue
            _apply(session, event)
            processed += 1
        return EventsResult(received=len(events), processed=processed, duplicates=duplicates)

    return await in_session(settings, run)


# eBay account deletion ------------------------------------------------------------------------


@get(
    "/ebay/account-deletion",
    exclude_from_auth=True,
    summary="eBay endpoint validation challenge",
)
async def ebay_challenge(
    settings: NamedDependency[Settings],
    challenge_code: str = Parameter(min_length=1, max_length=512),
) -> ChallengeResponse:
    answer = challenge_response(
        challenge_code,
        settings.ebay_verification_token.get_secret_value(),
        settings.ebay_deletion_endpoint_url,
    )
    return ChallengeResponse(challengeResponse=answer)


def _erase_buyer(session: Session, username: str) -> int:
    """Anonymise every order of the buyer and forget the emails we kept for them."""
    orders = session.exec(select(Order).where(Order.buyer_username == username)).all()
    emails = {o.buyer_email.lower() for o in orders if o.buyer_email}
    now = datetime.now(UTC)
    for order in orders:
        order.buyer_username = ERASED_BUYER
        order.buyer_email = ""
        order.ship_to = {"country_code": order.ship_to.get("country_code", "")}
        order.updated_at = now
        session.add(order)
    for email in emails:
        for message in session.exec(
            select(EmailMessage).where(EmailMessage.recipient == email)
        ).all():
            message.recipient = "erased@invalid.example"
            message.data = {}
            session.add(message)
        suppression = session.get(Suppression, email)
        if suppression is not None:
            session.delete(suppression)
    return len(orders)


@post(
    "/ebay/account-deletion",
    exclude_from_auth=True,
    status_code=HTTP_204_NO_CONTENT,
    summary="eBay marketplace account deletion notification (signed)",
    opt={"errors": (400, 412, 503)},
)
async def ebay_account_deletion(
    request: Request[Any, Any, Any],
    settings: NamedDependency[Settings],
    services: NamedDependency[Services],
    signature: Annotated[
        str, HeaderParameter(name=EBAY_SIGNATURE_HEADER, min_length=1, max_length=4096)
    ],
) -> None:
    body = await request.body()
    check_json_depth(body)
    verifier = services.ebay_verifier
    try:
        valid = await anyio.to_thread.run_sync(lambda: verifier.verify(body, signature))
    except Exception as exc:  # noqa: BLE001 - key fetch failed: 503 so that eBay retries
        log.warning("ebay public key unavailable", error_type=type(exc).__name__)
        raise HTTPException(
            status_code=HTTP_503_SERVICE_UNAVAILABLE,
            detail="eBay's signing key could not be fetched; the notification will be retried",
        ) from exc
    if not valid:
        raise ClientException(status_code=412, detail="the eBay signature does not match")
    try:
        deletion = parse_account_deletion(body)
    except ValueError as exc:
        raise ClientException(
            status_code=400, detail="not an account deletion notification"
        ) from exc

    def run(session: Session) -> int | None:
        if not _claim(session, f"ebay:{deletion.notification_id}", "ebay", "account_deletion"):
            return None
        return _erase_buyer(session, deletion.username) if deletion.username else 0

    erased = await in_session(settings, run)
    log.info(
        "ebay account deletion",
        notification_id=deletion.notification_id,
        orders_anonymised=erased,
    )


def routers(settings: Settings) -> list[Router]:
    limit = limiter(
        settings.rate_limit_webhooks,
        settings.rate_limit_webhooks_window,
        RL_WEBHOOKS,
        settings.trusted_proxies,
    )
    return [
        Router(
            path="/api/webhooks",
            tags=["webhooks"],
            middleware=[limit.middleware],
            route_handlers=[sendgrid_events, ebay_challenge, ebay_account_deletion],
        )
    ]

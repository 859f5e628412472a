"""Transactional email through SendGrid dynamic templates, with the official `sendgrid` SDK,
and verification/parsing of SendGrid's signed Event Webhook.

SendGrid has no idempotency key: our dedupe key travels in `custom_args` (it comes back on every
event) and the caller records what it sent, so a retry after an unclear failure can be judged.
"""

from __future__ import annotations

import binascii
import http.client
import json
import re
import urllib.error
from typing import Any, Literal

from pydantic import BaseModel
from python_http_client import exceptions as sg_errors
from sendgrid import SendGridAPIClient
from sendgrid.helpers.eventwebhook import EventWebhook

from adapters.errors import (
    AdapterError,
    AuthenticationError,
    PermanentError,
    RateLimitedError,
    RetryableError,
    classify_status,
)
from config import EMAIL_TEMPLATES, Settings

SERVICE = "sendgrid"
DEFAULT_TIMEOUT = 30.0
SIGNATURE_HEADER = "X-Twilio-Email-Event-Webhook-Signature"
TIMESTAMP_HEADER = "X-Twilio-Email-Event-Webhook-Timestamp"

DeliveryStatus = Literal["delivered", "opened", "clicked", "bounced", "dropped", "spamreport"]
"""What an event says about a mail we sent, in the words of our `EmailMessage.status`."""
SuppressionReason = Literal["bounce", "spamreport", "unsubscribe"]
"""Why an address must not be mailed again, in the words of our `Suppression.reason`."""

STATUS_BY_EVENT: dict[str, DeliveryStatus] = {
    "delivered": "delivered",
    "open": "opened",
    "click": "clicked",
    "bounce": "bounced",
    "dropped": "dropped",
    "spamreport": "spamreport",
}
"""SendGrid event names -> our delivery status (processed, deferred, ... change nothing)."""
SUPPRESSION_BY_EVENT: dict[str, SuppressionReason] = {
    "bounce": "bounce",
    "spamreport": "spamreport",
    "unsubscribe": "unsubscribe",
    "group_unsubscribe": "unsubscribe",
}
"""SendGrid event names that mean: never mail this address again."""


class MailEvent(BaseModel):
    """One Event Webhook entry, with our dedupe key taken back out of the custom args."""

    event: str
    email: str
    sg_event_id: str
    sg_message_id: str = ""
    timestamp: int
    dedupe_key: str = ""
    reason: str = ""
    url: str = ""

    @property
    def message_id(self) -> str:
        """The X-Message-Id part of `sg_message_id` (`<id>.filter…`)."""
        return self.sg_message_id.split(".", 1)[0]


class DeliveryEvent(BaseModel):
    """One provider event about a mail we sent, in our words (what the webhook route applies)."""

    event_id: str
    """Unique per event: the route handles each once."""
    kind: str
    """The provider's own name for it, kept only for the webhook log."""
    recipient: str
    message_id: str = ""
    """The id the provider gave when it accepted the mail."""
    dedupe_key: str = ""
    """Our dedupe key, sent along with the mail and echoed back."""
    status: DeliveryStatus | None = None
    suppress: SuppressionReason | None = None
    detail: str = ""


def to_delivery_event(event: MailEvent) -> DeliveryEvent:
    return DeliveryEvent(
        event_id=event.sg_event_id,
        kind=event.event,
        recipient=event.email,
        message_id=event.message_id,
        dedupe_key=event.dedupe_key,
        status=STATUS_BY_EVENT.get(event.event),
        suppress=SUPPRESSION_BY_EVENT.get(event.event),
        detail=event.reason,
    )


TIMESTAMP_PATTERN = r"^[0-9]{1,12}$"
"""The Event Webhook timestamp header: unix seconds."""


def event_webhook_signed_at(timestamp: str) -> int:
    """The unix time in the Event Webhook's timestamp header; ValueError when it is not one."""
    if not re.fullmatch(TIMESTAMP_PATTERN, timestamp):
        raise ValueError("the Event Webhook timestamp is not a unix time")
    return int(timestamp)


class Mailer:
    def __init__(
        self,
        settings: Settings,
        client: SendGridAPIClient | None = None,
        *,
        timeout: float = DEFAULT_TIMEOUT,
    ) -> None:
        self.settings = settings
        self.timeout = timeout
        self.client = client or SendGridAPIClient(
            api_key=settings.sendgrid_api_key.get_secret_value(),
            host=settings.sendgrid_api_url,
        )

    # Sending -----------------------------------------------------------------------------------

    def build_message(
        self,
        template: str,
        to_email: str,
        to_name: str,
        data: dict[str, Any],
        dedupe_key: str,
        categories: list[str] | None = None,
    ) -> dict[str, Any]:
        """The v3 mail/send body (plain dict: the SDK posts dicts as they are)."""
        if template not in EMAIL_TEMPLATES:
            raise ValueError(f"unknown email template {template!r}")
        if not to_email or "@" not in to_email:
            raise ValueError(f"invalid recipient address {to_email!r}")
        if not dedupe_key:
            raise ValueError("dedupe_key is required")
        recipient: dict[str, str] = {"email": to_email}
        if to_name:
            recipient["name"] = to_name
        message: dict[str, Any] = {
            "from": {
                "email": self.settings.sendgrid_from_email,
                "name": self.settings.sendgrid_from_name,
            },
            "personalizations": [
                {
                    "to": [recipient],
                    "dynamic_template_data": data,
                    "custom_args": {"dedupe_key": dedupe_key, "template": template},
                }
            ],
            "template_id": self.settings.email_template_id(template),
        }
        # SendGrid allows at most 10 categories of 255 characters each.
        cleaned = list(dict.fromkeys(c[:255] for c in (categories or []) if c))[:10]
        if cleaned:
            message["categories"] = cleaned
        return message

    def send_template(
        self,
        template: str,
        to_email: str,
        to_name: str,
        data: dict[str, Any],
        dedupe_key: str,
        categories: list[str] | None = None,
    ) -> str:
        """Send one templated email; returns SendGrid's X-Message-Id."""
        message = self.build_message(template, to_email, to_name, data, dedupe_key, categories)
        try:
            response = self.client.client.mail.send.post(request_body=message, timeout=self.timeout)
        except sg_errors.HTTPError as exc:
            raise classify_sendgrid_error(exc) from exc
        except (urllib.error.URLError, http.client.HTTPException, OSError) as exc:
            # Refused connections, timeouts and responses cut mid-way: the mail may or may not
            # have been accepted; the caller decides with its dedupe record.
            raise RetryableError(SERVICE, f"{type(exc).__name__}: {exc}") from exc
        message_id = _header(response.headers, "X-Message-Id")
        if not message_id:
            raise RetryableError(SERVICE, f"HTTP {response.status_code} without X-Message-Id")
        return message_id

    def check_credentials(self) -> None:
        """For `worlddoor doctor`: the key may read the signed-webhook settings."""
        try:
            self.client.client.user.webhooks.event.settings.signed.get(timeout=self.timeout)
        except sg_errors.HTTPError as exc:
            raise classify_sendgrid_error(exc) from exc
        except (urllib.error.URLError, http.client.HTTPException, OSError) as exc:
            raise RetryableError(SERVICE, f"{type(exc).__name__}: {exc}") from exc

    # Event Webhook -------------------------------------------------------------------------------

    def verify_event_webhook(self, payload: bytes, signature: str, timestamp: str) -> bool:
        """True when `signature` is SendGrid's ECDSA signature of `timestamp + payload`."""
        key = self.settings.sendgrid_webhook_public_key
        if not key or not signature or not timestamp:
            return False
        try:
            text = payload.decode("utf-8")
            return bool(EventWebhook(key).verify_signature(text, signature, timestamp))
        except (ValueError, binascii.Error, UnicodeDecodeError):
            return False  # malformed key, signature or body: not a valid delivery

    @staticmethod
    def parse_events(payload: bytes) -> list[MailEvent]:
        """The events of one webhook POST (a JSON array); ValueError when it is not one."""
        try:
            raw = json.loads(payload)
        except (json.JSONDecodeError, RecursionError, UnicodeDecodeError) as exc:
            raise ValueError(f"event webhook body is not JSON: {type(exc).__name__}") from exc
        if not isinstance(raw, list):
            raise ValueError("event webhook body must be a JSON array of events")
        events: list[MailEvent] = []
        for index, item in enumerate(raw):
            if not isinstance(item, dict) or not item.get("event") or not item.get("sg_event_id"):
                raise ValueError(f"event {index} lacks 'event' or 'sg_event_id'")
            stamp = item.get("timestamp", 0)
            if isinstance(stamp, bool) or not isinstance(stamp, int):
                raise ValueError(f"event {index}: timestamp is not a unix time")
            events.append(
                MailEvent(
                    event=str(item["event"]),
                    email=str(item.get("email", "")),
                    sg_event_id=str(item["sg_event_id"]),
                    sg_message_id=str(item.get("sg_message_id", "")),
                    timestamp=stamp,
                    dedupe_key=str(item.get("dedupe_key", "")),
                    reason=str(item.get("reason", "") or item.get("response", "")),
                    url=str(item.get("url", "")),
                )
            )
        return events

    @classmethod
    def delivery_events(cls, payload: bytes) -> list[DeliveryEvent]:
        """The events of one webhook POST in our words; ValueError when it is not a batch."""
        return [to_delivery_event(event) for event in cls.parse_events(payload)]


def _header(headers: Any, name: str) -> str:
    value = headers.get(name) if headers is not None else None
    if value is None and headers is not None:
        value = headers.get(name.lower())
    return str(value or "")


def _error_message(exc: sg_errors.HTTPError) -> tuple[str, Any]:
    """SendGrid's `{"errors":[{message, field}]}` kept as 'field: message; …'."""
    try:
        body = json.loads(exc.body or b"{}")
        errors = body.get("errors") or []
        parts = [
            f"{e['field']}: {e['message']}" if e.get("field") else str(e.get("message"))
            for e in errors
        ]
        if parts:
            return "; ".join(parts), errors
    except (ValueError, AttributeError, TypeError, KeyError):
        pass
    raw = exc.body.decode("utf-8", "replace") if isinstance(exc.body, bytes) else str(exc.body)
    return (raw[:500] or f"HTTP {exc.status_code} {exc.reason}"), None


def classify_sendgrid_error(exc: sg_errors.HTTPError) -> AdapterError:
    status = int(exc.status_code)
    message, details = _error_message(exc)
    retry_after: float | None = None
    raw_retry = _header(exc.headers, "Retry-After")
    if raw_retry:
        try:
            retry_after = max(0.0, float(raw_retry))
        except ValueError:
            retry_after = None
    if status == 429:
        return RateLimitedError(
            SERVICE, message, status=status, retry_after=retry_after, details=details
        )
    if status in (401, 403):
        return AuthenticationError(SERVICE, message, status=status, details=details)
    if status in (400, 413):
        return PermanentError(SERVICE, message, status=status, details=details)
    return classify_status(SERVICE, status, message, retry_after=retry_after, details=details)


__all__ = [
    "DeliveryEvent",
    "MailEvent",
    "Mailer",
    "classify_sendgrid_error",
    "event_webhook_signed_at",
]

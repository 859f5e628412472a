"""The email workflow's contract: one email per business event, the workflow ID is the key."""

from __future__ import annotations

from datetime import timedelta
from typing import Any, Literal

from pydantic import BaseModel, Field

SEND_EMAIL_ACTIVITY = "email.send"
RECORD_SUPPRESSED_ACTIVITY = "email.record_suppressed"
IS_SUPPRESSED_ACTIVITY = "email.is_suppressed"
CONFIRM_EMAIL_ACTIVITY = "email.confirm"

CONFIRM_WINDOW = timedelta(minutes=10)
"""How long an unconfirmed send waits for SendGrid's Event Webhook before it is sent again."""
CONFIRM_EVERY = timedelta(seconds=15)
"""How often the email row is read during that window (the webhook writes it)."""


class SendEmail(BaseModel):
    template: str  # a name from config.EMAIL_TEMPLATES
    to_email: str
    to_name: str = ""
    key: str  # business key, e.g. the eBay order id; with the template it is the dedupe key
    data: dict[str, Any] = Field(default_factory=dict)
    # Template values that must not be readable in Temporal history or our tables (a password
    # reset link): sealed with FIELD_ENCRYPTION_KEY by the sender, opened only to send.
    sealed_data: dict[str, str] = Field(default_factory=dict)
    categories: list[str] = Field(default_factory=list)
    # Set by EmailWorkflow only: the earlier send stayed unconfirmed for CONFIRM_WINDOW, so an
    # in-doubt row may be sent again (a possible duplicate, counted with its reason).
    resend_unconfirmed: bool = False
    # Set by the workflows that start it today: the send's claim checks the suppression list
    # itself (and records `suppressed`), so EmailWorkflow asks no `is_suppressed` activity
    # first. False in the histories from before (and from the API's senders), which ask it.
    suppression_in_send: bool = False

    @property
    def dedupe_key(self) -> str:
        return email_workflow_id(self.template, self.key)


class EmailResult(BaseModel):
    status: Literal["sent", "suppressed"]
    message_id: str = ""
    # False when an earlier attempt's request may have reached SendGrid but its answer was lost:
    # we do not send again (SendGrid has no idempotency key); the Event Webhook, matched on the
    # dedupe_key custom arg, confirms it later.
    confirmed: bool = True
    # Why a second request went to SendGrid for the same dedupe key ("" when none did).
    resent_reason: str = ""


EMAIL_WORKFLOW = "EmailWorkflow"


def email_workflow_id(template: str, key: str) -> str:
    return f"email-{template}-{key}"

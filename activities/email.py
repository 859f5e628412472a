"""Email activities: suppression checks and the one send per business event.

SendGrid's mail send has no idempotency key, so "exactly once" is built around it:
1. an intent row (`EmailMessage`, unique `dedupe_key` = the workflow id) is committed with status
   `sending` right before the HTTP call;
2. the call is made (`custom_args.dedupe_key` lets the Event Webhook match events to the row);
3. the row is marked `sent` with SendGrid's X-Message-Id.
A retry that finds `sent` returns without sending. A retry that finds `sending` knows an earlier
attempt may have reached SendGrid with its answer lost (or the worker died mid-call): it does not
send again at once, marks the row `unconfirmed` and reports `confirmed=False`. EmailWorkflow then
reads the row (`email.confirm`) while the Event Webhook, matching the dedupe key in `custom_args`,
moves it on (`delivered`, `bounced`, ...); still unconfirmed after CONFIRM_WINDOW, it sends again
(`resend_unconfirmed`). So no email is lost, and a duplicate needs SendGrid to accept a request and
then send no event for the whole window; it is reported in `EmailResult.resent_reason`. When
SendGrid answered with an error, or the connection was refused, nothing was accepted, so the row
goes back to `queued` and the retry sends normally.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlmodel import select
from temporalio import activity
from temporalio.exceptions import ApplicationError

from activities.base import to_application_error
from activities.deps import Dependencies
from adapters.errors import AdapterError
from config import EMAIL_TEMPLATES
from domain.errors import CONFLICT, VALIDATION_FAILED
from models import EmailMessage, Suppression
from models.db import connection_scope, session_scope, table_of
from models.types import unseal, utcnow
from workflows.contracts.email import (
    CONFIRM_EMAIL_ACTIVITY,
    IS_SUPPRESSED_ACTIVITY,
    RECORD_SUPPRESSED_ACTIVITY,
    SEND_EMAIL_ACTIVITY,
    EmailResult,
    SendEmail,
)

DONE_STATUSES = {"sent", "delivered", "opened", "clicked", "bounced", "spamreport", "dropped"}
"""Statuses meaning SendGrid accepted the message (the later ones come from the webhook)."""

IN_DOUBT_STATUSES = {"sending", "unconfirmed"}


def _is_suppressed(session: Any, email: str) -> bool:
    found = session.exec(
        select(Suppression).where(sa.func.lower(Suppression.email) == email.strip().lower())
    ).first()
    return found is not None


def _answer_was_received(error: AdapterError) -> bool:
    """True when SendGrid (or the network before it) certainly did not accept the request:
    an HTTP error answer, or a connection that was never made."""
    if error.status is not None and error.status >= 400:  # (a cut-off 2xx was accepted)
        return True
    cause: BaseException | None = error
    while cause is not None:
        if isinstance(cause, ConnectionRefusedError) or type(cause).__name__ == "ConnectError":
            return True
        cause = cause.__cause__ or cause.__context__
    return False


class EmailActivities:
    """Customer and staff email through the mailer, at most once per message row.

    One instance per worker; its `@activity.defn` methods are registered by name."""

    def __init__(self, deps: Dependencies) -> None:
        self.deps = deps
        self.settings = deps.settings

    def _row(self, session: Any, request: SendEmail) -> EmailMessage | None:
        return session.exec(
            select(EmailMessage).where(EmailMessage.dedupe_key == request.dedupe_key)
        ).first()

    def _set_status(self, request: SendEmail, status: str, message_id: str = "") -> None:
        """One UPDATE by the dedupe key (no row loaded): after every send."""
        table = table_of(EmailMessage)
        values: dict[str, Any] = {"status": status, "updated_at": utcnow()}
        if message_id:
            values["provider_message_id"] = message_id
        with connection_scope(self.settings) as connection:
            connection.execute(
                sa.update(table).where(table.c.dedupe_key == request.dedupe_key).values(values)
            )

    @activity.defn(name=IS_SUPPRESSED_ACTIVITY)
    def is_suppressed(self, email: str) -> bool:
        with session_scope(self.settings) as session:
            return _is_suppressed(session, email)

    @activity.defn(name=RECORD_SUPPRESSED_ACTIVITY)
    def record_suppressed(self, request: SendEmail) -> EmailResult:
        with session_scope(self.settings) as session:
            row = self._row(session, request)
            if row is None:
                session.add(
                    EmailMessage(
                        dedupe_key=request.dedupe_key,
                        template=request.template,
                        recipient=request.to_email,
                        data=request.data,
                        status="suppressed",
                    )
                )
            elif row.status not in DONE_STATUSES:
                row.status = "suppressed"
                row.updated_at = utcnow()
                session.add(row)
        return EmailResult(status="suppressed")

    def _claim(self, request: SendEmail) -> EmailResult | None:
        """Write the intent (status `sending`) or say why no send is needed."""
        try:
            with session_scope(self.settings) as session:
                row = self._row(session, request)
                if row is None:
                    row = EmailMessage(
                        dedupe_key=request.dedupe_key,
                        template=request.template,
                        recipient=request.to_email,
                        data=request.data,
                    )
                elif row.status in DONE_STATUSES:
                    return EmailResult(status="sent", message_id=row.provider_message_id)
                elif row.status == "suppressed":
                    return EmailResult(status="suppressed")
                elif row.status == "unconfirmed" and request.resend_unconfirmed:
                    activity.logger.warning(
                        "email %s: no SendGrid event for the earlier send; sending again",
                        request.dedupe_key,
                    )
                elif row.status in IN_DOUBT_STATUSES:
                    activity.logger.warning(
                        "email %s: an earlier attempt may have been accepted; not resending",
                        request.dedupe_key,
                    )
                    row.status = "unconfirmed"
                    row.updated_at = utcnow()
                    session.add(row)
                    return EmailResult(status="sent", message_id="", confirmed=False)
                if _is_suppressed(session, request.to_email):
                    row.status = "suppressed"
                    session.add(row)
                    return EmailResult(status="suppressed")
                row.status = "sending"
                row.updated_at = utcnow()
                session.add(row)
        except sa.exc.IntegrityError:
            # A concurrent attempt inserted the row first: its outcome decides.
            raise ApplicationError(
                f"email {request.dedupe_key} is being sent concurrently", type=CONFLICT
            ) from None
        return None

    @activity.defn(name=CONFIRM_EMAIL_ACTIVITY)
    def confirm(self, request: SendEmail) -> EmailResult | None:
        """The send confirmed since (the Event Webhook moved the row on), or None."""
        with session_scope(self.settings) as session:
            row = self._row(session, request)
            if row is None or row.status not in DONE_STATUSES:
                return None
            return EmailResult(status="sent", message_id=row.provider_message_id)

    @activity.defn(name=SEND_EMAIL_ACTIVITY)
    def send_email(self, request: SendEmail) -> EmailResult:
        if request.template not in EMAIL_TEMPLATES:
            raise ApplicationError(
                f"unknown email template {request.template!r}",
                type=VALIDATION_FAILED,
                non_retryable=True,
            )
        decided = self._claim(request)
        if decided is not None:
            return decided
        try:
            message_id = self.deps.mailer.send_template(
                request.template,
                request.to_email,
                request.to_name,
                {**request.data, **{k: unseal(v) for k, v in request.sealed_data.items()}},
                request.dedupe_key,
                request.categories or [request.template],
            )
        except ValueError as error:  # refused before any request: bad address or template
            self._set_status(request, "failed")
            raise ApplicationError(
                str(error), type=VALIDATION_FAILED, non_retryable=True
            ) from error
        except AdapterError as error:
            if not error.retryable:
                self._set_status(request, "failed")
            elif _answer_was_received(error):
                self._set_status(request, "queued")  # nothing accepted: the retry may send
            # else: left `sending` -> the retry will not resend (see the module docstring)
            raise to_application_error(error) from error
        self._set_status(request, "sent", message_id)
        return EmailResult(status="sent", message_id=message_id)

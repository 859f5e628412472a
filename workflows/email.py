"""EmailWorkflow (id `email-{template}-{key}`): one email per business event.

The workflow ID is the dedupe key, so starting it twice sends once; suppressed addresses
(bounces, spam reports, unsubscribes) are recorded and skipped. See `activities/email.py` for how
the send stays at-most-once although SendGrid's API has no idempotency key.
"""

from __future__ import annotations

from datetime import timedelta

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from workflows.common import DATABASE, EXTERNAL
    from workflows.contracts.email import (
        CONFIRM_EMAIL_ACTIVITY,
        CONFIRM_EVERY,
        CONFIRM_WINDOW,
        EMAIL_WORKFLOW,
        IS_SUPPRESSED_ACTIVITY,
        RECORD_SUPPRESSED_ACTIVITY,
        SEND_EMAIL_ACTIVITY,
        EmailResult,
        SendEmail,
    )


CONFIRM_THEN_RESEND = "email-confirm-then-resend"
"""Patch id: an unconfirmed send waits for the webhook, then is sent again."""
MAX_RESENDS = 3


@workflow.defn(name=EMAIL_WORKFLOW)
class EmailWorkflow:
    def __init__(self) -> None:
        self._result: EmailResult | None = None

    @workflow.run
    async def run(self, request: SendEmail) -> EmailResult:
        workflow.set_current_details(f"{request.template} to {request.to_email}")
        # the send checks the suppression list itself; older starts asked first
        suppressed = not request.suppression_in_send and await workflow.execute_activity(
            IS_SUPPRESSED_ACTIVITY, request.to_email, result_type=bool, **DATABASE
        )
        if suppressed:
            self._result = await workflow.execute_activity(
                RECORD_SUPPRESSED_ACTIVITY, request, result_type=EmailResult, **DATABASE
            )
        else:
            self._result = await workflow.execute_activity(
                SEND_EMAIL_ACTIVITY,
                request,
                result_type=EmailResult,
                summary=f"send {request.template}",
                **EXTERNAL,
            )
            if not self._result.confirmed and workflow.patched(CONFIRM_THEN_RESEND):
                self._result = await self._confirm_or_resend(request)
        workflow.set_current_details(f"{request.template}: {self._result.status}")
        return self._result

    async def _confirm_or_resend(self, request: SendEmail) -> EmailResult:
        """An earlier request may have reached SendGrid with its answer lost. Nothing is lost:
        wait for the Event Webhook to confirm it (matched on the dedupe key in `custom_args`) for
        CONFIRM_WINDOW, then send again — a duplicate only when SendGrid took the first request
        but never reported it, counted by `resent_reason`. A resend whose answer is lost again
        goes through the same window, at most MAX_RESENDS times."""
        resent = 0
        while True:
            waited = timedelta(0)
            while waited < CONFIRM_WINDOW:
                workflow.set_current_details(f"{request.template}: waiting for SendGrid's events")
                await workflow.sleep(CONFIRM_EVERY, summary="email confirmation")
                waited += CONFIRM_EVERY
                confirmed = await workflow.execute_activity(
                    CONFIRM_EMAIL_ACTIVITY,
                    request,
                    result_type=EmailResult | None,  # type: ignore[arg-type]
                    **DATABASE,
                )
                if confirmed is not None:
                    return confirmed.model_copy(update={"resent_reason": self._reason(resent)})
            if resent == MAX_RESENDS:
                workflow.logger.error("email %s never confirmed", request.dedupe_key)
                return EmailResult(
                    status="sent", confirmed=False, resent_reason=self._reason(resent)
                )
            resent += 1
            result = await workflow.execute_activity(
                SEND_EMAIL_ACTIVITY,
                request.model_copy(update={"resend_unconfirmed": True}),
                result_type=EmailResult,
                summary=f"resend {request.template}",
                **EXTERNAL,
            )
            if result.confirmed:
                return result.model_copy(update={"resent_reason": self._reason(resent)})

    @staticmethod
    def _reason(resent: int) -> str:
        if not resent:
            return ""
        window = int(CONFIRM_WINDOW.total_seconds())
        return f"no SendGrid event within {window}s after a lost answer (resent {resent}x)"

    @workflow.query(name="status")
    def status(self) -> EmailResult | None:
        return self._result

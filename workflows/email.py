"""EmailWorkflow (id `email-{template}-{key}`): one email per business event.

The workflow ID is the dedupe key, so starting it twice sends once; suppressed addresses
(bounces, spam reports, unsubscribes) are recorded and skipped. See `activities/email.py` for how
the send stays at-most-once although SendGrid's API has no idempotency key.
"""

from __future__ import annotations

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from workflows.common import DATABASE, EXTERNAL
    from workflows.contracts.email import (
        EMAIL_WORKFLOW,
        IS_SUPPRESSED_ACTIVITY,
        RECORD_SUPPRESSED_ACTIVITY,
        SEND_EMAIL_ACTIVITY,
        EmailResult,
        SendEmail,
    )


@workflow.defn(name=EMAIL_WORKFLOW)
class EmailWorkflow:
    def __init__(self) -> None:
        self._result: EmailResult | None = None

    @workflow.run
    async def run(self, request: SendEmail) -> EmailResult:
        workflow.set_current_details(f"{request.template} to {request.to_email}")
        suppressed = await workflow.execute_activity(
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
        workflow.set_current_details(f"{request.template}: {self._result.status}")
        return self._result

    @workflow.query(name="status")
    def status(self) -> EmailResult | None:
        return self._result

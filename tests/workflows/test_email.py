"""EmailWorkflow end to end: real worker, real SendGrid emulator over HTTP, real database."""

from __future__ import annotations

import asyncio
import uuid

import httpx
import pytest
from sqlmodel import select
from temporalio.client import WorkflowFailureError
from temporalio.common import WorkflowIDReusePolicy
from temporalio.exceptions import WorkflowAlreadyStartedError

from tests.workflows.conftest import record_history
from workflows.contracts.email import EmailResult, SendEmail, email_workflow_id
from workflows.email import EmailWorkflow

pytestmark = pytest.mark.timeout(60)


def _request(to: str = "buyer@example.com") -> SendEmail:
    return SendEmail(
        template="order_confirmation",
        to_email=to,
        to_name="Buyer",
        key=f"test-{uuid.uuid4().hex[:10]}",
        data={"order_id": "12-34567-89012", "items": ["Seiko 5"]},
    )


def _row(settings, key: str):
    from models import EmailMessage
    from models.db import session_scope

    with session_scope(settings) as session:
        return session.exec(select(EmailMessage).where(EmailMessage.dedupe_key == key)).first()


async def _run(worker, request: SendEmail, **kwargs) -> EmailResult:
    return await worker.client.execute_workflow(
        EmailWorkflow.run,
        request,
        id=email_workflow_id(request.template, request.key),
        task_queue=worker.task_queue,
        **kwargs,
    )


async def test_sends_once_and_records_the_message(worker, clean_sandbox, settings) -> None:
    request = _request()
    result = await _run(worker, request)
    assert result.status == "sent" and result.message_id and result.confirmed
    assert clean_sandbox.ctx.ledger.count("sendgrid", "email_accepted", request.dedupe_key) == 1
    row = _row(settings, request.dedupe_key)
    assert row.status == "sent" and row.provider_message_id == result.message_id
    assert row.template == "order_confirmation" and row.recipient == "buyer@example.com"

    # Same id again: a running duplicate is refused, a re-run after completion finds the row.
    again = await _run(worker, request)
    assert again.message_id == result.message_id
    assert clean_sandbox.ctx.ledger.count("sendgrid", "email_accepted", request.dedupe_key) == 1
    handle = worker.client.get_workflow_handle(email_workflow_id(request.template, request.key))
    await record_history(handle, "email_sent")


async def test_duplicate_start_is_rejected(worker, clean_sandbox) -> None:
    request = _request()
    wid = email_workflow_id(request.template, request.key)
    await _run(worker, request)
    with pytest.raises(WorkflowAlreadyStartedError):
        await worker.client.start_workflow(
            EmailWorkflow.run,
            request,
            id=wid,
            task_queue=worker.task_queue,
            id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
        )
    assert clean_sandbox.ctx.ledger.count("sendgrid", "email_accepted", request.dedupe_key) == 1


async def _lose_next_answer(sandbox) -> None:
    async with httpx.AsyncClient() as http:
        r = await http.post(
            f"{sandbox.base_url}/_sandbox/faults",
            json={
                "sendgrid": {
                    "lost_response_rate": 1.0,
                    "times": 1,
                    "path_contains": "/v3/mail/send",
                }
            },
        )
        r.raise_for_status()


async def test_lost_answer_confirmed_by_the_webhook_is_not_sent_again(
    ts_worker, clean_sandbox, settings
) -> None:
    """SendGrid accepted the mail but the answer was lost: the retry does not send at once (no
    idempotency key); the row is `unconfirmed` until the Event Webhook's event for the dedupe key
    moves it on, and then the workflow ends with one email sent."""
    from adapters.sendgrid import DeliveryEvent
    from api.routes.webhooks import _apply
    from models.db import session_scope

    request = _request()
    await _lose_next_answer(clean_sandbox)
    handle = await ts_worker.client.start_workflow(
        EmailWorkflow.run,
        request,
        id=email_workflow_id(request.template, request.key),
        task_queue=ts_worker.task_queue,
    )
    for _ in range(400):  # the retry marked the row in doubt
        row = _row(settings, request.dedupe_key)
        if row is not None and row.status == "unconfirmed":
            break
        await asyncio.sleep(0.05)
    assert _row(settings, request.dedupe_key).status == "unconfirmed"
    with session_scope(settings) as session:  # what the webhook route does with the event
        event = DeliveryEvent(
            event_id=uuid.uuid4().hex,
            kind="delivered",
            recipient=request.to_email,
            dedupe_key=request.dedupe_key,
            status="delivered",
        )
        _apply(session, event)
    result = await handle.result()
    assert result.status == "sent" and result.confirmed and result.resent_reason == ""
    assert clean_sandbox.ctx.ledger.count("sendgrid", "email_accepted", request.dedupe_key) == 1


async def test_lost_answer_never_confirmed_is_sent_again_after_the_window(
    ts_worker, clean_sandbox, settings
) -> None:
    """No event for the whole confirmation window: nothing may be lost, so it is sent again and
    the possible duplicate is reported with its reason."""
    request = _request()
    await _lose_next_answer(clean_sandbox)
    result = await ts_worker.client.execute_workflow(
        EmailWorkflow.run,
        request,
        id=email_workflow_id(request.template, request.key),
        task_queue=ts_worker.task_queue,
    )
    assert result.status == "sent" and result.confirmed
    assert "no SendGrid event" in result.resent_reason
    assert clean_sandbox.ctx.ledger.count("sendgrid", "email_accepted", request.dedupe_key) == 2
    assert _row(settings, request.dedupe_key).status == "sent"


async def test_error_answer_is_retried_and_sent_once(worker, clean_sandbox, settings) -> None:
    """A 503 means SendGrid accepted nothing: the retry sends, exactly once, confirmed."""
    request = _request()
    async with httpx.AsyncClient() as http:
        await http.post(
            f"{clean_sandbox.base_url}/_sandbox/faults",
            json={
                "sendgrid": {
                    "error_rate": 1.0,
                    "error_status": 503,
                    "times": 1,
                    "path_contains": "/v3/mail/send",
                }
            },
        )
    result = await _run(worker, request)
    assert result.confirmed and result.message_id
    assert clean_sandbox.ctx.ledger.count("sendgrid", "email_accepted", request.dedupe_key) == 1
    assert _row(settings, request.dedupe_key).status == "sent"


async def test_suppressed_address_is_skipped(worker, clean_sandbox, settings) -> None:
    from models import Suppression
    from models.db import session_scope

    address = f"gone-{uuid.uuid4().hex[:8]}@example.com"
    with session_scope(settings) as session:
        session.add(Suppression(email=address, reason="bounce", detail="550 mailbox unknown"))
    request = _request(to=address.upper())  # matching ignores case
    result = await _run(worker, request)
    assert result.status == "suppressed"
    assert clean_sandbox.ctx.ledger.count("sendgrid", "email_accepted", request.dedupe_key) == 0
    assert _row(settings, request.dedupe_key).status == "suppressed"
    handle = worker.client.get_workflow_handle(email_workflow_id(request.template, request.key))
    await record_history(handle, "email_suppressed")


async def test_unknown_template_fails_permanently(worker, clean_sandbox) -> None:
    request = _request().model_copy(update={"template": "no_such_template"})
    with pytest.raises(WorkflowFailureError) as failure:
        await _run(worker, request)
    assert "unknown email template" in str(failure.value.cause.cause)
    assert clean_sandbox.ctx.ledger.count("sendgrid", "email_accepted") == 0


async def test_sealed_values_reach_the_provider_but_not_history_or_rows(
    worker, clean_sandbox, settings
) -> None:
    from models.types import seal

    link = f"https://backoffice.example/reset-password?token={uuid.uuid4().hex}"
    request = _request().model_copy(update={"sealed_data": {"reset_url": seal(link)}})
    result = await _run(worker, request)
    assert result.status == "sent"
    async with httpx.AsyncClient() as http:
        answer = await http.get(f"{clean_sandbox.base_url}/_sandbox/sendgrid/messages")
    sent = answer.json()["messages"]
    assert link in str(sent[-1])  # the buyer's email carries the link
    history = await worker.client.get_workflow_handle(
        email_workflow_id(request.template, request.key)
    ).fetch_history()
    assert link not in history.to_json()
    assert link not in str(_row(settings, request.dedupe_key).data)

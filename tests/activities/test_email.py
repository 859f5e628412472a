"""Email activities against the SendGrid emulator over HTTP and the real database."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from temporalio.exceptions import ApplicationError
from temporalio.testing import ActivityEnvironment

from workflows.contracts.email import (
    SendEmail,
)

pytestmark = pytest.mark.timeout(60)


@pytest.fixture(scope="module")
def email_activities(settings, migrated_db, sandbox) -> Any:
    from activities.deps import Dependencies
    from activities.email import EmailActivities

    return EmailActivities(Dependencies(settings))


def _request(to: str = "buyer@example.com") -> SendEmail:
    return SendEmail(
        template="shipping_notification",
        to_email=to,
        to_name="Buyer",
        key=uuid.uuid4().hex,
        data={"tracking_number": "794600000000"},
    )


def _lose_next_send(sandbox) -> None:
    from sandbox.core import FaultRule

    sandbox.ctx.faults["sendgrid"] = FaultRule(
        lost_response_rate=1.0, times=1, path_contains="/v3/mail/send"
    )


def test_send_twice_sends_once(email_activities, clean_sandbox) -> None:
    env = ActivityEnvironment()
    request = _request()
    first = env.run(email_activities.send_email, request)
    second = env.run(email_activities.send_email, request)
    assert first.status == "sent" and first.message_id
    assert second.message_id == first.message_id
    assert clean_sandbox.ctx.ledger.count("sendgrid", "email_accepted", request.dedupe_key) == 1


def test_lost_response_then_retry_does_not_resend(
    email_activities, clean_sandbox, settings
) -> None:
    from models import EmailMessage
    from models.db import session_scope

    env = ActivityEnvironment()
    request = _request()
    _lose_next_send(clean_sandbox)
    with pytest.raises(ApplicationError) as lost:
        env.run(email_activities.send_email, request)
    assert not lost.value.non_retryable  # Temporal retries it ...
    retried = env.run(email_activities.send_email, request)
    assert retried.status == "sent" and retried.confirmed is False  # ... and it does not resend
    assert clean_sandbox.ctx.ledger.count("sendgrid", "email_accepted", request.dedupe_key) == 1
    with session_scope(settings) as session:
        row = session.exec(
            EmailMessage.__table__.select().where(EmailMessage.dedupe_key == request.dedupe_key)
        ).first()
    assert row.status == "unconfirmed"


def test_suppression_checks(email_activities, clean_sandbox, settings) -> None:
    from models import Suppression
    from models.db import session_scope

    env = ActivityEnvironment()
    address = f"spam-{uuid.uuid4().hex[:8]}@example.com"
    assert env.run(email_activities.is_suppressed, address) is False
    with session_scope(settings) as session:
        session.add(Suppression(email=address, reason="spamreport"))
    assert env.run(email_activities.is_suppressed, address.title()) is True
    request = _request(to=address)
    # Even called directly, the send re-checks and refuses a suppressed address.
    assert env.run(email_activities.send_email, request).status == "suppressed"
    assert env.run(email_activities.record_suppressed, request).status == "suppressed"
    assert clean_sandbox.ctx.ledger.count("sendgrid", "email_accepted") == 0


def test_refused_connection_is_safe_to_resend(email_activities, clean_sandbox, settings) -> None:
    """Nothing reached SendGrid (connection refused): the row goes back to `queued`, so the
    retry sends normally and the message is confirmed."""
    from activities.deps import Dependencies
    from activities.email import EmailActivities
    from models import EmailMessage
    from models.db import session_scope
    from sandbox.local_s3 import free_port

    closed = settings.model_copy(update={"sendgrid_base_url": f"http://127.0.0.1:{free_port()}"})
    offline = EmailActivities(Dependencies(closed))
    env = ActivityEnvironment()
    request = _request()
    with pytest.raises(ApplicationError) as refused:
        env.run(offline.send_email, request)
    assert not refused.value.non_retryable
    with session_scope(settings) as session:
        row = session.exec(
            EmailMessage.__table__.select().where(EmailMessage.dedupe_key == request.dedupe_key)
        ).first()
    assert row.status == "queued"
    sent = env.run(email_activities.send_email, request)
    assert sent.confirmed and sent.message_id
    assert clean_sandbox.ctx.ledger.count("sendgrid", "email_accepted", request.dedupe_key) == 1

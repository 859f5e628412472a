"""Mailer against the SendGrid emulator over real HTTP: sends, error classification under
injected faults, and the signed Event Webhook end to end."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import pytest
from pydantic import SecretStr

from adapters.errors import (
    AuthenticationError,
    PermanentError,
    RateLimitedError,
    RetryableError,
)
from adapters.sendgrid import Mailer


class Receiver:
    """A webhook endpoint on a free local port that keeps what it is sent."""

    def __init__(self) -> None:
        self.requests: list[tuple[dict[str, str], bytes]] = []
        received = self.requests

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server's naming
                body = self.rfile.read(int(self.headers.get("content-length", 0)))
                received.append((dict(self.headers.items()), body))
                self.send_response(200)
                self.send_header("content-length", "0")
                self.end_headers()

            def log_message(self, *_args: Any) -> None:
                return

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/api/webhooks/sendgrid"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def wait(self, count: int = 1, timeout: float = 5.0) -> None:
        deadline = time.time() + timeout
        while len(self.requests) < count and time.time() < deadline:
            time.sleep(0.02)
        assert len(self.requests) >= count, "webhook batch never arrived"


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    running = Receiver()
    yield running
    running.server.shutdown()


@pytest.fixture
def mailer(settings) -> Mailer:
    return Mailer(settings)


def _fault(sandbox, **rule: Any) -> None:
    response = httpx.post(f"{sandbox.base_url}/_sandbox/faults", json={"sendgrid": rule})
    assert response.status_code == 200, response.text


def _messages(sandbox) -> list[dict[str, Any]]:
    return httpx.get(f"{sandbox.base_url}/_sandbox/sendgrid/messages").json()["messages"]


def test_send_template_returns_message_id_and_sends_our_fields(clean_sandbox, mailer, settings):
    message_id = mailer.send_template(
        "order_confirmation",
        "buyer@example.com",
        "Jo Buyer",
        {"order_id": "O-1"},
        "email:O-1",
        ["order_confirmation", "orders"],
    )
    assert len(message_id) >= 16
    [message] = _messages(clean_sandbox)
    assert message["id"] == message_id
    assert message["template_id"] == settings.email_template_id("order_confirmation")
    assert message["custom_args"]["dedupe_key"] == "email:O-1"
    assert message["categories"] == ["order_confirmation", "orders"]
    assert message["dynamic_template_data"] == {"order_id": "O-1"}
    assert clean_sandbox.ctx.ledger.count("sendgrid", "email_accepted", "email:O-1") == 1


def test_bad_input_is_refused_before_any_call(clean_sandbox, mailer):
    with pytest.raises(ValueError, match="unknown email template"):
        mailer.send_template("no_such", "a@example.com", "", {}, "k")
    with pytest.raises(ValueError, match="recipient"):
        mailer.send_template("welcome", "not-an-address", "", {}, "k")
    assert _messages(clean_sandbox) == []


def test_wrong_api_key_is_authentication_error(clean_sandbox, settings):
    wrong = settings.model_copy(update={"sendgrid_api_key": SecretStr("SG.wrong.key")})
    with pytest.raises(AuthenticationError) as info:
        Mailer(wrong).send_template("welcome", "a@example.com", "", {}, "k")
    assert info.value.status == 401
    assert "authorization grant is invalid" in info.value.message


def test_unknown_template_id_keeps_sendgrid_message(clean_sandbox, settings):
    other = settings.model_copy(update={"sendgrid_template_welcome": "d-not-configured"})
    with pytest.raises(PermanentError) as info:
        Mailer(other).send_template("welcome", "a@example.com", "", {}, "k")
    assert info.value.status == 400 and not info.value.retryable
    assert "template_id" in info.value.message and "d-not-configured" in info.value.message


@pytest.mark.parametrize(
    ("status", "expected", "retryable"),
    [
        (503, RetryableError, True),
        (500, RetryableError, True),
        (400, PermanentError, False),
        (413, PermanentError, False),
        (403, AuthenticationError, False),
    ],
)
def test_injected_errors_are_classified(clean_sandbox, mailer, status, expected, retryable):
    _fault(clean_sandbox, error_rate=1.0, error_status=status, times=1)
    with pytest.raises(expected) as info:
        mailer.send_template("welcome", "a@example.com", "", {}, "k")
    assert info.value.status == status and info.value.retryable is retryable
    assert info.value.message == "Injected fault"  # SendGrid's errors[].message kept
    # The fault was one-shot: the next call goes through.
    assert mailer.send_template("welcome", "a@example.com", "", {}, "k")


def test_rate_limit_carries_retry_after(clean_sandbox, mailer):
    _fault(clean_sandbox, rate_limit_rate=1.0, retry_after=7, times=1)
    with pytest.raises(RateLimitedError) as info:
        mailer.send_template("welcome", "a@example.com", "", {}, "k")
    assert info.value.retry_after == 7.0 and info.value.retryable


def test_slow_answer_beyond_timeout_is_retryable(clean_sandbox, settings):
    _fault(clean_sandbox, latency_ms=1500, times=1)
    with pytest.raises(RetryableError):
        Mailer(settings, timeout=0.3).send_template("welcome", "a@example.com", "", {}, "k")


def test_lost_response_is_retryable_though_the_mail_was_accepted(clean_sandbox, mailer):
    _fault(clean_sandbox, lost_response_rate=1.0, times=1)
    with pytest.raises(RetryableError):
        mailer.send_template("welcome", "a@example.com", "", {}, "lost-1")
    # The emulator committed it: this is why callers keep their own dedupe record.
    assert clean_sandbox.ctx.ledger.count("sendgrid", "email_accepted", "lost-1") == 1


def test_signed_event_batch_verifies_and_parses(clean_sandbox, mailer, receiver):
    message_id = mailer.send_template("welcome", "a@example.com", "", {}, "welcome:u1")
    answer = httpx.post(
        f"{clean_sandbox.base_url}/_sandbox/sendgrid/events",
        json={
            "url": receiver.url,
            "events": [
                {"email": "a@example.com", "event": "delivered"},
                {"email": "a@example.com", "event": "click", "url": "https://x.example/p"},
            ],
        },
    )
    assert answer.status_code == 200 and answer.json()["status"] == 200
    receiver.wait()
    headers, body = receiver.requests[0]
    signature = headers["X-Twilio-Email-Event-Webhook-Signature"]
    timestamp = headers["X-Twilio-Email-Event-Webhook-Timestamp"]
    assert mailer.verify_event_webhook(body, signature, timestamp)
    events = mailer.parse_events(body)
    assert [e.event for e in events] == ["delivered", "click"]
    assert all(e.dedupe_key == "welcome:u1" and e.message_id == message_id for e in events)
    assert events[1].url == "https://x.example/p"
    assert len({e.sg_event_id for e in events}) == 2


def test_tampered_or_forged_batches_are_rejected(clean_sandbox, mailer, receiver):
    httpx.post(
        f"{clean_sandbox.base_url}/_sandbox/sendgrid/events",
        json={"url": receiver.url, "events": [{"email": "a@example.com", "event": "bounce"}]},
    )
    receiver.wait()
    headers, body = receiver.requests[0]
    signature = headers["X-Twilio-Email-Event-Webhook-Signature"]
    timestamp = headers["X-Twilio-Email-Event-Webhook-Timestamp"]
    tampered = body.replace(b'"bounce"', b'"delivered"')
    assert tampered != body
    assert not mailer.verify_event_webhook(tampered, signature, timestamp)
    assert not mailer.verify_event_webhook(body, signature, str(int(timestamp) + 1))
    assert not mailer.verify_event_webhook(body, "bm90IGEgc2lnbmF0dXJl", timestamp)
    assert not mailer.verify_event_webhook(body, "%%%", timestamp)
    assert not mailer.verify_event_webhook(body, "", timestamp)


def test_parse_events_refuses_malformed_payloads(mailer):
    with pytest.raises(ValueError):
        mailer.parse_events(b"{not json")
    with pytest.raises(ValueError, match="array"):
        mailer.parse_events(json.dumps({"event": "delivered"}).encode())
    with pytest.raises(ValueError, match="sg_event_id"):
        mailer.parse_events(json.dumps([{"event": "delivered", "email": "a@x"}]).encode())


def test_automatic_events_bounce_and_spam(clean_sandbox, mailer, receiver, monkeypatch):
    monkeypatch.setattr(clean_sandbox.ctx.settings, "sandbox_webhook_url", receiver.url)
    switched = httpx.post(
        f"{clean_sandbox.base_url}/_sandbox/sendgrid/settings", json={"auto_events": True}
    )
    assert switched.json() == {"auto_events": True}
    mailer.send_template("welcome", "gone@bounce.test", "", {}, "auto-bounce")
    mailer.send_template("welcome", "angry@spam.test", "", {}, "auto-spam")
    receiver.wait(2)
    events = [e for _, body in receiver.requests for e in mailer.parse_events(body)]
    kinds = {(e.email, e.event) for e in events}
    assert ("gone@bounce.test", "bounce") in kinds
    assert ("angry@spam.test", "spamreport") in kinds
    assert ("gone@bounce.test", "delivered") not in kinds
    assert all(
        mailer.verify_event_webhook(
            body,
            h["X-Twilio-Email-Event-Webhook-Signature"],
            h["X-Twilio-Email-Event-Webhook-Timestamp"],
        )
        for h, body in receiver.requests
    )

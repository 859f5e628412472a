"""What the Mailer sends and what the SendGrid emulator answers, checked against SendGrid's
own OpenAPI file (sandbox/specs/sendgrid/tsg_mail_v3.json)."""

from __future__ import annotations

import copy
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import pytest

from adapters.sendgrid import Mailer
from config import EMAIL_TEMPLATES
from sandbox.oas import SpecViolation, load_spec
from sandbox.sendgrid import validate_mail_send

ERROR_SCHEMA = "components/schemas/ErrorResponse"


def _without_nulls(value: Any) -> Any:
    """SendGrid answers `"field": null`; its OAS 3.1 file still says `nullable: true`, which
    3.1 no longer honours, so nulls are dropped before checking the shape."""
    if isinstance(value, dict):
        return {k: _without_nulls(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_without_nulls(v) for v in value]
    return value


def _check_error(body: Any) -> None:
    load_spec("sendgrid-mail")._validate(ERROR_SCHEMA, _without_nulls(body))


@pytest.mark.parametrize("template", EMAIL_TEMPLATES)
def test_every_template_message_matches_the_spec(settings, template):
    message = Mailer(settings).build_message(
        template,
        "buyer@example.com",
        "Jo Buyer",
        {"order": {"id": "O-1", "items": [1, 2]}},
        f"{template}:1",
        [template, "transactional"],
    )
    validate_mail_send(message)
    assert message["template_id"] == settings.email_template_id(template)
    assert message["personalizations"][0]["custom_args"]["dedupe_key"] == f"{template}:1"


def test_the_schema_check_can_fail(settings):
    message = Mailer(settings).build_message("welcome", "a@example.com", "", {}, "k")
    broken = copy.deepcopy(message)
    broken["personalizations"][0]["custom_args"] = "not-an-object"
    with pytest.raises(SpecViolation):
        validate_mail_send(broken)
    del broken["from"]
    with pytest.raises(SpecViolation):
        validate_mail_send(broken)


def test_emulator_answers_match_the_documented_responses(clean_sandbox, settings):
    url = f"{clean_sandbox.base_url}/sendgrid/v3/mail/send"
    key = settings.sendgrid_api_key.get_secret_value()
    good = Mailer(settings).build_message("welcome", "a@example.com", "", {}, "k")
    spec = load_spec("sendgrid-mail")
    _, operation = spec.operation("POST", "/v3/mail/send")
    documented = set(operation["responses"])

    accepted = httpx.post(url, json=good, headers={"Authorization": f"Bearer {key}"})
    assert str(accepted.status_code) in documented and accepted.content == b""

    unauthorized = httpx.post(url, json=good)
    assert str(unauthorized.status_code) in documented
    _check_error(unauthorized.json())
    # SendGrid's documented error replies: same keys, same types (nulls aside).
    assert spec.check_examples("POST", "/v3/mail/send", 401, _without_nulls(unauthorized.json()))

    bad = httpx.post(
        url, json={**good, "template_id": "d-x"}, headers={"Authorization": f"Bearer {key}"}
    )
    assert str(bad.status_code) in documented
    _check_error(bad.json())
    assert spec.check_examples("POST", "/v3/mail/send", 400, _without_nulls(bad.json()))

    httpx.post(
        f"{clean_sandbox.base_url}/_sandbox/faults",
        json={"sendgrid": {"error_rate": 1.0, "error_status": 500, "times": 1}},
    )
    failed = httpx.post(url, json=good, headers={"Authorization": f"Bearer {key}"})
    assert failed.status_code == 500 and str(failed.status_code) in documented
    _check_error(failed.json())


def test_webhook_events_carry_the_documented_fields(clean_sandbox, settings):
    """The Event Webhook has no schema in the spec; these are the fields SendGrid documents."""
    received: list[bytes] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 - http.server's naming
            received.append(self.rfile.read(int(self.headers["content-length"])))
            self.send_response(204)
            self.end_headers()

        def log_message(self, *_args: Any) -> None:
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        Mailer(settings).send_template("welcome", "a@example.com", "", {}, "doc-1", ["welcome"])
        sent = httpx.post(
            f"{clean_sandbox.base_url}/_sandbox/sendgrid/events",
            json={
                "url": f"http://127.0.0.1:{server.server_address[1]}/hook",
                "events": [
                    {"email": "a@example.com", "event": "bounce"},
                    {"email": "a@example.com", "event": "dropped"},
                ],
            },
        )
    finally:
        server.shutdown()
    assert sent.status_code == 200 and sent.json()["status"] == 204
    bounce, dropped = json.loads(received[0])
    for name in (
        "email",
        "timestamp",
        "event",
        "sg_event_id",
        "sg_message_id",
        "type",
        "reason",
        "status",
        "bounce_classification",
        "category",
        "dedupe_key",
    ):
        assert name in bounce, name
    assert dropped["reason"] == "Bounced Address"
    assert bounce["category"] == ["welcome"] and isinstance(bounce["timestamp"], int)
    assert bounce["dedupe_key"] == "doc-1"

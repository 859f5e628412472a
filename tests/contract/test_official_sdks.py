"""The vendors' official clients, used as their documentation shows and unmodified, work
against the emulators (sendgrid, openai) and the local SeaweedFS S3 server (boto3)."""

from __future__ import annotations

import threading
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import boto3
import httpx
import openai
import pytest
from botocore.config import Config
from pydantic import BaseModel
from python_http_client.exceptions import UnauthorizedError
from sendgrid import SendGridAPIClient
from sendgrid.helpers.eventwebhook import EventWebhook
from sendgrid.helpers.mail import Mail


def test_sendgrid_sdk_sends_a_dynamic_template(clean_sandbox, settings):
    sg = SendGridAPIClient(
        settings.sendgrid_api_key.get_secret_value(), host=settings.sendgrid_api_url
    )
    mail = Mail(from_email="noreply@theworlddoor.example", to_emails="buyer@example.com")
    mail.template_id = settings.email_template_id("shipping_notification")
    mail.dynamic_template_data = {"tracking": "123456789012"}
    response = sg.send(mail)
    assert response.status_code == 202 and response.headers["X-Message-Id"]
    with pytest.raises(UnauthorizedError):
        SendGridAPIClient("SG.wrong", host=settings.sendgrid_api_url).send(mail)


def test_sendgrid_sdk_reads_the_key_and_verifies_a_batch(clean_sandbox, settings):
    sg = SendGridAPIClient(
        settings.sendgrid_api_key.get_secret_value(), host=settings.sendgrid_api_url
    )
    public_key = sg.client.user.webhooks.event.settings.signed.get().to_dict["public_key"]
    received: list[tuple[dict[str, str], bytes]] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 - http.server's naming
            body = self.rfile.read(int(self.headers["content-length"]))
            received.append((dict(self.headers), body))
            self.send_response(200)
            self.send_header("content-length", "0")
            self.end_headers()

        def log_message(self, *_args: Any) -> None:
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        httpx.post(
            f"{clean_sandbox.base_url}/_sandbox/sendgrid/events",
            json={
                "url": f"http://127.0.0.1:{server.server_address[1]}/",
                "events": [{"email": "a@example.com", "event": "open"}],
            },
        )
    finally:
        server.shutdown()
    headers, body = received[0]
    verifier = EventWebhook(public_key)
    signature = headers["X-Twilio-Email-Event-Webhook-Signature"]
    timestamp = headers["X-Twilio-Email-Event-Webhook-Timestamp"]
    assert verifier.verify_signature(body.decode(), signature, timestamp)
    assert not verifier.verify_signature(body.decode() + " ", signature, timestamp)


class Category(BaseModel):
    id: str
    name: str


class Listing(BaseModel):
    title: str
    description_html: str
    category: Category


@pytest.fixture
def client(settings) -> openai.OpenAI:
    return openai.OpenAI(
        api_key=settings.openai_api_key.get_secret_value(),
        base_url=settings.openai_api_url,
        max_retries=0,
    )


PROMPT = '{"sku": "S-1", "title_ja": "Canon AE-1 カメラ 中古", "brand": "Canon"}'


def test_openai_sdk_parses_structured_chat_output(clean_sandbox, settings, client):
    completion = client.chat.completions.parse(
        model=settings.openai_model,
        messages=[{"role": "user", "content": PROMPT}],
        response_format=Listing,
    )
    parsed = completion.choices[0].message.parsed
    assert isinstance(parsed, Listing)
    assert parsed.title.startswith("Canon AE-1 Camera") and parsed.category.id == "15230"
    assert completion._request_id and completion._request_id.startswith("req_")
    assert completion.usage and completion.usage.total_tokens > 0


def test_openai_sdk_parses_structured_responses_output(clean_sandbox, settings, client):
    response = client.responses.parse(
        model=settings.openai_model,
        input=PROMPT,
        text_format=Listing,
        instructions="Write an eBay listing.",
    )
    assert isinstance(response.output_parsed, Listing)
    assert "Camera" in response.output_parsed.title
    assert response.output_text.startswith("{")


def test_openai_sdk_lists_models_and_raises_typed_errors(clean_sandbox, settings, client):
    assert settings.openai_model in [m.id for m in client.models.list()]
    wrong = openai.OpenAI(api_key="sk-wrong", base_url=settings.openai_api_url, max_retries=0)
    with pytest.raises(openai.AuthenticationError):
        wrong.models.list()
    with pytest.raises(openai.NotFoundError):
        client.chat.completions.create(
            model="gpt-nope", messages=[{"role": "user", "content": "x"}]
        )


def test_openai_sdk_sends_what_production_code_sends(clean_sandbox, settings, client):
    """Floats for integers, optional fields, every documented reasoning effort: answered as
    OpenAI answers, never refused by a schema check the API does not make."""
    from sandbox.oas import load_spec

    spec = load_spec("openai")
    schema = spec.document["components"]["schemas"]["ReasoningEffort"]["anyOf"][0]
    for effort in schema["enum"]:
        completion = client.chat.completions.create(
            model=settings.openai_model,
            messages=[
                {"role": "developer", "content": "Write an eBay listing."},
                {"role": "user", "content": PROMPT},
            ],
            max_completion_tokens=800.0,
            n=1.0,
            seed=7.0,
            temperature=0.2,
            store=False,
            metadata={"sku": "S-1"},
            reasoning_effort=effort,
            user="staff-1",
        )
        assert completion.choices[0].message.content
        assert completion.usage and completion.usage.completion_tokens > 0


def test_sendgrid_sdk_sends_what_production_code_sends(clean_sandbox, settings):
    """Floats for integers and the optional settings production mail carries."""
    sg = SendGridAPIClient(
        settings.sendgrid_api_key.get_secret_value(), host=settings.sendgrid_api_url
    )
    body = {
        "from": {"email": "noreply@theworlddoor.example", "name": "The World Door"},
        "reply_to": {"email": "support@theworlddoor.example"},
        "personalizations": [
            {
                "to": [{"email": "buyer@example.com", "name": "Buyer"}],
                "dynamic_template_data": {"tracking": "123456789012", "items": 2.0},
                "custom_args": {"order_id": "o-1", "msg_key": "k-1"},
            }
        ],
        "template_id": settings.email_template_id("shipping_notification"),
        "categories": ["shipping"],
        "asm": {"group_id": 1.0, "groups_to_display": [1.0]},
        "tracking_settings": {
            "click_tracking": {"enable": True, "enable_text": False},
            "open_tracking": {"enable": True},
        },
        "mail_settings": {"bypass_list_management": {"enable": False}},
    }
    response = sg.client.mail.send.post(request_body=body)
    assert response.status_code == 202 and response.headers["X-Message-Id"]


def test_boto3_presigned_post_and_versions(sandbox, settings):
    s3 = boto3.client(
        "s3",
        endpoint_url=settings.aws_endpoint_url,
        region_name=settings.aws_region,
        aws_access_key_id=settings.aws_access_key_id,
        aws_secret_access_key=settings.aws_secret_access_key.get_secret_value(),
        config=Config(signature_version="s3v4", s3={"addressing_style": "path"}),
    )
    bucket = f"sdk-{uuid.uuid4().hex[:12]}"
    s3.create_bucket(
        Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": settings.aws_region}
    )
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    post = s3.generate_presigned_post(bucket, "temp/form.txt", ExpiresIn=60)
    uploaded = httpx.post(post["url"], data=post["fields"], files={"file": b"from a form"})
    assert uploaded.status_code in (200, 204), uploaded.text
    s3.put_object(Bucket=bucket, Key="temp/form.txt", Body=b"second")
    versions = s3.list_object_versions(Bucket=bucket, Prefix="temp/form.txt")["Versions"]
    assert len(versions) == 2
    oldest = next(v for v in versions if not v["IsLatest"])
    body = s3.get_object(Bucket=bucket, Key="temp/form.txt", VersionId=oldest["VersionId"])
    assert body["Body"].read() == b"from a form"

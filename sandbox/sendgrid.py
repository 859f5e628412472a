"""SendGrid v3 emulator: mail send with dynamic templates, the signed Event Webhook and the
endpoint that serves its verification key.

Sandbox controls (`/_sandbox/sendgrid/...`) post event batches to our webhook receiver, list
accepted messages and switch automatic events (delivered / bounce / spamreport) after a send.
"""

from __future__ import annotations

import asyncio
import functools
import json
import re
import secrets
import ssl
import time
from dataclasses import dataclass, field
from typing import Any

import httpx
from litestar import Litestar, Request, Response, get, post
from litestar.background_tasks import BackgroundTask
from litestar.exceptions import HTTPException
from litestar.params import JSONBody

from config import EMAIL_TEMPLATES
from sandbox.core import SandboxContext
from sandbox.oas import SpecViolation, load_spec
from sandbox.sendgrid_signing import private_key, public_key_b64, sign

SERVICE = "sendgrid"
RATE_LIMIT = 600
MAX_BODY_BYTES = 30 * 1024 * 1024  # SendGrid's limit for a whole message
BAD_KEY = "The provided authorization grant is invalid, expired, or revoked"
EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
EVENT_TYPES = {
    "processed",
    "delivered",
    "bounce",
    "dropped",
    "deferred",
    "spamreport",
    "open",
    "click",
    "unsubscribe",
    "group_unsubscribe",
}
SIGNATURE_HEADER = "X-Twilio-Email-Event-Webhook-Signature"
TIMESTAMP_HEADER = "X-Twilio-Email-Event-Webhook-Timestamp"
REQUEST_SCHEMA = "components/requestBodies/PostMailSend/content/application~1json/schema"


def error_body(status: int, message: str, field_name: str | None = None) -> dict[str, Any]:
    """SendGrid's error shape."""
    return {"errors": [{"message": message, "field": field_name, "help": None}]}


@dataclass
class SendgridState:
    messages: list[dict[str, Any]] = field(default_factory=list)
    auto_events: bool = False
    retrying: set[asyncio.Task[None]] = field(default_factory=set)  # webhook batches to resend
    window_start: float = 0.0
    window_count: int = 0

    def rate_headers(self) -> dict[str, str]:
        """X-RateLimit-* over a one-minute window, as SendGrid reports them."""
        now = time.time()
        if now - self.window_start >= 60:
            self.window_start, self.window_count = now, 0
        self.window_count += 1
        return {
            "X-RateLimit-Limit": str(RATE_LIMIT),
            "X-RateLimit-Remaining": str(max(0, RATE_LIMIT - self.window_count)),
            "X-RateLimit-Reset": str(int(self.window_start + 60)),
        }


def state_of(ctx: SandboxContext) -> SendgridState:
    """One state per sandbox, shared by the emulator app and its control handlers."""
    state = getattr(ctx, "_sendgrid_state", None)
    if state is None:
        auto = ctx.settings.app_env == "development"  # tests switch them on explicitly
        state = SendgridState(auto_events=auto)
        ctx._sendgrid_state = state  # type: ignore[attr-defined]

        def reset() -> None:
            state.messages.clear()
            state.auto_events = auto
            for task in state.retrying:
                task.cancel()

        ctx.reset_hooks.append(reset)
    return state


def _fail(status: int, message: str, field_name: str | None = None) -> Response[Any]:
    return Response(error_body(status, message, field_name), status_code=status)


def _known_templates(ctx: SandboxContext) -> set[str]:
    return {ctx.settings.email_template_id(name) for name in EMAIL_TEMPLATES}


def validate_mail_send(body: Any) -> None:
    """SpecViolation unless `body` matches the mail/send request schema.

    The spec declares the body as a `$ref` to components/requestBodies, which
    `Spec.validate_request` does not follow yet, so the schema is addressed directly."""
    load_spec("sendgrid-mail")._validate(REQUEST_SCHEMA, body)


def _check_message(ctx: SandboxContext, body: Any) -> tuple[str, str | None] | None:
    """(message, field) of the first reason SendGrid would refuse this body, else None."""
    try:
        validate_mail_send(body)
    except SpecViolation as exc:
        where = exc.errors[0].split(":", 1)[0].replace("/", ".")
        return str(exc), (None if where == "(body)" else where)
    if not body["personalizations"]:
        return (
            "The personalizations field is required and must have at least one personalization."
        ), "personalizations"
    for i, p in enumerate(body["personalizations"]):
        recipients = p.get("to") or []
        if not recipients:
            return "The to array is required for all personalization objects.", (
                f"personalizations.{i}.to"
            )
        for j, r in enumerate(recipients + p.get("cc", []) + p.get("bcc", [])):
            if not EMAIL_RE.match(str(r.get("email", ""))):
                return "Does not contain a valid address.", f"personalizations.{i}.to.{j}.email"
    if not EMAIL_RE.match(str(body["from"].get("email", ""))):
        return "The from email does not contain a valid address.", "from.email"
    template = body.get("template_id")
    if template is None and not body.get("content"):
        return "Unless a valid template_id is provided, the content parameter is required.", (
            "content"
        )
    if template is not None and template not in _known_templates(ctx):
        return f"The template_id must be a valid GUID, you provided '{template}'.", "template_id"
    return None


def _dedupe_key(body: dict[str, Any], personalization: dict[str, Any], message_id: str) -> str:
    args = {**(body.get("custom_args") or {}), **(personalization.get("custom_args") or {})}
    return str(args.get("dedupe_key") or message_id)


def build_event(message: dict[str, Any] | None, spec: dict[str, Any]) -> dict[str, Any]:
    """One Event Webhook entry in SendGrid's shape, completed from the accepted message."""
    kind = spec["event"]
    event: dict[str, Any] = {
        "email": spec["email"],
        "timestamp": int(spec.get("timestamp") or time.time()),
        "event": kind,
        "sg_event_id": secrets.token_urlsafe(16),
        "sg_message_id": f"{message['id'] if message else secrets.token_urlsafe(16)[:22]}"
        f".filterdrecv-{secrets.token_hex(4)}.0",
        "smtp-id": f"<{message['id'] if message else 'unknown'}@sandbox.sendgrid.net>",
    }
    if message:
        event.update(message["custom_args"])
        if message["categories"]:
            event["category"] = message["categories"]
    if kind == "bounce":
        event.update(
            type="bounce",
            status="5.1.1",
            bounce_classification="Invalid Address",
            reason="550 5.1.1 The email account that you tried to reach does not exist.",
        )
    elif kind == "dropped":
        event["reason"] = "Bounced Address"
    elif kind in ("open", "click"):
        event.update(useragent="Mozilla/5.0 (sandbox)", ip="192.0.2.1")
        if kind == "click":
            event["url"] = "https://theworlddoor.example/"
    elif kind == "delivered":
        event["response"] = "250 OK"
    extra = {k: v for k, v in spec.items() if k not in ("email", "event", "message_id")}
    event.update(extra)
    return event


def _find_message(
    state: SendgridState, email: str, message_id: str | None
) -> dict[str, Any] | None:
    for message in reversed(state.messages):
        if message_id and message["id"] == message_id:
            return message
        if not message_id and message["email"].lower() == email.lower():
            return message
    return None


@functools.cache
def _tls() -> ssl.SSLContext:
    return ssl.create_default_context()


async def post_events(ctx: SandboxContext, events: list[dict[str, Any]], url: str) -> int:
    """POST one signed batch, as SendGrid does; returns the receiver's status."""
    payload = json.dumps(events, separators=(",", ":")).encode()
    timestamp = str(int(time.time()))
    signature = sign(private_key(ctx.settings.var_dir), timestamp, payload)
    headers = {
        "Content-Type": "application/json",
        "User-Agent": "SendGrid Event API",
        SIGNATURE_HEADER: signature,
        TIMESTAMP_HEADER: timestamp,
    }
    # one TLS context for every batch: building one (the CA bundle) per POST cost the bench
    # process a fifth of its CPU
    async with httpx.AsyncClient(timeout=10.0, verify=_tls()) as client:
        response = await client.post(url, content=payload, headers=headers)
    return response.status_code


def _automatic_events(message: dict[str, Any]) -> list[dict[str, Any]]:
    email = message["email"].lower()
    kind = (
        "bounce"
        if email.endswith("@bounce.test")
        else ("spamreport" if email.endswith("@spam.test") else "delivered")
    )
    events = [
        build_event(message, {"email": message["email"], "event": "processed"}),
        build_event(message, {"email": message["email"], "event": "delivered"}),
    ]
    if kind == "bounce":
        events[1] = build_event(message, {"email": message["email"], "event": "bounce"})
    elif kind == "spamreport":
        events.append(build_event(message, {"email": message["email"], "event": "spamreport"}))
    return events


WEBHOOK_RETRY_SECONDS = 24 * 3600
"""SendGrid retries a batch its receiver did not take (no answer, or not 2xx) for up to 24
hours, at growing intervals."""
WEBHOOK_RETRY_MAX_DELAY = 60.0


async def _deliver(
    ctx: SandboxContext, events: list[dict[str, Any]], first_delay: float = 1.0
) -> None:
    """Post the automatic events; while the receiver is down or failing (our API restarting,
    its database away), try again 1, 2, 4 ... 60 s later, as SendGrid does. The retries run
    beside the emulator, not in the request: a receiver that never comes back cannot hold the
    emulator's shutdown."""
    url = ctx.settings.sandbox_webhook_url
    if not url or await _posted(ctx, events, url):
        return
    state = state_of(ctx)
    task = asyncio.get_running_loop().create_task(_retry(ctx, events, url, first_delay))
    state.retrying.add(task)
    task.add_done_callback(state.retrying.discard)


async def _posted(ctx: SandboxContext, events: list[dict[str, Any]], url: str) -> bool:
    try:
        return 200 <= await post_events(ctx, events, url) < 300
    except httpx.HTTPError:
        return False


async def _retry(ctx: SandboxContext, events: list[dict[str, Any]], url: str, delay: float) -> None:
    deadline = time.monotonic() + WEBHOOK_RETRY_SECONDS
    while time.monotonic() + delay < deadline:
        await asyncio.sleep(delay)
        if await _posted(ctx, events, url):
            return
        delay = min(delay * 2, WEBHOOK_RETRY_MAX_DELAY)


def create_app(ctx: SandboxContext) -> Litestar:
    state = state_of(ctx)

    @post("/v3/mail/send")
    async def mail_send(request: Request[Any, Any, Any]) -> Response[Any]:
        if request.headers.get("authorization", "") != (
            f"Bearer {ctx.settings.sendgrid_api_key.get_secret_value()}"
        ):
            return _fail(401, BAD_KEY)
        try:
            body = json.loads(await request.body())
        except ValueError:
            return _fail(400, "Bad Request", None)
        problem = _check_message(ctx, body)
        if problem:
            return _fail(400, *problem)
        message_id = secrets.token_urlsafe(16)[:22]
        accepted: list[dict[str, Any]] = []
        for p in body["personalizations"]:
            for recipient in p["to"]:
                args = {**(body.get("custom_args") or {}), **(p.get("custom_args") or {})}
                accepted.append(
                    {
                        "id": message_id,
                        "email": recipient["email"],
                        "template_id": body.get("template_id"),
                        "dynamic_template_data": p.get("dynamic_template_data", {}),
                        "custom_args": args,
                        "categories": body.get("categories", []),
                        "accepted_at": int(time.time()),
                    }
                )
            ctx.ledger.record(SERVICE, "email_accepted", _dedupe_key(body, p, message_id))
        state.messages.extend(accepted)
        task = None
        if state.auto_events:
            events = [e for m in accepted for e in _automatic_events(m)]
            task = BackgroundTask(_deliver, ctx, events)
        headers = {"X-Message-Id": message_id, **state.rate_headers()}
        return Response(b"", status_code=202, headers=headers, background=task)

    @get("/v3/user/webhooks/event/settings/signed")
    async def signed_settings(request: Request[Any, Any, Any]) -> Response[Any]:
        if request.headers.get("authorization", "") != (
            f"Bearer {ctx.settings.sendgrid_api_key.get_secret_value()}"
        ):
            return _fail(401, BAD_KEY)
        body = {"enabled": True, "public_key": public_key_b64(ctx.settings.var_dir)}
        return Response(body, status_code=200, headers=state.rate_headers())

    def vendor_shaped(_request: Request[Any, Any, Any], exc: HTTPException) -> Response[Any]:
        """Litestar's own refusals (unknown route, wrong method, body too big) in SendGrid's
        shape."""
        return _fail(exc.status_code, str(exc.detail))

    return Litestar(
        [mail_send, signed_settings],
        openapi_config=None,
        request_max_body_size=MAX_BODY_BYTES,
        exception_handlers={HTTPException: vendor_shaped},
    )


def control_handlers(ctx: SandboxContext) -> list[Any]:
    state = state_of(ctx)

    @post("/_sandbox/sendgrid/events", status_code=200)
    async def send_events(data: JSONBody[dict[str, Any]]) -> dict[str, Any]:
        """Body `{"events":[{"email","event", ...extra fields}], "url"?}`: one signed batch."""
        specs = data.get("events")
        if not isinstance(specs, list) or not specs:
            raise HTTPException(status_code=400, detail="'events' must be a non-empty list")
        for spec in specs:
            if not isinstance(spec, dict) or not spec.get("email"):
                raise HTTPException(status_code=400, detail="every event needs an 'email'")
            if spec.get("event") not in EVENT_TYPES:
                raise HTTPException(
                    status_code=400, detail=f"'event' must be one of {sorted(EVENT_TYPES)}"
                )
        url = data.get("url") or ctx.settings.sandbox_webhook_url
        if not url:
            raise HTTPException(status_code=400, detail="no webhook url configured")
        events = [
            build_event(_find_message(state, s["email"], s.get("message_id")), s) for s in specs
        ]
        try:
            status = await post_events(ctx, events, url)
        except httpx.HTTPError as exc:
            raise HTTPException(status_code=502, detail=f"webhook receiver failed: {exc}") from exc
        return {"status": status, "events": events}

    @get("/_sandbox/sendgrid/messages")
    async def messages() -> dict[str, Any]:
        return {"messages": list(state.messages), "auto_events": state.auto_events}

    @post("/_sandbox/sendgrid/settings", status_code=200)
    async def settings(data: JSONBody[dict[str, Any]]) -> dict[str, Any]:
        """Body `{"auto_events": bool}`: post events automatically after each send."""
        if not isinstance(data.get("auto_events"), bool):
            raise HTTPException(status_code=400, detail="'auto_events' must be true or false")
        state.auto_events = data["auto_events"]
        return {"auto_events": state.auto_events}

    return [send_events, messages, settings]

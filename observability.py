"""Structured logging and Sentry, configured once per process (API, worker, CLI, sandbox)."""

from __future__ import annotations

import json
import logging
import re
import sys
from typing import Any

import structlog

from config import Settings

SENSITIVE_KEYS = {
    "password",
    "new_password",
    "current_password",
    "code",
    "codes",
    "totp_code",
    "recovery_code",
    "recovery_codes",
    "totp_secret",
    "token",
    "access_token",
    "refresh_token",
    "authorization",
    "cookie",
    "cookies",
    "set-cookie",
    "api_key",
    "secret",
    "client_secret",
    "jwt_secret",
}
"""Keys whose values never reach a log line or a Sentry event."""

SENSITIVE_FRAGMENTS = (
    "password",
    "passwd",
    "secret",
    "token",
    "api_key",
    "api-key",
    "apikey",
    "authorization",
    "cookie",
    "totp",
    "recovery",
    "otp_",
    "session",
    "signature",
    "private_key",
    "encryption_key",
    "dsn",
)
"""Any key containing one of these is a credential (provider keys, TOTP, recovery codes...)."""

PERSONAL_KEYS = {
    "buyer_name",
    "buyer_email",
    "buyer_username",
    "buyer_phone",
    "to_email",
    "to_name",
    "recipient",
    "email",
    "full_name",
    "name_line",
    "phone",
    "phone_number",
    "ship_to",
    "shipping_address",
    "contact_address",
    "address",
    "line1",
    "line2",
    "address_line1",
    "address_line2",
    "postal_code",
    "city",
}
"""Buyers' personal data: never sent to Sentry (logs use ids, not these fields)."""

FILTERED = "[Filtered]"

_KEYISH = (
    r"(?:\w*(?:name|email|phone|address|line1|line2|postal_code|city|ship_to|recipient"
    r"|password|secret|token|otp|cookie|authorization|signature"
    r"|(?:api|private|access|encryption|signing)_?key)\w*|(?:totp_|recovery_)?codes?)"
)
_QUOTED = r"""('(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*")"""
_STRING_PATTERNS = (
    (re.compile(r"(?i)\b(bearer|basic)\s+[A-Za-z0-9._~+/=-]+"), r"\1 " + FILTERED),
    (re.compile(r"\beyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]*"), "[jwt]"),
    (re.compile(r"\bSG\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}"), "[sendgrid-key]"),
    (re.compile(r"\bsk-[A-Za-z0-9_-]{16,}"), "[openai-key]"),
    (re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}"), "[email]"),
    # reprs of models and dicts in frame variables: to_name='Pat Smith', 'password': 'x'
    (re.compile(rf"(?i)\b({_KEYISH})={_QUOTED}"), rf"\1='{FILTERED}'"),
    (re.compile(rf"""(?i)(['"]{_KEYISH}['"]):\s*{_QUOTED}"""), rf"\1: '{FILTERED}'"),
    # query strings and form bodies: ?token=...&code=...
    (re.compile(rf"""(?i)\b({_KEYISH})=([^&\s'"]+)"""), rf"\1={FILTERED}"),
)
"""Secrets and personal data that appear inside free text (exception messages, breadcrumbs)."""

_configured = False


def redact(_: Any, __: str, event: dict[str, Any]) -> dict[str, Any]:
    """structlog processor: replace the value of any sensitive key, at any depth."""
    return _redact_mapping(event)


def _redact_mapping(data: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in data.items():
        if isinstance(key, str) and key.lower() in SENSITIVE_KEYS:
            out[key] = "[redacted]"
        elif isinstance(value, dict):
            out[key] = _redact_mapping(value)
        else:
            out[key] = value
    return out


def _is_sensitive_key(key: str) -> bool:
    lowered = key.lower()
    return (
        lowered in SENSITIVE_KEYS
        or lowered in PERSONAL_KEYS
        or any(fragment in lowered for fragment in SENSITIVE_FRAGMENTS)
    )


def scrub_text(text: str) -> str:
    """Mask bearer credentials, JWTs, provider keys and email addresses inside free text."""
    for pattern, replacement in _STRING_PATTERNS:
        text = pattern.sub(replacement, text)
    return text


def _scrub(value: Any) -> Any:
    """Recursively: sensitive keys lose their value, every string is pattern-scrubbed."""
    if isinstance(value, dict):
        return {
            key: FILTERED
            if isinstance(key, str) and _is_sensitive_key(key) and value[key] not in (None, "")
            else _scrub(value[key])
            for key in value
        }
    if isinstance(value, list | tuple):
        return [_scrub(item) for item in value]
    if isinstance(value, str):
        return scrub_text(value)
    return value


def drop_uvicorn_color(_: Any, __: str, event: dict[str, Any]) -> dict[str, Any]:
    """Uvicorn passes an ANSI-coloured copy of each message as `color_message`: drop it."""
    event.pop("color_message", None)
    return event


def temporal_ids(_: Any, __: str, event: dict[str, Any]) -> dict[str, Any]:
    """The Temporal SDK's workflow/activity loggers put their info in one `extra` dict each;
    lift the ids to top-level fields (`workflow_id`, `run_id`, `activity_id`, ...)."""
    for extra in ("temporal_workflow", "temporal_activity"):
        info = event.pop(extra, None)
        if isinstance(info, dict):
            for key in ("workflow_id", "run_id", "workflow_type", "activity_id", "activity_type"):
                if info.get(key):
                    event.setdefault(key, info[key])
            if extra == "temporal_activity" and info.get("attempt"):
                event.setdefault("attempt", info["attempt"])
    return event


QUIET_LOGGERS = {
    "httpx": logging.WARNING,
    "httpx2": logging.WARNING,
    "httpcore": logging.WARNING,
    "httpcore2": logging.WARNING,
    "botocore": logging.WARNING,
    "urllib3": logging.WARNING,
    "werkzeug": logging.WARNING,
    # Alembic announces every plugin it loads at INFO ("setup plugin alembic.autogenerate...").
    "alembic.runtime.plugins": logging.WARNING,
}
"""Third-party loggers whose INFO lines are chatter; their warnings still come through."""


def configure_logging(settings: Settings, service: str) -> None:
    """JSON with service and environment fields in production; readable on a terminal.

    Every line carries `service` and `environment`; API lines add `request_id` (bound by the
    request-log middleware), worker lines `workflow_id`/`run_id`/`activity_id` (bound by the
    worker's interceptor or lifted from the Temporal SDK's logger extras).
    """
    global _configured
    if _configured:
        return
    _configured = True
    as_json = settings.log_json if settings.log_json is not None else settings.is_production
    level = logging.getLevelName(settings.log_level.upper())
    environment = settings.app_env

    def add_service(_: Any, __: str, event: dict[str, Any]) -> dict[str, Any]:
        # A processor, not a context variable: threads (activity executor, anyio) see it too.
        event.setdefault("service", service)
        event.setdefault("environment", environment)
        return event

    head: list[Any] = [
        structlog.contextvars.merge_contextvars,
        add_service,
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        structlog.processors.CallsiteParameterAdder(
            {structlog.processors.CallsiteParameter.MODULE}
        ),
    ]
    tail: list[Any] = [drop_uvicorn_color, temporal_ids, redact]
    renderer: Any = (
        structlog.processors.JSONRenderer()
        if as_json
        else structlog.dev.ConsoleRenderer(
            colors=sys.stderr.isatty(),
            # Rich's default shows each frame's locals: unsealed email links, passwords being
            # hashed, tokens. Tracebacks without them, as in production's JSON.
            exception_formatter=structlog.dev.RichTracebackFormatter(show_locals=False)
            if structlog.dev.rich is not None
            else structlog.dev.plain_traceback,
        )
    )
    structlog.configure(
        processors=[*head, *tail, structlog.processors.format_exc_info, renderer]
        if as_json
        else [*head, *tail, renderer],
        wrapper_class=structlog.make_filtering_bound_logger(level),
        logger_factory=structlog.PrintLoggerFactory(file=sys.stderr),
        cache_logger_on_first_use=True,
    )
    # Standard-library loggers (uvicorn, temporalio, alembic) go through the same renderer.
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            foreign_pre_chain=[*head, structlog.stdlib.ExtraAdder(), *tail],
            processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta, renderer],
        )
    )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    for name, floor in QUIET_LOGGERS.items():
        logging.getLogger(name).setLevel(max(level, floor))


def scrub_event(event: dict[str, Any], _hint: Any = None) -> dict[str, Any]:
    """Sentry `before_send` (and `before_send_transaction`): no cookies, credentials, TOTP or
    recovery codes, tokens, provider keys or buyers' personal data leave the process, whether
    under a key, in a header, a request body, a frame variable, an exception message, a
    breadcrumb or a URL."""
    request = event.get("request")
    if isinstance(request, dict):
        request.pop("cookies", None)
        data = request.get("data")
        if isinstance(data, str | bytes) and data:
            try:
                request["data"] = json.loads(data)
            except ValueError:
                request["data"] = FILTERED
    # The SDK's own description (package names and versions) is not data: keep it verbatim.
    kept: dict[str, Any] = {key: event[key] for key in ("sdk", "modules") if key in event}
    scrubbed: dict[str, Any] = _scrub({k: v for k, v in event.items() if k not in kept})
    scrubbed.update(kept)
    return scrubbed


def _traces_sampler(settings: Settings) -> Any:
    def sample(context: dict[str, Any]) -> float:
        scope = context.get("asgi_scope") or {}
        if scope.get("path") in {"/metrics", "/api/health", "/api/ready"}:
            return 0.0  # probes and scrapes would drown the real traffic
        return settings.sentry_traces_sample_rate

    return sample


def configure_sentry(settings: Settings, service: str) -> bool:
    """Start Sentry when a DSN is set: errors always, traces at SENTRY_TRACES_SAMPLE_RATE (0.1),
    every event through `scrub_event`."""
    if not settings.sentry_dsn:
        return False
    import sentry_sdk
    from sentry_sdk.scrubber import DEFAULT_DENYLIST, EventScrubber

    sentry_sdk.init(
        dsn=settings.sentry_dsn,
        environment=settings.sentry_environment or settings.app_env,
        traces_sampler=_traces_sampler(settings),
        server_name=service,
        before_send=scrub_event,  # type: ignore[arg-type]
        before_send_transaction=scrub_event,  # type: ignore[arg-type]
        event_scrubber=EventScrubber(
            denylist=[*DEFAULT_DENYLIST, *sorted(SENSITIVE_KEYS)], recursive=True
        ),
    )
    sentry_sdk.set_tag("service", service)
    return True


def get_logger(name: str | None = None) -> structlog.stdlib.BoundLogger:
    return structlog.get_logger(name)

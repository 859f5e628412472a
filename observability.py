"""Structured logging and Sentry, configured once per process (API, worker, CLI, sandbox)."""

from __future__ import annotations

import logging
import sys
from typing import Any

import structlog

from config import Settings

SENSITIVE_KEYS = {
    "password",
    "new_password",
    "current_password",
    "code",
    "totp_code",
    "recovery_code",
    "totp_secret",
    "token",
    "access_token",
    "refresh_token",
    "authorization",
    "cookie",
    "set-cookie",
    "api_key",
    "secret",
    "client_secret",
    "jwt_secret",
}
"""Keys whose values never reach a log line or a Sentry event."""

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


def configure_logging(settings: Settings, service: str) -> None:
    """JSON with service and environment fields in production; readable on a terminal."""
    global _configured
    if _configured:
        return
    _configured = True
    as_json = settings.log_json if settings.log_json is not None else settings.is_production
    level = logging.getLevelName(settings.log_level.upper())
    shared: list[Any] = [
        structlog.contextvars.merge_contextvars,
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        structlog.processors.CallsiteParameterAdder(
            {structlog.processors.CallsiteParameter.MODULE}
        ),
        redact,
    ]
    renderer: Any = (
        structlog.processors.JSONRenderer()
        if as_json
        else structlog.dev.ConsoleRenderer(colors=sys.stderr.isatty())
    )
    structlog.configure(
        processors=[*shared, structlog.processors.format_exc_info, renderer]
        if as_json
        else [*shared, renderer],
        wrapper_class=structlog.make_filtering_bound_logger(level),
        logger_factory=structlog.PrintLoggerFactory(file=sys.stderr),
        cache_logger_on_first_use=True,
    )
    structlog.contextvars.bind_contextvars(service=service, environment=settings.app_env)
    # Standard-library loggers (uvicorn, temporalio, alembic) go through the same renderer.
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            foreign_pre_chain=[*shared, structlog.stdlib.ExtraAdder()],
            processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta, renderer],
        )
    )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    for noisy in ("httpx", "httpx2", "httpcore", "httpcore2", "botocore", "urllib3", "werkzeug"):
        logging.getLogger(noisy).setLevel(max(level, logging.WARNING))


def _scrub_event(event: dict[str, Any], _hint: dict[str, Any]) -> dict[str, Any]:
    request = event.get("request") or {}
    request.pop("cookies", None)
    headers = request.get("headers") or {}
    for name in list(headers):
        if name.lower() in SENSITIVE_KEYS:
            headers[name] = "[Filtered]"
    if isinstance(request.get("data"), dict):
        request["data"] = _redact_mapping(request["data"])
    for key in ("extra", "contexts"):
        if isinstance(event.get(key), dict):
            event[key] = _redact_mapping(event[key])
    return event


def configure_sentry(settings: Settings, service: str) -> bool:
    """Start Sentry when a DSN is set; cookies, auth headers, codes and secrets are scrubbed."""
    if not settings.sentry_dsn:
        return False
    import sentry_sdk
    from sentry_sdk.scrubber import DEFAULT_DENYLIST, EventScrubber

    sentry_sdk.init(
        dsn=settings.sentry_dsn,
        environment=settings.sentry_environment or settings.app_env,
        traces_sample_rate=settings.sentry_traces_sample_rate,
        send_default_pii=False,
        server_name=service,
        before_send=_scrub_event,  # type: ignore[arg-type]
        event_scrubber=EventScrubber(
            denylist=[*DEFAULT_DENYLIST, *sorted(SENSITIVE_KEYS)], recursive=True
        ),
    )
    sentry_sdk.set_tag("service", service)
    return True


def get_logger(name: str | None = None) -> structlog.stdlib.BoundLogger:
    return structlog.get_logger(name)

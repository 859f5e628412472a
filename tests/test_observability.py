"""Logging and Sentry as configured by observability.py: what an operator reads and what leaves
the process. Sentry is pointed at a local ingest endpoint and the envelope that arrives is read."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from litestar.testing import AsyncTestClient

from observability import scrub_event, scrub_text
from tests.sentry_relay import sentry_relay, sentry_reporting_to

ROOT = Path(__file__).parent.parent

BUYER_NAME = "Patricia Quixote"
BUYER_EMAIL = "patricia.quixote@example.com"
PASSWORD = "hunter2-correct-horse"
ACCESS_TOKEN = "eyJhbGciOiJIUzUxMiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.c2lnbmF0dXJlLXNpZ25hdHVyZQ"
COOKIE_VALUE = "refresh-cookie-value-0123456789"
SENDGRID_KEY = "SG.abcdefghijklmnop.qrstuvwxyz0123456789"
TOTP_CODE = "492039"
RECOVERY_CODE = "7f3a-91bc-55d0"
SECRETS = [
    BUYER_NAME,
    BUYER_EMAIL,
    PASSWORD,
    ACCESS_TOKEN,
    COOKIE_VALUE,
    SENDGRID_KEY,
    TOTP_CODE,
    RECOVERY_CODE,
    "1-2-3 Nishi-Shinjuku",
]


async def test_an_api_error_reaches_sentry_scrubbed(settings, migrated_db, monkeypatch) -> None:
    """A 500 on the login route, with a password in the body, a bearer token and a cookie in
    the headers, buyer data and codes in frame variables and in the exception message: the
    envelope that reaches the Sentry endpoint has the event, the route, and none of them."""
    from api.app import create_app
    from api.security import sessions
    from workflows.contracts.email import SendEmail

    async def failing_lookup(_settings, email):
        buyer = {
            "buyer_name": BUYER_NAME,
            "buyer_email": BUYER_EMAIL,
            "ship_to": {"line1": "1-2-3 Nishi-Shinjuku", "postal_code": "160-0023"},
        }
        message = SendEmail(
            template="order_confirmation", to_email=BUYER_EMAIL, to_name=BUYER_NAME, key="k"
        )
        sendgrid_api_key = SENDGRID_KEY
        totp_code, recovery_codes = TOTP_CODE, [RECOVERY_CODE]
        assert buyer and message and sendgrid_api_key and totp_code and recovery_codes
        raise RuntimeError(f"lookup failed for {BUYER_EMAIL} with Bearer {ACCESS_TOKEN}")

    monkeypatch.setattr(sessions, "find_user_by_email", failing_lookup)
    app_settings = settings.model_copy(
        update={"store_namespace": "sentry-test", "temporal_address": "127.0.0.1:1"}
    )
    with sentry_relay() as relay:
        with sentry_reporting_to(relay, app_settings, "api"):
            async with AsyncTestClient(app=create_app(app_settings)) as client:
                response = await client.post(
                    "/api/auth/login",
                    json={"email": BUYER_EMAIL, "password": PASSWORD},
                    headers={
                        "Authorization": f"Bearer {ACCESS_TOKEN}",
                        "Cookie": f"refresh_token={COOKIE_VALUE}",
                    },
                )
            assert response.status_code == 500
            events = relay.wait_for_events(1)
        raw = relay.raw().decode()

    event = events[0]
    assert event["exception"]["values"][-1]["type"] == "RuntimeError"
    assert "/api/auth/login" in json.dumps(event.get("request", {})) + event.get("transaction", "")
    assert event["tags"]["service"] == "api"
    frames = event["exception"]["values"][-1]["stacktrace"]["frames"]
    assert any(frame.get("function") == "failing_lookup" for frame in frames)
    leaked = [secret for secret in SECRETS if secret in raw]
    assert not leaked, f"reached Sentry: {leaked}"
    assert "cookies" not in event.get("request", {})
    excerpt = {
        "exception": event["exception"]["values"][-1]["value"],
        "request": event.get("request"),
        "tags": event.get("tags"),
        "failing_lookup vars": next(f for f in frames if f.get("function") == "failing_lookup")[
            "vars"
        ],
    }
    print(json.dumps(excerpt, indent=1))  # the scrubbed event (-s shows it)


def test_free_text_is_scrubbed() -> None:
    text = (
        f"to {BUYER_EMAIL}: Authorization: Bearer {ACCESS_TOKEN} key {SENDGRID_KEY} "
        f"SendEmail(to_name='{BUYER_NAME}', template='x') ?code={TOTP_CODE}&page=2 "
        "{'recovery_code': '" + RECOVERY_CODE + "'} status_code=500"
    )
    scrubbed = scrub_text(text)
    assert not [secret for secret in SECRETS if secret in scrubbed], scrubbed
    assert "template='x'" in scrubbed and "page=2" in scrubbed and "status_code=500" in scrubbed


def test_event_keys_are_scrubbed_at_any_depth() -> None:
    event = {
        "request": {
            "headers": {"Authorization": "Bearer x", "X-Api-Key": "k", "Accept": "json"},
            "cookies": {"refresh_token": "r"},
            "data": json.dumps({"password": PASSWORD, "code": TOTP_CODE, "sku": "A-1"}),
        },
        "extra": {"order": {"buyer_email": BUYER_EMAIL, "ship_to": {"city": "Tokyo"}}},
        "breadcrumbs": {"values": [{"message": f"sent to {BUYER_EMAIL}"}]},
        "modules": {"pyotp": "2.9.0"},
    }
    scrubbed = scrub_event(event)
    assert "cookies" not in scrubbed["request"]
    assert scrubbed["request"]["headers"] == {
        "Authorization": "[Filtered]",
        "X-Api-Key": "[Filtered]",
        "Accept": "json",
    }
    assert scrubbed["request"]["data"] == {
        "password": "[Filtered]",
        "code": "[Filtered]",
        "sku": "A-1",
    }
    assert scrubbed["extra"]["order"] == {"buyer_email": "[Filtered]", "ship_to": "[Filtered]"}
    assert scrubbed["breadcrumbs"]["values"][0]["message"] == "sent to [email]"
    assert scrubbed["modules"] == {"pyotp": "2.9.0"}


def test_traces_are_sampled_at_one_in_ten_by_default() -> None:
    from config import Settings

    assert Settings().sentry_traces_sample_rate == 0.1


LOG_PROGRAM = """
import logging, structlog
from config import get_settings
from observability import configure_logging, get_logger
settings = get_settings()
configure_logging(settings, "api")
logging.getLogger("uvicorn.error").info(
    "Started server process [%d]", 1, extra={"color_message": "Started \\x1b[36m%d\\x1b[0m"}
)
with structlog.contextvars.bound_contextvars(request_id="req-0123456789"):
    get_logger("api.request").info("request", status=401)
from models.migrate import upgrade
upgrade(settings)
"""


@pytest.mark.integration  # a Python process of its own, with Alembic on a database
def test_log_lines_carry_service_and_environment_and_no_chatter(tmp_path: Path) -> None:
    """JSON lines as in production: uvicorn's colour copy and Alembic's plugin announcements
    are gone, every line has service and environment, request lines their request id."""
    env = {k: v for k, v in os.environ.items() if k in {"PATH", "HOME", "LANG"}}
    env.update(
        {
            "WORLDDOOR_VAR_DIR": str(tmp_path),
            "APP_ENV": "development",
            "DATABASE_URL": f"sqlite:///{tmp_path / 'log-test.db'}",
            "LOG_LEVEL": "INFO",
            "LOG_JSON": "true",
        }
    )
    result = subprocess.run(
        [sys.executable, "-c", LOG_PROGRAM],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    lines = [json.loads(line) for line in result.stderr.splitlines() if line.startswith("{")]
    assert lines and len(lines) == len(result.stderr.strip().splitlines()), result.stderr
    assert all(line["service"] == "api" and line["environment"] == "development" for line in lines)
    assert not [line for line in lines if "color_message" in line]
    assert not [line for line in lines if "setup plugin" in line["event"]], result.stderr
    started = [line for line in lines if line["event"].startswith("Started server process")]
    assert started and started[0]["level"] == "info"
    request = [line for line in lines if line["event"] == "request"]
    assert request[0]["request_id"] == "req-0123456789" and request[0]["status"] == 401
    assert any("Running upgrade" in line["event"] for line in lines)  # Alembic's real news stays


@pytest.mark.integration  # `worlddoor doctor` as a process
@pytest.mark.parametrize("command", [["doctor"]])
def test_doctor_output_has_no_alembic_plugin_chatter(tmp_path: Path, command: list[str]) -> None:
    env = {k: v for k, v in os.environ.items() if k in {"PATH", "HOME", "LANG"}}
    env.update(
        {
            "WORLDDOOR_VAR_DIR": str(tmp_path),
            "APP_ENV": "development",
            "DATABASE_URL": f"sqlite:///{tmp_path / 'doctor.db'}",
            "LOG_LEVEL": "INFO",
            "TEMPORAL_ADDRESS": "127.0.0.1:1",
        }
    )
    result = subprocess.run(
        [sys.executable, "-m", "cli", *command],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert "setup plugin" not in result.stdout + result.stderr
    assert "color_message" not in result.stdout + result.stderr


TRACEBACK_PROGRAM = """
from config import get_settings
from observability import configure_logging, get_logger
configure_logging(get_settings(), "worker")
def send(link):
    raise RuntimeError("refused")
try:
    send("https://door.example/console/invitation?token=SECRET-TOKEN-123")
except RuntimeError:
    get_logger("activities.email").exception("send failed")
"""


def test_development_tracebacks_show_no_local_values(tmp_path: Path) -> None:
    """Before: the console renderer's Rich tracebacks printed every frame's locals, so a failed
    send logged the unsealed invitation or reset link."""
    env = {k: v for k, v in os.environ.items() if k in {"PATH", "HOME", "LANG"}}
    env.update(
        {
            "WORLDDOOR_VAR_DIR": str(tmp_path),
            "APP_ENV": "development",
            "DATABASE_URL": f"sqlite:///{tmp_path / 'log-test.db'}",
            "LOG_JSON": "false",
        }
    )
    result = subprocess.run(
        [sys.executable, "-c", TRACEBACK_PROGRAM],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert "send failed" in result.stderr and "RuntimeError" in result.stderr
    assert "SECRET-TOKEN-123" not in result.stderr

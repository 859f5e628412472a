"""Schemathesis against the app served by uvicorn, once per role (admin, staff, inspector), with
every check (`--checks all`) and every phase (examples, coverage, fuzzing, stateful): no 5xx,
no undocumented status, no schema violation. The real worker runs behind the API, so routes
that start or update workflows do real work.

`make test` runs a short pass; `make fuzz` sets SCHEMATHESIS_MAX_EXAMPLES (and a time budget)
for a longer one and prints the per-role summary (README, "Fuzzing")."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import anyio.to_thread
import pytest

from tests.api.conftest import Server, app_settings, free_port, login

ROLES = ("admin", "staff", "inspector")
MAX_EXAMPLES = int(os.environ.get("SCHEMATHESIS_MAX_EXAMPLES", "4"))
MAX_TIME = os.environ.get("SCHEMATHESIS_MAX_TIME", "")
EXCLUDED = [
    # They end or change the session the run itself uses; covered by test_auth/test_attacks.
    "/api/auth/logout",
    "/api/auth/password",
    "/api/auth/two-factor/enrol",
    "/api/auth/two-factor/confirm",
    "/api/auth/two-factor/disable",
    "/api/auth/two-factor/recovery-codes",
    # Starts the real "order-sync-manual" workflow against the eBay emulator; test_order_flow.
    "/api/operations/order-sync",
    # Temporal's remote-codec protocol (protobuf JSON bodies, its own tests): its schema is a
    # free dict, so generated bodies are meaningless to it.
    "/api/temporal-codec/decode",
    "/api/temporal-codec/encode",
]
CONFIG = Path(__file__).with_name("schemathesis.toml")


def _schemathesis(base_url: str, token: str, report: Path) -> subprocess.CompletedProcess[str]:
    command = [
        str(Path(sys.executable).with_name("schemathesis")),
        "--config-file",
        str(CONFIG),
        "run",
        f"{base_url}/schema/openapi.json",
        "--checks",
        "all",
        "--phases",
        "examples,coverage,fuzzing,stateful",
        "--max-examples",
        str(MAX_EXAMPLES),
        "--seed",
        "14",
        "--workers",
        "1",
        "--request-timeout",
        "30",
        "--header",
        f"Authorization: Bearer {token}",
        "--report",
        "junit",
        "--report-junit-path",
        str(report),
        "--suppress-health-check",
        "all",
        "--no-color",
        *[arg for path in EXCLUDED for arg in ("--exclude-path", path)],
    ]
    if MAX_TIME:
        command += ["--max-time", MAX_TIME]
    return subprocess.run(command, capture_output=True, text=True, check=False)


def summary(output: str) -> str:
    """The lines of schemathesis' closing summary (requests, checks, failures)."""
    lines = output.splitlines()
    start = next((i for i, line in enumerate(lines) if "SUMMARY" in line), max(len(lines) - 30, 0))
    return "\n".join(line for line in lines[start:] if line.strip())


@pytest.mark.timeout(1800)
@pytest.mark.parametrize("role", ROLES)
async def test_schemathesis_finds_no_server_errors_or_schema_violations(
    role, settings, migrated_db, make_user, temporal_env, worker, clean_sandbox, tmp_path
):
    from adapters.s3 import Storage
    from api.app import create_app

    Storage(settings).ensure_bucket()
    app = create_app(
        app_settings(
            settings,
            temporal_address=temporal_env.client.service_client.config.target_host,
            temporal_task_queue=worker.task_queue,
            rate_limit_public=1_000_000,
            rate_limit_login=1_000_000,
            rate_limit_two_factor=1_000_000,
            rate_limit_api=1_000_000,
            rate_limit_webhooks=1_000_000,
        ),
        temporal_client=temporal_env.client,
    )
    port = free_port()
    with Server(app, port):
        import httpx

        base_url = f"http://127.0.0.1:{port}"
        async with httpx.AsyncClient(base_url=base_url, timeout=30) as http:
            account = await login(http, await make_user(role))
        report = tmp_path / f"{role}.xml"
        result = await anyio.to_thread.run_sync(
            lambda: _schemathesis(base_url, account.access_token, report)
        )
    print(f"\n=== schemathesis as {role} ===\n{summary(result.stdout)}")
    failures = re.findall(r"<failure[^>]*>", report.read_text()) if report.exists() else []
    assert result.returncode == 0 and not failures, result.stdout[-20000:] + result.stderr[-3000:]

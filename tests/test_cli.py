"""The `worlddoor` command: bad configuration, busy ports, and the sandbox environment."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).parent.parent

SANDBOX_VARIABLES = [
    "EBAY_BASE_URL",
    "EBAY_CLIENT_ID",
    "EBAY_CLIENT_SECRET",
    "EBAY_OAUTH_REFRESH_TOKEN",
    "FEDEX_BASE_URL",
    "FEDEX_API_KEY",
    "FEDEX_SECRET_KEY",
    "FEDEX_ACCOUNT_NUMBER",
    "SENDGRID_BASE_URL",
    "SENDGRID_API_KEY",
    "SENDGRID_FROM_EMAIL",
    "SENDGRID_TEMPLATE_WELCOME",
    "SENDGRID_TEMPLATE_PASSWORD_RESET",
    "SENDGRID_TEMPLATE_TWO_FACTOR_CODE",
    "SENDGRID_TEMPLATE_ORDER_CONFIRMATION",
    "SENDGRID_TEMPLATE_SHIPPING_NOTIFICATION",
    "OPENAI_BASE_URL",
    "OPENAI_API_KEY",
    "OPENAI_MODEL",
    "AWS_ENDPOINT_URL",
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_REGION",
    "AWS_S3_BUCKET",
    "YAMATO_BASE_URL",
    "SAGAWA_BASE_URL",
]

pytestmark = pytest.mark.integration  # each test runs the CLI as a process


def run_cli(*args: str, tmp_path: Path, **env: str) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if k in {"PATH", "HOME", "LANG"}}
    base.update({"WORLDDOOR_VAR_DIR": str(tmp_path), "APP_ENV": "development", **env})
    return subprocess.run(
        [sys.executable, "-m", "cli", *args],
        cwd=ROOT,
        env=base,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_a_malformed_setting_is_one_line_naming_the_variable(tmp_path: Path) -> None:
    result = run_cli("check-config", tmp_path=tmp_path, API_PORT="eighty")
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "config error: API_PORT: Input should be a valid integer, "
        "unable to parse string as an integer"
    ]


def test_dev_names_the_port_already_in_use(tmp_path: Path) -> None:
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        port = holder.getsockname()[1]
        result = run_cli("dev", tmp_path=tmp_path, API_PORT=str(port))
    assert result.returncode == 1
    assert f"port {port} (API) is already in use" in result.stderr
    assert "Traceback" not in result.stderr


def test_sandbox_env_prints_every_variable_the_adapters_read(tmp_path: Path) -> None:
    result = run_cli("sandbox", "env", tmp_path=tmp_path, SANDBOX_PORT="8900")
    assert result.returncode == 0, result.stderr
    exported = dict(
        line.removeprefix("export ").split("=", 1) for line in result.stdout.splitlines()
    )
    for name in SANDBOX_VARIABLES:
        assert exported.get(name), name
    assert exported["EBAY_BASE_URL"] == "http://127.0.0.1:8900/ebay"
    # The application reads the same names: feeding them back reproduces the same settings.
    again = run_cli(
        "sandbox",
        "env",
        tmp_path=tmp_path / "other",
        **{k: v.strip("'") for k, v in exported.items()},
    )
    assert again.stdout == result.stdout


def test_several_api_processes_need_redis(tmp_path: Path) -> None:
    """API_WORKERS > 1 on the file store would count every rate limit once per process."""
    done = run_cli("api", "--port", "1", tmp_path=tmp_path, API_WORKERS="2", REDIS_URL="")
    assert done.returncode == 2
    assert "several API processes need REDIS_URL" in done.stderr
    bad = run_cli("api", tmp_path=tmp_path, API_WORKERS="0")
    assert bad.returncode != 0 and "API_WORKERS" in bad.stderr + bad.stdout


def test_the_served_app_leaves_its_start_up_heap_out_of_garbage_collection() -> None:
    """`cli:asgi_app` (what uvicorn serves) freezes what start-up built: a full collection under
    load otherwise walked all of it (the API's p99)."""
    code = "import gc, cli; cli.asgi_app(); print(gc.get_freeze_count())"
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    )
    assert int(done.stdout.split()[-1]) > 100_000

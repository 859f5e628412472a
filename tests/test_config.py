"""Settings: development secrets in var/, older variable names as aliases, production refusal."""

from __future__ import annotations

import base64
import os
import subprocess
import sys
from pathlib import Path

import pytest

from config import Settings

ROOT = Path(__file__).parent.parent


def test_development_secrets_are_generated_once_and_kept(tmp_path: Path) -> None:
    first = Settings(WORLDDOOR_VAR_DIR=tmp_path, app_env="development", database_url="")
    second = Settings(WORLDDOOR_VAR_DIR=tmp_path, app_env="development", database_url="")
    assert len(first.jwt_secret.get_secret_value()) >= 64
    assert first.jwt_secret == second.jwt_secret
    assert first.ebay_client_id == second.ebay_client_id
    assert (tmp_path / "dev-secrets.json").stat().st_mode & 0o077 == 0
    other = Settings(WORLDDOOR_VAR_DIR=tmp_path / "other", app_env="development")
    assert other.jwt_secret != first.jwt_secret, "secrets are generated, never a constant"


def test_development_defaults_point_at_the_sandbox(tmp_path: Path) -> None:
    settings = Settings(WORLDDOOR_VAR_DIR=tmp_path, app_env="development", database_url="")
    assert settings.database_url == f"sqlite:///{tmp_path / 'worlddoor.db'}"
    assert settings.ebay_api_url.endswith(":8900/ebay") or "/ebay" in settings.ebay_api_url
    assert settings.openai_api_url.endswith("/openai/v1")
    assert settings.aws_endpoint_url.startswith("http://127.0.0.1:")


def test_older_fedex_names_map_to_the_rest_credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FEDEX_KEY", "legacy-key")
    monkeypatch.setenv("FEDEX_PASSWORD", "legacy-password")
    monkeypatch.delenv("FEDEX_API_KEY", raising=False)
    settings = Settings(app_env="production")
    assert settings.fedex_api_key == "legacy-key"
    assert settings.fedex_secret_key.get_secret_value() == "legacy-password"


def test_meter_number_is_flagged_as_unused() -> None:
    problems = Settings(app_env="production", fedex_meter_number="123").production_problems()
    assert any("FEDEX_METER_NUMBER" in p for p in problems)


def test_postgres_urls_use_psycopg3() -> None:
    s = Settings(app_env="production", database_url="postgres://u:p@db/x")
    assert s.sqlalchemy_url == "postgresql+psycopg://u:p@db/x"


def _clean_env(**extra: str) -> dict[str, str]:
    keep = {"PATH", "HOME", "LANG"}
    env = {k: v for k, v in os.environ.items() if k in keep}
    env.update(extra)
    return env


@pytest.mark.integration  # `worlddoor check-config` as a process
def test_production_refuses_an_empty_environment(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "cli", "check-config"],
        cwd=ROOT,
        env=_clean_env(APP_ENV="production", WORLDDOOR_VAR_DIR=str(tmp_path)),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 1
    lines = result.stdout.strip().splitlines()
    assert "Traceback" not in result.stdout + result.stderr
    for variable in (
        "JWT_SECRET",
        "FIELD_ENCRYPTION_KEY",
        "DATABASE_URL",
        "REDIS_URL",
        "EBAY_CLIENT_ID",
        "OPENAI_API_KEY",
    ):
        assert any(variable in line for line in lines), variable


@pytest.mark.integration  # `worlddoor api` as a process
def test_production_api_start_is_refused_with_one_line_per_problem(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "cli", "api"],
        cwd=ROOT,
        env=_clean_env(
            APP_ENV="production",
            WORLDDOOR_VAR_DIR=str(tmp_path),
            JWT_SECRET="short",
            DATABASE_URL="sqlite:///x.db",
            EBAY_BASE_URL="http://127.0.0.1:8900/ebay",
        ),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    err = result.stderr
    assert "Traceback" not in err
    assert "JWT_SECRET is 5 bytes" in err
    assert "SQLite" in err
    assert "EBAY_BASE_URL points at the sandbox" in err
    assert all(line.startswith("refusing to start in production:") for line in err.splitlines())


def test_development_values_are_refused_in_production(tmp_path: Path) -> None:
    dev = Settings(WORLDDOOR_VAR_DIR=tmp_path, app_env="development")
    prod = Settings(
        WORLDDOOR_VAR_DIR=tmp_path,
        app_env="production",
        jwt_secret=dev.jwt_secret,
        ebay_client_id=dev.ebay_client_id,
        fedex_account_number=dev.fedex_account_number,
    )
    problems = prod.production_problems()
    assert "JWT_SECRET is a development value" in problems
    assert "EBAY_CLIENT_ID is a development value" in problems
    assert "FEDEX_ACCOUNT_NUMBER is a development value" in problems


def test_a_complete_production_configuration_passes(tmp_path: Path) -> None:
    settings = Settings(
        WORLDDOOR_VAR_DIR=tmp_path / "prod",
        app_env="production",
        jwt_secret="x" * 64,
        field_encryption_key="P7f0eZ1n3HPtx4T5oq0aGR6pvUX1E5u_mC0wDAUC0-Y=",
        database_url="postgresql://u:p@db.internal/worlddoor",
        redis_url="redis://cache.internal:6379/0",
        ebay_client_id="prod-app",
        ebay_client_secret="prod-cert",
        ebay_oauth_refresh_token="v^1.1#refresh",
        ebay_verification_token="verify-token-abcdefghijklmnopqrstuvwxyz",
        ebay_environment="PRODUCTION",
        fedex_api_key="l7key",
        fedex_secret_key="l7secret",
        fedex_account_number="510087000",
        fedex_environment="production",
        sendgrid_api_key="SG.real.key",
        sendgrid_webhook_public_key="MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE",
        aws_access_key_id="AKIAREAL",
        aws_secret_access_key="realsecret",
        openai_api_key="sk-real",
        allowed_hosts=["backoffice.theworlddoor.jp"],
        temporal_payload_keys="2026-12:" + base64.b64encode(bytes(range(32))).decode(),
        metrics_token="scrape-token-abcdefghijklmnopqrstuvwxyz",
    )
    assert settings.production_problems() == []


@pytest.mark.parametrize(
    ("keys", "problem"),
    [
        ("", "TEMPORAL_PAYLOAD_KEYS is missing"),
        ("k1:" + base64.b64encode(b"short").decode(), "has 5 bytes"),
        ("no-colon", "key-id:base64-key"),
        ("dev-1:" + base64.b64encode(bytes(32)).decode(), "development key"),
    ],
)
def test_production_refuses_missing_or_weak_payload_keys(
    tmp_path: Path, keys: str, problem: str
) -> None:
    settings = Settings(
        WORLDDOOR_VAR_DIR=tmp_path, app_env="production", temporal_payload_keys=keys
    )
    assert any(problem in line for line in settings.production_problems())


def test_development_generates_a_payload_key_production_refuses(tmp_path: Path) -> None:
    dev = Settings(WORLDDOOR_VAR_DIR=tmp_path, app_env="development")
    prod = Settings(
        WORLDDOOR_VAR_DIR=tmp_path,
        app_env="production",
        temporal_payload_keys=dev.temporal_payload_keys,
    )
    assert "TEMPORAL_PAYLOAD_KEYS holds a development key" in prod.production_problems()

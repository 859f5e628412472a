"""Settings for every process (API, worker, CLI, sandbox) and the production safety checks.

Variable names are the usual ones for each service (`DATABASE_URL`, `EBAY_CLIENT_ID`, `FEDEX_*`,
`SENDGRID_*`, `AWS_*`, ...). In development every secret and sandbox credential is generated
once into `var/` and read back on every start, so there is no fixed secret in the code and a
restart keeps sessions valid.
"""

from __future__ import annotations

import base64
import json
import os
import secrets
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Literal
from urllib.parse import urlparse

from pydantic import AliasChoices, Field, PositiveInt, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from domain.addresses import non_latin_fields
from domain.contacts import STAFF_NOTIFICATION_EMAIL

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.ec import EllipticCurvePrivateKey

EMAIL_TEMPLATES = (
    "welcome",
    "password_reset",
    "two_factor_code",
    "order_confirmation",
    "shipping_notification",
    "order_cancelled",
    "inspection_issue",
    "listing_approval_reminder",
    "inspection_escalation",
    "workflow_stuck",
)
"""Dynamic templates by name: account and order mails first, then the ones the workflows send to
staff (approval reminders, inspection escalations, a workflow whose tasks keep failing)."""

DEV_PREFIX = "dev-"
"""Every generated development credential starts with this, so production can refuse it."""

KNOWN_DEV_VALUES = {"password123", "dev-secret-key", "changeme", "changethis", "secret", ""}

SANDBOX_HOST = "127.0.0.1"


def _default_var_dir() -> Path:
    return Path(os.environ.get("WORLDDOOR_VAR_DIR", "var")).resolve()


def load_dev_secrets(var_dir: Path) -> dict[str, str]:
    """Generate the development secrets once and keep them under `var_dir`."""
    path = var_dir / "dev-secrets.json"
    existing: dict[str, str] = json.loads(path.read_text()) if path.exists() else {}
    token = secrets.token_urlsafe
    fresh = {
        "JWT_SECRET": token(64),
        "FIELD_ENCRYPTION_KEY": base64.urlsafe_b64encode(secrets.token_bytes(32)).decode(),
        "EBAY_CLIENT_ID": f"{DEV_PREFIX}ebay-app-{token(6)}",
        "EBAY_CLIENT_SECRET": f"{DEV_PREFIX}ebay-cert-{token(16)}",
        "EBAY_OAUTH_REFRESH_TOKEN": f"{DEV_PREFIX}ebay-refresh-{token(24)}",
        "EBAY_VERIFICATION_TOKEN": f"{DEV_PREFIX}ebay-verify-{token(24)}",
        "FEDEX_API_KEY": f"{DEV_PREFIX}fedex-key-{token(12)}",
        "FEDEX_SECRET_KEY": f"{DEV_PREFIX}fedex-secret-{token(16)}",
        "FEDEX_ACCOUNT_NUMBER": "7" + "".join(secrets.choice("0123456789") for _ in range(8)),
        "SENDGRID_API_KEY": f"SG.{DEV_PREFIX}{token(16)}.{token(24)}",
        "OPENAI_API_KEY": f"sk-{DEV_PREFIX}{token(24)}",
        "AWS_ACCESS_KEY_ID": f"{DEV_PREFIX}AKIA{secrets.token_hex(6).upper()}",
        "AWS_SECRET_ACCESS_KEY": f"{DEV_PREFIX}{token(30)}",
        "YAMATO_CUSTOMER_CODE": "01234567890",
        "SAGAWA_CUSTOMER_CODE": "123456789012",
        # key id ":" base64 AES-256 key; the "dev-" id makes production refuse it
        "TEMPORAL_PAYLOAD_KEYS": (
            f"{DEV_PREFIX}{secrets.token_hex(4)}:"
            + base64.b64encode(secrets.token_bytes(32)).decode()
        ),
    }
    if existing.keys() >= fresh.keys():
        return existing
    # New secrets added by a later version join the file; existing ones never change.
    values = {**fresh, **existing}
    var_dir.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(values, indent=2))
    path.chmod(0o600)
    return values


SENDGRID_DEV_KEY_FILE = "sendgrid-webhook-key.pem"
"""The development SendGrid Event Webhook key pair (ECDSA P-256): the sandbox signs with it."""


def sendgrid_dev_private_key(var_dir: Path) -> EllipticCurvePrivateKey:
    """The development signing key; created on first use (exclusive create, so racing
    processes end up sharing the first writer's key)."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    path = Path(var_dir) / SENDGRID_DEV_KEY_FILE
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        pem = ec.generate_private_key(ec.SECP256R1()).private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            pass
        else:
            with os.fdopen(fd, "wb") as handle:
                handle.write(pem)
    key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    if not isinstance(key, ec.EllipticCurvePrivateKey):
        raise ValueError(f"{path} does not hold an EC private key")
    return key


def sendgrid_dev_public_key_b64(var_dir: Path) -> str:
    """Its verification key as SendGrid's settings page shows it (base64 DER SPKI, no PEM
    armour), which is what `EventWebhook(public_key)` expects."""
    from cryptography.hazmat.primitives import serialization

    der = (
        sendgrid_dev_private_key(var_dir)
        .public_key()
        .public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    )
    return base64.b64encode(der).decode()


class Settings(BaseSettings):
    """All configuration. Field names map to the upper-case environment variables."""

    model_config = SettingsConfigDict(env_file=".env", extra="ignore", populate_by_name=True)

    # --- Process ---------------------------------------------------------------------------------
    # Which environment this is, where local state lives, how logs are written.
    app_env: Literal["development", "test", "production"] = "development"
    var_dir: Path = Field(default_factory=_default_var_dir, alias="WORLDDOOR_VAR_DIR")
    log_level: str = "INFO"
    log_json: bool | None = None

    # --- Our own state ---------------------------------------------------------------------------
    # The database of record and Redis (API stores, rate limits, sessions).
    database_url: str = ""
    redis_url: str = ""

    # --- API -------------------------------------------------------------------------------------
    # Where the API listens, its tokens and the field encryption key, CORS and hosts.
    api_host: str = "127.0.0.1"
    api_port: int = 8000
    # Uvicorn worker processes of `worlddoor api` (and `worlddoor dev`). They share rate limits,
    # sessions and request metrics through Redis and PROMETHEUS_MULTIPROC_DIR; with the file
    # store (no REDIS_URL) keep 1.
    api_workers: int = Field(default=1, ge=1, le=64)
    # Pages of GET /api/orders kept in memory per API process until PostgreSQL notifies a change
    # to the orders or shipments (api/change_feed.py; not on SQLite); 0: every page is read.
    order_page_cache_entries: int = Field(default=256, ge=0, le=100_000)
    jwt_secret: SecretStr = SecretStr("")
    jwt_audience: str = "worlddoor-api"
    field_encryption_key: SecretStr = SecretStr("")  # Fernet key(s), comma-separated
    access_token_minutes: int = 15
    refresh_token_days: int = 14
    cors_allow_origins: list[str] = Field(default_factory=lambda: ["http://localhost:3000"])
    allowed_hosts: list[str] = Field(default_factory=lambda: ["*"])
    trusted_proxies: list[str] = Field(default_factory=list)
    max_request_body_bytes: int = 10 * 1024 * 1024
    public_base_url: str = ""  # empty -> http://API_HOST:API_PORT (127.0.0.1 for 0.0.0.0)
    # --- API limits ------------------------------------------------------------------------------
    # Rate limits per client (windows in seconds) and account lock-out rules.
    store_namespace: str = "worlddoor"
    rate_limit_public: int = 100
    rate_limit_public_window: int = 15 * 60
    rate_limit_login: int = 20
    rate_limit_login_window: int = 15 * 60
    rate_limit_two_factor: int = 10
    rate_limit_two_factor_window: int = 15 * 60
    rate_limit_api: int = 600
    rate_limit_api_window: int = 60
    rate_limit_webhooks: int = 600
    rate_limit_webhooks_window: int = 60
    login_max_failures: int = 5
    login_lockout_minutes: int = 15
    totp_max_failures: int = 5
    two_factor_step_minutes: int = 5
    password_reset_minutes: int = 60
    # How long an emailed invitation (set a password, enrol two-factor) stays valid.
    invitation_hours: int = Field(default=72, ge=1, le=24 * 30)
    # Admins must have two-factor before they can do anything (unset: only in production).
    admin_two_factor_required: bool | None = None
    # A login from a device not seen for this account in this many days gets a security notice.
    known_device_days: int = 180
    # Signed SendGrid event batches older or newer than this are refused (replays).
    sendgrid_webhook_tolerance_seconds: int = 300

    # --- Temporal --------------------------------------------------------------------------------
    # The Temporal server the worker and API talk to, and the dev server's files.
    temporal_address: str = "127.0.0.1:7233"
    temporal_namespace: str = "default"
    temporal_task_queue: str = "worlddoor"
    temporal_tls: bool = False
    temporal_api_key: SecretStr = SecretStr("")
    temporal_ui_port: int = 8233
    # The Temporal web UI staff open from the console's stuck list (empty: the dev server's UI
    # on TEMPORAL_UI_PORT at 127.0.0.1).
    temporal_ui_url: str = ""
    temporal_db_file: str = ""

    # --- Sandbox ---------------------------------------------------------------------------------
    # Ports of the development emulators and where they deliver webhooks.
    sandbox_port: int = 8900
    sandbox_s3_port: int = 8901
    # first of 8 consecutive loopback ports for the local S3 server's own listeners (its admin
    # gRPC port is the last of them + 10000)
    sandbox_s3_internal_port: int = 8910
    sandbox_webhook_url: str = ""

    # --- eBay ------------------------------------------------------------------------------------
    # Sell APIs credentials, marketplace, business policies and the deletion webhook.
    ebay_client_id: str = ""
    ebay_client_secret: SecretStr = SecretStr("")
    ebay_oauth_refresh_token: SecretStr = SecretStr("")
    ebay_environment: Literal["sandbox", "production", "SANDBOX", "PRODUCTION"] = "sandbox"
    ebay_base_url: str = ""
    ebay_marketplace_id: str = "EBAY_US"
    ebay_currency: str = "USD"
    ebay_merchant_location_key: str = "worlddoor-tokyo"
    ebay_fulfillment_policy_id: str = "fulfillment-default"
    ebay_payment_policy_id: str = "payment-default"
    ebay_return_policy_id: str = "return-default"
    ebay_verification_token: SecretStr = SecretStr("")
    ebay_deletion_endpoint_url: str = ""
    jpy_per_usd: float = 150.0
    # Calls to eBay from every worker together (a token bucket in Redis, adapters/quota.py):
    # eBay's limits are daily per application (Inventory API 2,000,000 a day, ~23 a second);
    # 20 a second spreads them with headroom. 0 turns the bucket off.
    ebay_calls_per_second: float = Field(default=20.0, ge=0)
    ebay_call_burst: int = Field(default=20, ge=1)
    # eBay's daily call limits per API family (the getRateLimits resource names), counted per
    # eBay day (from 00:00 Pacific) for every worker in Redis (adapters/quota.py DailyBudget).
    # Defaults: eBay's default limits (developer.ebay.com, Sell "API Call Limits"); raise them
    # to what the Application Growth Check grants. A family not listed is not counted. As JSON:
    # EBAY_DAILY_CALLS='{"sell.inventory": 2000000, "sell.fulfillment": 100000}'.
    ebay_daily_calls: dict[str, PositiveInt] = Field(
        default_factory=lambda: {"sell.inventory": 2_000_000, "sell.fulfillment": 100_000}
    )
    # The share of each daily limit kept back (calls this count cannot see: eBay's API
    # explorer, a script with the same keys): calls stop at 95% and fail retryably until the
    # next Pacific midnight instead of being refused by eBay.
    ebay_daily_reserve: float = Field(default=0.05, ge=0, lt=1)

    # --- FedEx -----------------------------------------------------------------------------------
    # REST API key pair and account; the base URL selects sandbox or production.
    # The SOAP-era names FEDEX_KEY / FEDEX_PASSWORD are accepted for the REST key pair.
    fedex_api_key: str = Field("", validation_alias=AliasChoices("FEDEX_API_KEY", "FEDEX_KEY"))
    fedex_secret_key: SecretStr = Field(
        SecretStr(""), validation_alias=AliasChoices("FEDEX_SECRET_KEY", "FEDEX_PASSWORD")
    )
    fedex_account_number: str = ""
    fedex_meter_number: str = ""
    fedex_environment: Literal["sandbox", "production"] = "sandbox"
    fedex_base_url: str = ""
    # FedEx allows 1,400 transactions per 10 seconds per project: a bucket refilled at 130 a
    # second holding 100 never lets more than 100 + 10 x 130 = 1,400 through in any 10 seconds.
    fedex_calls_per_second: float = Field(default=130.0, ge=0)
    fedex_call_burst: int = Field(default=100, ge=1)

    # --- Yamato and Sagawa -----------------------------------------------------------------------
    # Customer codes for the CSV hand-off (B2 Cloud, e-Hiden III) and tracking pages.
    yamato_customer_code: str = ""
    yamato_freight_code: str = "01"
    yamato_base_url: str = ""
    # Reading the carriers' public tracking pages: on by default against the emulators, off in
    # production unless set (then `DOMESTIC_CLOSE_AFTER_DAYS` or staff close domestic orders).
    yamato_tracking_enabled: bool | None = None
    sagawa_customer_code: str = ""
    sagawa_base_url: str = ""
    sagawa_tracking_enabled: bool | None = None
    # --- Shipper ---------------------------------------------------------------------------------
    # Our own address, printed as the sender on every label: in Japanese on the Yamato/Sagawa
    # hand-off files, in English (Latin script, checked at start-up) on international labels.
    shipper_name: str = "The World Door"
    shipper_phone: str = "0312345678"
    shipper_postal_code: str = "1000001"
    shipper_prefecture: str = "東京都"
    shipper_city: str = "千代田区"
    shipper_address_line1: str = "千代田1-1"
    shipper_country_code: str = "JP"
    shipper_name_en: str = "The World Door"
    shipper_prefecture_en: str = "Tokyo"
    shipper_city_en: str = "Chiyoda-ku"
    shipper_address_line1_en: str = "1-1 Chiyoda"

    # --- SendGrid --------------------------------------------------------------------------------
    # Mail API key, sender, Event Webhook key and one dynamic template id each.
    sendgrid_api_key: SecretStr = SecretStr("")
    sendgrid_from_email: str = "noreply@theworlddoor.example"
    sendgrid_from_name: str = "The World Door"
    sendgrid_base_url: str = ""
    sendgrid_webhook_public_key: str = ""
    sendgrid_template_welcome: str = "d-welcome"
    sendgrid_template_password_reset: str = "d-password-reset"
    sendgrid_template_two_factor_code: str = "d-two-factor-code"
    sendgrid_template_order_confirmation: str = "d-order-confirmation"
    sendgrid_template_shipping_notification: str = "d-shipping-notification"
    sendgrid_template_order_cancelled: str = "d-order-cancelled"
    sendgrid_template_inspection_issue: str = "d-inspection-issue"
    sendgrid_template_listing_approval_reminder: str = "d-listing-approval-reminder"
    sendgrid_template_inspection_escalation: str = "d-inspection-escalation"
    sendgrid_template_workflow_stuck: str = "d-workflow-stuck"
    # --- Staff -----------------------------------------------------------------------------------
    # Where escalations and approval reminders for staff are mailed.
    staff_notification_email: str = STAFF_NOTIFICATION_EMAIL

    # --- S3 --------------------------------------------------------------------------------------
    # Bucket, region and credentials for photos, labels and documents.
    aws_access_key_id: str = ""
    aws_secret_access_key: SecretStr = SecretStr("")
    aws_region: str = "ap-northeast-1"
    aws_s3_bucket: str = "fbt-development"
    aws_endpoint_url: str = ""
    # Browser uploads (presigned POST): size ceilings per kind, enforced by S3 itself
    max_image_upload_bytes: int = Field(default=20 * 1024 * 1024, ge=1)
    max_video_upload_bytes: int = Field(default=500 * 1024 * 1024, ge=1)
    upload_url_seconds: int = Field(default=900, ge=60, le=3600)
    download_url_seconds: int = Field(default=300, ge=30, le=3600)
    # Public base URL serving product-images/ (e.g. CloudFront); empty -> 7-day presigned GETs
    product_image_base_url: str = ""

    # --- OpenAI ----------------------------------------------------------------------------------
    # The model that writes English listings from Japanese notes.
    openai_api_key: SecretStr = SecretStr("")
    # gpt-4 has no structured outputs (json_schema); gpt-4o does.
    openai_model: str = "gpt-4o"
    openai_base_url: str = ""

    # --- Monitoring ------------------------------------------------------------------------------
    # Sentry error and trace reporting; the Prometheus endpoints of the API and the worker.
    sentry_dsn: str = ""
    sentry_environment: str = ""
    sentry_traces_sample_rate: float = 0.1
    # The worker's Temporal SDK metrics (Prometheus text on http://host:port/metrics; 0 = off)
    worker_metrics_host: str = "127.0.0.1"
    worker_metrics_port: int = 9464
    # Workflow tasks one worker runs at once. They are CPU-bound Python under one GIL: more at
    # once only makes each slower, and a task not answered within the workflow task timeout
    # (10 s) is retried from a full replay, which is slower still (seen on a loaded 2-core box).
    worker_max_workflow_tasks: int = Field(default=8, ge=1)
    # The API's /metrics: a bearer token Prometheus sends (required in production)
    metrics_token: SecretStr = SecretStr("")
    metrics_cache_seconds: float = 30  # business gauges are recomputed at most this often
    metrics_scan_limit: int = 200  # running workflows described per refresh for retrying activities
    # One describe-scan of the running workflows feeds the gauges above and the stuck list, reused
    # for this long (api/running.py); 0: every reader scans.
    workflow_scan_seconds: float = Field(default=10, ge=0)
    activity_retry_alert_attempts: int = 5  # "retrying" = a pending activity past this attempt
    # "stuck" = a workflow whose pending workflow task is at this attempt or later (it failed or
    # timed out every time before): the metrics gauge, the order's watch of its inspection child
    workflow_task_alert_attempts: int = Field(default=3, ge=2)

    # --- Backups and Temporal payload encryption ----------------------------------------------
    # Database backups to S3 backups/ (ops/backup.py) and the AES-GCM codec of every Temporal
    # payload (temporal_codec.py), with the web UI that may call its endpoint.
    backup_interval_minutes: int = Field(default=60, ge=5)
    backup_keep_hourly_hours: int = Field(default=48, ge=1)
    backup_keep_daily_days: int = Field(default=30, ge=1)
    backup_keep_monthly_months: int = Field(default=12, ge=1)
    # "key-id:base64key,...": the first encrypts, all decrypt (rotate: new key first, keep the
    # old ones until the namespace retention has removed the histories written with them).
    temporal_payload_keys: SecretStr = SecretStr("")
    temporal_ui_origins: list[str] = Field(default_factory=list)  # CORS for the codec endpoint
    temporal_retention_days: int = Field(default=30, ge=1)  # closed workflows are then deleted
    temporal_tls_client_cert: str = ""  # mTLS to Temporal (Cloud or self-hosted): PEM paths
    temporal_tls_client_key: str = ""

    # --- Business rules --------------------------------------------------------------------------
    # Approval, reminder, escalation and transit limits the workflows apply.
    listing_requires_approval: bool = True
    listing_approval_reminder_hours: float = 24
    inspection_escalation_hours: float = 24
    max_transit_days: int = 7
    # Minutes staff have to pick another quote (`POST /api/shipments/{id}/rate`) before the
    # label is bought; the cheapest quote within `MAX_TRANSIT_DAYS` is bought when nobody does.
    rate_choice_minutes: float = Field(default=30, ge=0)
    # A label charge above the chosen quote by more than this is flagged on the shipment.
    label_charge_margin_percent: float = Field(default=5, ge=0)
    # Domestic parcels whose tracking page is not read close this many days after hand-off
    # (0: only staff close them with `POST /api/shipments/{id}/delivered`).
    domestic_close_after_days: float = Field(default=5, ge=0)

    @model_validator(mode="after")
    def _derive_public_base_url(self) -> Settings:
        """Without PUBLIC_BASE_URL, the API's own address at the configured port."""
        if not self.public_base_url:
            host = "127.0.0.1" if self.api_host in ("", "0.0.0.0", "::") else self.api_host  # noqa: S104
            self.public_base_url = f"http://{host}:{self.api_port}"
        return self

    @model_validator(mode="after")
    def _fill_development_defaults(self) -> Settings:
        """Outside production, point everything at the sandbox and the generated secrets."""
        if self.app_env == "production":
            return self
        dev = load_dev_secrets(self.var_dir)
        sandbox = f"http://{SANDBOX_HOST}:{self.sandbox_port}"
        if not self.database_url:
            self.database_url = f"sqlite:///{self.var_dir / 'worlddoor.db'}"
        defaults: dict[str, object] = {
            "jwt_secret": SecretStr(dev["JWT_SECRET"]),
            "field_encryption_key": SecretStr(dev["FIELD_ENCRYPTION_KEY"]),
            "temporal_payload_keys": SecretStr(dev["TEMPORAL_PAYLOAD_KEYS"]),
            "ebay_client_id": dev["EBAY_CLIENT_ID"],
            "ebay_client_secret": SecretStr(dev["EBAY_CLIENT_SECRET"]),
            "ebay_oauth_refresh_token": SecretStr(dev["EBAY_OAUTH_REFRESH_TOKEN"]),
            "ebay_verification_token": SecretStr(dev["EBAY_VERIFICATION_TOKEN"]),
            "ebay_base_url": f"{sandbox}/ebay",
            "ebay_deletion_endpoint_url": (
                f"{self.public_base_url}/api/webhooks/ebay/account-deletion"
            ),
            "fedex_api_key": dev["FEDEX_API_KEY"],
            "fedex_secret_key": SecretStr(dev["FEDEX_SECRET_KEY"]),
            "fedex_account_number": dev["FEDEX_ACCOUNT_NUMBER"],
            "fedex_base_url": f"{sandbox}/fedex",
            "yamato_customer_code": dev["YAMATO_CUSTOMER_CODE"],
            "yamato_base_url": f"{sandbox}/yamato",
            "sagawa_customer_code": dev["SAGAWA_CUSTOMER_CODE"],
            "sagawa_base_url": f"{sandbox}/sagawa",
            "sendgrid_api_key": SecretStr(dev["SENDGRID_API_KEY"]),
            "sendgrid_base_url": f"{sandbox}/sendgrid",
            "sandbox_webhook_url": f"{self.public_base_url}/api/webhooks/sendgrid",
            "openai_api_key": SecretStr(dev["OPENAI_API_KEY"]),
            "openai_base_url": f"{sandbox}/openai/v1",
            "aws_access_key_id": dev["AWS_ACCESS_KEY_ID"],
            "aws_secret_access_key": SecretStr(dev["AWS_SECRET_ACCESS_KEY"]),
            "aws_endpoint_url": f"http://{SANDBOX_HOST}:{self.sandbox_s3_port}",
        }
        for name, value in defaults.items():
            current = getattr(self, name)
            empty = not (current.get_secret_value() if isinstance(current, SecretStr) else current)
            if empty:
                setattr(self, name, value)
        if self.yamato_tracking_enabled is None:  # the emulators serve tracking pages
            self.yamato_tracking_enabled = True
        if self.sagawa_tracking_enabled is None:
            self.sagawa_tracking_enabled = True
        if not self.sendgrid_webhook_public_key:  # the sandbox signs events with this key pair
            self.sendgrid_webhook_public_key = sendgrid_dev_public_key_b64(self.var_dir)
        if not self.temporal_db_file:
            self.temporal_db_file = str(self.var_dir / "temporal.db")
        if not self.temporal_ui_origins:
            self.temporal_ui_origins = [
                f"http://127.0.0.1:{self.temporal_ui_port}",
                f"http://localhost:{self.temporal_ui_port}",
            ]
        return self

    # Derived values -------------------------------------------------------------------------

    @property
    def is_production(self) -> bool:
        return self.app_env == "production"

    @property
    def uses_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    @property
    def requires_admin_two_factor(self) -> bool:
        if self.admin_two_factor_required is not None:
            return self.admin_two_factor_required
        return self.is_production

    @property
    def sqlalchemy_url(self) -> str:
        """`postgres://` and `postgresql://` become the psycopg 3 driver URL."""
        url = self.database_url
        for prefix in ("postgres://", "postgresql://"):
            if url.startswith(prefix):
                return "postgresql+psycopg://" + url[len(prefix) :]
        return url

    @property
    def ebay_api_url(self) -> str:
        if self.ebay_base_url:
            return self.ebay_base_url.rstrip("/")
        if self.ebay_environment.lower() == "production":
            return "https://api.ebay.com"
        return "https://api.sandbox.ebay.com"

    @property
    def fedex_api_url(self) -> str:
        if self.fedex_base_url:
            return self.fedex_base_url.rstrip("/")
        if self.fedex_environment == "production":
            return "https://apis.fedex.com"
        return "https://apis-sandbox.fedex.com"

    @property
    def sendgrid_api_url(self) -> str:
        return (self.sendgrid_base_url or "https://api.sendgrid.com").rstrip("/")

    @property
    def openai_api_url(self) -> str:
        return (self.openai_base_url or "https://api.openai.com/v1").rstrip("/")

    def email_template_id(self, template: str) -> str:
        if template not in EMAIL_TEMPLATES:
            raise KeyError(f"unknown email template {template!r}")
        return getattr(self, f"sendgrid_template_{template}")

    def provider_urls(self) -> dict[str, str]:
        return {
            "EBAY_BASE_URL": self.ebay_api_url,
            "FEDEX_BASE_URL": self.fedex_api_url,
            "SENDGRID_BASE_URL": self.sendgrid_api_url,
            "OPENAI_BASE_URL": self.openai_api_url,
            "AWS_ENDPOINT_URL": self.aws_endpoint_url,
            "YAMATO_BASE_URL": self.yamato_base_url,
            "SAGAWA_BASE_URL": self.sagawa_base_url,
        }

    # Production safety ------------------------------------------------------------------------

    def production_problems(self) -> list[str]:
        """Every reason this configuration must not serve production, one line each."""
        problems: list[str] = []
        generated = _generated_dev_values(self.var_dir)
        secret = self.jwt_secret.get_secret_value()
        if not secret:
            problems.append("JWT_SECRET is missing (64 bytes or more required)")
        elif len(secret.encode()) < 64:
            problems.append(f"JWT_SECRET is {len(secret.encode())} bytes; 64 or more required")
        elif _is_dev_value(secret, generated):
            problems.append("JWT_SECRET is a development value")
        field_key = self.field_encryption_key.get_secret_value()
        problems += _encryption_key_problems(field_key, generated)
        problems += _payload_key_problems(self.temporal_payload_keys.get_secret_value())
        if not self.database_url:
            problems.append("DATABASE_URL is missing (PostgreSQL 14+ required)")
        elif self.uses_sqlite:
            problems.append("DATABASE_URL points at SQLite; production requires PostgreSQL")
        if not self.redis_url:
            problems.append("REDIS_URL is missing (Redis 6.2+ required for stores and limits)")
        for name, url in self.provider_urls().items():
            if url and _is_local_url(url):
                problems.append(f"{name} points at the sandbox or localhost ({url})")
        credentials = {
            "EBAY_CLIENT_ID": self.ebay_client_id,
            "EBAY_CLIENT_SECRET": self.ebay_client_secret.get_secret_value(),
            "EBAY_OAUTH_REFRESH_TOKEN": self.ebay_oauth_refresh_token.get_secret_value(),
            "EBAY_VERIFICATION_TOKEN": self.ebay_verification_token.get_secret_value(),
            "FEDEX_API_KEY": self.fedex_api_key,
            "FEDEX_SECRET_KEY": self.fedex_secret_key.get_secret_value(),
            "FEDEX_ACCOUNT_NUMBER": self.fedex_account_number,
            "SENDGRID_API_KEY": self.sendgrid_api_key.get_secret_value(),
            "SENDGRID_WEBHOOK_PUBLIC_KEY": self.sendgrid_webhook_public_key,
            "AWS_ACCESS_KEY_ID": self.aws_access_key_id,
            "AWS_SECRET_ACCESS_KEY": self.aws_secret_access_key.get_secret_value(),
            "OPENAI_API_KEY": self.openai_api_key.get_secret_value(),
        }
        for name, value in credentials.items():
            if not value:
                problems.append(f"{name} is missing")
            elif _is_dev_value(value, generated):
                problems.append(f"{name} is a development value")
        if self.fedex_meter_number:
            problems.append(
                "FEDEX_METER_NUMBER is set but unused: the FedEx REST API authenticates with "
                "FEDEX_API_KEY and FEDEX_SECRET_KEY (remove it)"
            )
        if self.ebay_environment.lower() != "production":
            problems.append("EBAY_ENVIRONMENT must be PRODUCTION")
        if self.fedex_environment != "production":
            problems.append("FEDEX_ENVIRONMENT must be production")
        if "*" in self.allowed_hosts:
            problems.append("ALLOWED_HOSTS must list the production host names, not '*'")
        if not self.metrics_token.get_secret_value():
            problems.append("METRICS_TOKEN is missing (Prometheus sends it to the API's /metrics)")
        problems += [
            f"{name.upper()} must be in Latin script (it prints on international labels)"
            for name in non_latin_fields(self.shipper_english_fields())
        ]
        return problems

    def shipper_english_fields(self) -> dict[str, str]:
        """The shipper address printed on international labels, by setting name."""
        return {
            "shipper_name_en": self.shipper_name_en,
            "shipper_address_line1_en": self.shipper_address_line1_en,
            "shipper_city_en": self.shipper_city_en,
            "shipper_prefecture_en": self.shipper_prefecture_en,
            "shipper_phone": self.shipper_phone,
            "shipper_postal_code": self.shipper_postal_code,
        }


def _is_dev_value(value: str, generated: set[str] | None = None) -> bool:
    lowered = value.lower()
    return (
        lowered in KNOWN_DEV_VALUES
        or lowered.startswith((DEV_PREFIX, "sg.dev-", "sk-dev-"))
        or value in (generated or set())
    )


def _generated_dev_values(var_dir: Path) -> set[str]:
    """The values in an existing `var/dev-secrets.json` (never creates one)."""
    path = var_dir / "dev-secrets.json"
    return set(json.loads(path.read_text()).values()) if path.exists() else set()


def _encryption_key_problems(keys: str, generated: set[str]) -> list[str]:
    if not keys:
        return ["FIELD_ENCRYPTION_KEY is missing (a Fernet key encrypts TOTP secrets)"]
    if keys in generated:
        return ["FIELD_ENCRYPTION_KEY is a development value"]
    from cryptography.fernet import Fernet

    try:
        for key in keys.split(","):
            Fernet(key.strip().encode())
    except ValueError:
        return ["FIELD_ENCRYPTION_KEY is not a valid Fernet key (32 url-safe base64 bytes)"]
    return []


def _payload_key_problems(keys: str) -> list[str]:
    if not keys:
        return ["TEMPORAL_PAYLOAD_KEYS is missing (AES-256 keys encrypt buyers' data in Temporal)"]
    from temporal_codec import parse_keys

    try:
        ids = list(parse_keys(keys))
    except ValueError as exc:
        return [f"TEMPORAL_PAYLOAD_KEYS: {exc}"]
    if any(key_id.startswith(DEV_PREFIX) for key_id in ids):
        return ["TEMPORAL_PAYLOAD_KEYS holds a development key"]
    return []


def _is_local_url(url: str) -> bool:
    host = (urlparse(url).hostname or "").lower()
    local = {"localhost", "127.0.0.1", "::1", "0.0.0.0", "sandbox"}  # noqa: S104
    return host in local or host.startswith("127.")


@lru_cache
def get_settings() -> Settings:
    return Settings()

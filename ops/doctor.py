"""`worlddoor doctor`: the production checklist as checks against a live deployment.

Each check says what it looked at; `--fix` creates what can safely be created (bucket
versioning and lifecycle rules, schedules, search attributes).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import httpx

from config import Settings

REQUIRED_SECURITY_HEADERS = (
    "strict-transport-security",
    "x-frame-options",
    "x-content-type-options",
    "referrer-policy",
    "content-security-policy",
)


@dataclass
class CheckResult:
    name: str
    ok: bool
    detail: str


Check = Callable[[Settings, bool], Awaitable[str]]
"""Returns a detail line on success; raises with the reason on failure."""


async def check_configuration(settings: Settings, _fix: bool) -> str:
    if not settings.is_production:
        return f"APP_ENV={settings.app_env} (production rules not enforced)"
    problems = settings.production_problems()
    if problems:
        raise RuntimeError("; ".join(problems))
    return "no development values, sandbox URLs or weak secrets"


async def check_database(settings: Settings, _fix: bool) -> str:
    from models.db import database_ok
    from models.migrate import current_revision, head_revision

    await asyncio.to_thread(database_ok, settings)
    current, head = await asyncio.to_thread(current_revision, settings), head_revision(settings)
    if current != head:
        raise RuntimeError(f"at revision {current}, head is {head}: run `worlddoor migrate`")
    return f"reachable, migrated to {head}"


async def check_admin(settings: Settings, _fix: bool) -> str:
    from sqlmodel import Session, select

    from models import Role, User
    from models.db import get_engine

    def admins() -> list[User]:
        with Session(get_engine(settings)) as session:
            return list(session.exec(select(User).where(User.role == Role.admin)).all())

    found = await asyncio.to_thread(admins)
    if not found:
        raise RuntimeError("no admin account: run `worlddoor create-admin --email ...`")
    without_2fa = [u.email for u in found if not u.totp_enabled]
    if settings.is_production and without_2fa:
        raise RuntimeError(f"admins without two-factor: {', '.join(without_2fa)}")
    return f"{len(found)} admin(s)"


async def check_redis(settings: Settings, _fix: bool) -> str:
    if not settings.redis_url:
        if settings.is_production:
            raise RuntimeError("REDIS_URL is not set")
        return "not configured (file store in development)"
    from redis.asyncio import Redis

    client = Redis.from_url(settings.redis_url)
    try:
        info = await client.info("server")
    finally:
        await client.aclose()
    version = str(info.get("redis_version", "0"))
    if tuple(int(p) for p in version.split(".")[:2]) < (6, 2):
        raise RuntimeError(f"Redis {version} is older than 6.2")
    return f"Redis {version}"


async def check_temporal(settings: Settings, fix: bool) -> str:
    from temporalio.api.workflowservice.v1 import DescribeNamespaceRequest

    from schedules import SCHEDULE_IDS, ensure_schedules
    from temporal_client import connect, ensure_search_attributes

    client = await connect(settings)
    await client.workflow_service.describe_namespace(
        DescribeNamespaceRequest(namespace=settings.temporal_namespace)
    )
    if fix:
        await ensure_search_attributes(client, settings.temporal_namespace)
        await ensure_schedules(client, settings)
    missing = []
    for schedule_id in SCHEDULE_IDS:
        try:
            await client.get_schedule_handle(schedule_id).describe()
        except Exception:  # noqa: BLE001 - any failure means "not there"
            missing.append(schedule_id)
    if missing:
        raise RuntimeError(f"schedules missing: {', '.join(missing)} (run with --fix)")
    return f"namespace {settings.temporal_namespace}, schedules {', '.join(SCHEDULE_IDS)}"


async def check_bucket(settings: Settings, fix: bool) -> str:
    from adapters.s3 import Storage, cors_origins

    storage = Storage(settings)
    if fix:
        await asyncio.to_thread(storage.ensure_bucket)
    s3 = storage.client
    bucket = settings.aws_s3_bucket
    versioning = await asyncio.to_thread(s3.get_bucket_versioning, Bucket=bucket)
    if versioning.get("Status") != "Enabled":
        raise RuntimeError(f"bucket {bucket}: versioning is not enabled (run with --fix)")
    try:
        lifecycle = await asyncio.to_thread(s3.get_bucket_lifecycle_configuration, Bucket=bucket)
    except Exception as exc:  # noqa: BLE001 - botocore raises a generic ClientError
        raise RuntimeError(f"bucket {bucket}: no lifecycle rules (run with --fix)") from exc
    try:
        cors = await asyncio.to_thread(s3.get_bucket_cors, Bucket=bucket)
    except Exception as exc:  # noqa: BLE001 - botocore raises a generic ClientError
        raise RuntimeError(f"bucket {bucket}: no CORS rules (run with --fix)") from exc
    allowed = {o for rule in cors.get("CORSRules", []) for o in rule.get("AllowedOrigins", [])}
    missing = [o for o in cors_origins(settings) if o not in allowed and "*" not in allowed]
    if missing:
        raise RuntimeError(f"bucket {bucket}: CORS misses {', '.join(missing)} (run with --fix)")
    rules = len(lifecycle.get("Rules", []))
    return f"bucket {bucket}: versioning on, {rules} lifecycle rules, CORS {len(allowed)} origins"


async def check_ebay(settings: Settings, _fix: bool) -> str:
    from adapters.ebay import EbayClient

    client = EbayClient(settings)
    await asyncio.to_thread(client.check_credentials)
    return f"OAuth refresh token accepted at {settings.ebay_api_url}"


async def check_fedex(settings: Settings, _fix: bool) -> str:
    from adapters.carriers.fedex import FedexCarrier

    carrier = FedexCarrier(settings)
    await asyncio.to_thread(carrier.check_credentials)
    return f"client credentials accepted at {settings.fedex_api_url}"


async def check_sendgrid(settings: Settings, _fix: bool) -> str:
    from adapters.sendgrid import Mailer

    await asyncio.to_thread(Mailer(settings).check_credentials)
    return f"API key accepted at {settings.sendgrid_api_url}"


async def check_openai(settings: Settings, _fix: bool) -> str:
    from adapters.openai import ListingWriter

    await asyncio.to_thread(ListingWriter(settings).check_credentials)
    return f"API key accepted, model {settings.openai_model}"


async def check_api(settings: Settings, _fix: bool) -> str:
    url = f"{settings.public_base_url.rstrip('/')}/api/ready"
    try:
        async with httpx.AsyncClient(timeout=5) as client:
            response = await client.get(url)
    except httpx.HTTPError as exc:
        raise RuntimeError(f"{url}: {type(exc).__name__} {exc}") from exc
    missing = [h for h in REQUIRED_SECURITY_HEADERS if h not in response.headers]
    if response.status_code != 200:
        raise RuntimeError(f"/api/ready answered {response.status_code}: {response.text[:200]}")
    if missing:
        raise RuntimeError(f"security headers missing: {', '.join(missing)}")
    return "ready, security headers present"


async def check_sentry(settings: Settings, _fix: bool) -> str:
    if not settings.sentry_dsn:
        if settings.is_production:
            raise RuntimeError("SENTRY_DSN is not set")
        return "not configured (development)"
    return f"DSN set, environment {settings.sentry_environment or settings.app_env}"


CHECKS: list[tuple[str, Check]] = [
    ("configuration", check_configuration),
    ("database", check_database),
    ("admin account", check_admin),
    ("redis", check_redis),
    ("temporal", check_temporal),
    ("s3 bucket", check_bucket),
    ("ebay credentials", check_ebay),
    ("fedex credentials", check_fedex),
    ("sendgrid credentials", check_sendgrid),
    ("openai credentials", check_openai),
    ("api", check_api),
    ("sentry", check_sentry),
]


async def run_check(
    settings: Settings, name: str, check: Check, fix: bool = False, check_seconds: float = 30
) -> CheckResult:
    """One check, bounded by `check_seconds`; any failure becomes a failed result."""
    try:
        detail = await asyncio.wait_for(check(settings, fix), timeout=check_seconds)
        return CheckResult(name, True, detail)
    except TimeoutError:
        return CheckResult(name, False, f"no answer within {check_seconds:g} s")
    except Exception as exc:  # noqa: BLE001 - every failure becomes a FAIL row
        return CheckResult(name, False, f"{type(exc).__name__}: {exc}"[:300])


async def run_checks(
    settings: Settings, fix: bool = False, check_seconds: float = 30
) -> list[CheckResult]:
    """Every check at once, each bounded by `check_seconds`; results in CHECKS order."""
    return list(
        await asyncio.gather(
            *(run_check(settings, name, check, fix, check_seconds) for name, check in CHECKS)
        )
    )

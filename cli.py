"""The `worlddoor` command: dev, api, worker, sandbox, migrate, create-admin, doctor, schedules,
backup and restore.

Configuration problems are reported one line per problem with a non-zero exit, never a
traceback.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import sys
from pathlib import Path
from typing import Any

import click
from pydantic import ValidationError

from config import Settings, get_settings

EXIT_CONFIG = 2


def load_settings(service: str) -> Settings:
    """Settings for a command, or one line per problem and exit code 2."""
    try:
        settings = get_settings()
    except ValidationError as exc:
        for error in exc.errors():
            name = ".".join(str(p) for p in error["loc"]).upper() or "configuration"
            click.echo(f"config error: {name}: {error['msg']}", err=True)
        sys.exit(EXIT_CONFIG)
    if settings.is_production and service in {"api", "worker", "dev", "migrate"}:
        problems = settings.production_problems()
        if problems:
            for problem in problems:
                click.echo(f"refusing to start in production: {problem}", err=True)
            sys.exit(EXIT_CONFIG)
    from observability import configure_logging, configure_sentry

    configure_logging(settings, service)
    if service in {"api", "worker"}:
        configure_sentry(settings, service)
    return settings


@click.group()
def main() -> None:
    """The World Door back office."""


@main.command()
def dev() -> None:
    """Run everything locally: Temporal dev server + UI, sandbox, worker and API."""
    from ops.dev import run_dev

    settings = load_settings("dev")
    if settings.is_production:
        raise click.UsageError("`worlddoor dev` is for development; use api/worker in production")
    sys.exit(run_dev(settings))


@main.command()
@click.option("--host", default=None, help="Bind address (default API_HOST).")
@click.option("--port", default=None, type=int, help="Port (default API_PORT).")
@click.option("--workers", default=None, type=int, help="Uvicorn processes (default API_WORKERS).")
def api(host: str | None, port: int | None, workers: int | None) -> None:
    """Serve the staff API."""
    import uvicorn

    settings = load_settings("api")
    processes = workers or settings.api_workers
    if processes > 1 and not settings.redis_url:
        # The file store's counters are read-modify-write: processes would each count alone.
        raise click.UsageError("several API processes need REDIS_URL (shared rate limits)")
    if processes > 1:  # request metrics summed over the processes (api/metrics.py)
        os.environ.setdefault("PROMETHEUS_MULTIPROC_DIR", str(settings.var_dir / "prometheus"))
    reset_metrics_directory()
    uvicorn.run(
        "cli:asgi_app",
        factory=True,
        host=host or settings.api_host,
        port=port or settings.api_port,
        workers=processes,
        proxy_headers=False,  # client identity comes from TRUSTED_PROXIES, not any header
        log_config=None,
        access_log=False,
    )


def reset_metrics_directory() -> None:
    """Several API processes share request metrics through PROMETHEUS_MULTIPROC_DIR; files left
    by a previous run would be counted again, so the directory starts empty."""
    directory = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if directory:
        shutil.rmtree(directory, ignore_errors=True)
        Path(directory).mkdir(parents=True, exist_ok=True)


def asgi_app() -> Any:
    """The API application for uvicorn's factory mode (each worker process builds its own)."""
    from api.app import create_app
    from ops.heap import freeze_startup_heap

    app = create_app(get_settings())
    freeze_startup_heap()
    return app


@main.command()
def worker() -> None:
    """Run a Temporal worker (scale by running more)."""
    from worker import run_worker

    settings = load_settings("worker")
    asyncio.run(run_worker(settings))


@main.group(invoke_without_command=True)
@click.pass_context
def sandbox(ctx: click.Context) -> None:
    """Run the local emulators (eBay, FedEx, Yamato, Sagawa, SendGrid, OpenAI); S3 is local-s3."""
    if ctx.invoked_subcommand is None:
        from sandbox.server import run_sandbox

        settings = load_settings("sandbox")
        run_sandbox(settings)


@main.command("local-s3")
def local_s3() -> None:
    """Run the local S3 server (SeaweedFS `weed mini`, data in var/s3) and bootstrap the bucket."""
    from ops.dev import run_local_s3

    settings = load_settings("local-s3")
    if settings.is_production:
        raise click.UsageError("the local S3 server is for development")
    sys.exit(run_local_s3(settings))


@sandbox.command("env")
def sandbox_env() -> None:
    """Print `export` lines pointing any client at the sandbox."""
    import shlex

    settings = load_settings("sandbox-env")
    for name, value in sandbox_environment(settings).items():
        click.echo(f"export {name}={shlex.quote(value)}")


def sandbox_environment(settings: Settings) -> dict[str, str]:
    from config import EMAIL_TEMPLATES

    values: dict[str, str] = {
        "EBAY_BASE_URL": settings.ebay_api_url,
        "EBAY_CLIENT_ID": settings.ebay_client_id,
        "EBAY_CLIENT_SECRET": settings.ebay_client_secret.get_secret_value(),
        "EBAY_OAUTH_REFRESH_TOKEN": settings.ebay_oauth_refresh_token.get_secret_value(),
        "EBAY_ENVIRONMENT": "sandbox",
        "FEDEX_BASE_URL": settings.fedex_api_url,
        "FEDEX_API_KEY": settings.fedex_api_key,
        "FEDEX_SECRET_KEY": settings.fedex_secret_key.get_secret_value(),
        "FEDEX_ACCOUNT_NUMBER": settings.fedex_account_number,
        "SENDGRID_BASE_URL": settings.sendgrid_api_url,
        "SENDGRID_API_KEY": settings.sendgrid_api_key.get_secret_value(),
        "SENDGRID_FROM_EMAIL": settings.sendgrid_from_email,
        "SENDGRID_FROM_NAME": settings.sendgrid_from_name,
        "SENDGRID_WEBHOOK_PUBLIC_KEY": settings.sendgrid_webhook_public_key,
    }
    for template in EMAIL_TEMPLATES:
        values[f"SENDGRID_TEMPLATE_{template.upper()}"] = settings.email_template_id(template)
    values.update(
        {
            "OPENAI_BASE_URL": settings.openai_api_url,
            "OPENAI_API_KEY": settings.openai_api_key.get_secret_value(),
            "OPENAI_MODEL": settings.openai_model,
            "AWS_ENDPOINT_URL": settings.aws_endpoint_url,
            "AWS_ACCESS_KEY_ID": settings.aws_access_key_id,
            "AWS_SECRET_ACCESS_KEY": settings.aws_secret_access_key.get_secret_value(),
            "AWS_REGION": settings.aws_region,
            "AWS_S3_BUCKET": settings.aws_s3_bucket,
            "YAMATO_BASE_URL": settings.yamato_base_url,
            "YAMATO_CUSTOMER_CODE": settings.yamato_customer_code,
            "YAMATO_FREIGHT_CODE": settings.yamato_freight_code,
            "SAGAWA_BASE_URL": settings.sagawa_base_url,
            "SAGAWA_CUSTOMER_CODE": settings.sagawa_customer_code,
        }
    )
    return values


@main.command()
def migrate() -> None:
    """Apply database migrations (Alembic upgrade head)."""
    from models.migrate import current_revision, upgrade

    settings = load_settings("migrate")
    upgrade(settings)
    click.echo(f"database at revision {current_revision(settings)}")


@main.command("create-admin")
@click.option("--email", required=True, help="The admin's email address.")
@click.option(
    "--prompt-password", is_flag=True, help="Type the password instead of generating one."
)
def create_admin(email: str, prompt_password: bool) -> None:
    """Create an admin account; a generated password is printed once."""
    from api.accounts import create_admin as create

    settings = load_settings("create-admin")
    password = (
        click.prompt("Password", hide_input=True, confirmation_prompt=True)
        if prompt_password
        else None
    )
    try:
        user, used = create(settings, email, password)
    except ValueError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"admin created: {user.email}")
    if password is None:
        click.echo(f"password (shown once): {used}")
        click.echo("change it at first sign-in (POST /api/auth/password); then enrol two-factor")


@main.command()
def demo() -> None:
    """One business day through the staff API and the emulators, then a table of invariants
    (starts the embedded stack itself unless one answers at API_PORT)."""
    from ops.demo import main as run_demo

    raise SystemExit(run_demo(load_settings("demo")))


@main.command("copy-data")
@click.option(
    "--source", required=True, help="Database URL to copy from, e.g. sqlite:///var/worlddoor.db"
)
@click.option("--target", default=None, help="Database URL to copy into (default DATABASE_URL).")
def copy_data(source: str, target: str | None) -> None:
    """Copy all rows from one database into another, migrated and empty (SQLite -> PostgreSQL)."""
    from models.copy_data import copy_data as copy

    settings = load_settings("copy-data")
    src = settings.model_copy(update={"database_url": source})
    dst = settings.model_copy(update={"database_url": target or settings.database_url})
    try:
        counts = copy(src, dst)
    except ValueError as exc:
        raise click.ClickException(str(exc)) from exc
    for table, count in counts.items():
        click.echo(f"{table}: {count} rows")


@main.command("check-config")
def check_config() -> None:
    """List every reason the current configuration could not run in production."""
    settings = load_settings("check-config")
    problems = settings.production_problems()
    for problem in problems:
        click.echo(problem)
    if problems:
        sys.exit(1)
    click.echo("configuration is fit for production")


@main.command()
@click.option("--fix", is_flag=True, help="Create the bucket rules and schedules that are missing.")
def doctor(fix: bool) -> None:
    """Check a live deployment against the production checklist and print a pass/fail table."""
    from ops.doctor import run_checks

    settings = load_settings("doctor")
    results = asyncio.run(run_checks(settings, fix=fix))
    width = max(len(r.name) for r in results)
    for result in results:
        mark = "PASS" if result.ok else "FAIL"
        click.echo(f"{mark}  {result.name.ljust(width)}  {result.detail}")
    if not all(r.ok for r in results):
        sys.exit(1)


@main.group()
def schedules() -> None:
    """Temporal Schedules for the periodic jobs."""


@schedules.command("sync")
def schedules_sync() -> None:
    """Create or update the schedules (idempotent)."""
    from schedules import ensure_schedules
    from temporal_client import connect

    settings = load_settings("schedules")

    async def run() -> Any:
        client = await connect(settings)
        return await ensure_schedules(client, settings)

    click.echo(f"schedules in place: {asyncio.run(run())}")


@schedules.command("list")
def schedules_list() -> None:
    """Show the schedules and their next run."""
    from schedules import list_schedules
    from temporal_client import connect

    settings = load_settings("schedules")

    async def run() -> Any:
        return await list_schedules(await connect(settings))

    for item in asyncio.run(run()):
        click.echo(str(item))


def _schedule_action(action: str, schedule_id: str) -> None:
    import schedules as jobs
    from temporal_client import connect

    settings = load_settings("schedules")
    if schedule_id not in jobs.SCHEDULE_IDS:
        raise click.BadParameter(f"unknown schedule; one of {', '.join(jobs.SCHEDULE_IDS)}")

    async def run() -> None:
        client = await connect(settings)
        await getattr(jobs, f"{action}_schedule")(client, schedule_id)

    asyncio.run(run())
    click.echo(f"{schedule_id}: {action}d" if action != "trigger" else f"{schedule_id}: triggered")


@schedules.command("pause")
@click.argument("schedule_id")
def schedules_pause(schedule_id: str) -> None:
    """Pause one schedule (e.g. order-sync during an eBay outage)."""
    _schedule_action("pause", schedule_id)


@schedules.command("unpause")
@click.argument("schedule_id")
def schedules_unpause(schedule_id: str) -> None:
    """Resume a paused schedule."""
    _schedule_action("unpause", schedule_id)


@schedules.command("trigger")
@click.argument("schedule_id")
def schedules_trigger(schedule_id: str) -> None:
    """Run one schedule's job now."""
    _schedule_action("trigger", schedule_id)


@main.command()
def backup() -> None:
    """Back up the database to S3 backups/ now (pg_dump -Fc, or SQLite's backup API).

    Runs here, without Temporal (so it works while Temporal is down); the hourly
    `database-backup` schedule does the same and then applies the retention policy."""
    from datetime import UTC, datetime

    from adapters.backup_store import BackupStore
    from adapters.errors import AdapterError
    from adapters.s3 import Storage
    from ops.backup import BackupError, create_backup

    settings = load_settings("backup")
    try:
        made = create_backup(settings, BackupStore(Storage(settings)), datetime.now(UTC))
    except (BackupError, AdapterError) as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"backup uploaded: {made.key}")
    click.echo(f"  size {made.size} bytes, sha256 {made.sha256}, revision {made.revision}")


@main.command()
@click.argument("key", required=False)
@click.option("--target", default=None, help="Database URL to restore into (default DATABASE_URL).")
@click.option("--force", is_flag=True, help="Replace the tables of a target that holds rows.")
def restore(key: str | None, target: str | None, force: bool) -> None:
    """List the backups (no KEY), or restore KEY (or `latest`) into a database.

    Verifies the SHA-256, refuses a non-empty target unless --force, applies the migrations up
    to head afterwards and prints the rows per table."""
    import time

    from adapters.backup_store import BackupStore
    from adapters.errors import AdapterError
    from adapters.s3 import Storage
    from ops.backup import BackupError, describe, list_backups, restore_backup

    settings = load_settings("restore")
    store = BackupStore(Storage(settings))
    try:
        backups = list_backups(store)
        if not key:
            if not backups:
                click.echo("no backups under backups/")
            for line in describe(backups):
                click.echo(line)
            return
        if key == "latest":
            if not backups:
                raise click.ClickException("no backups under backups/")
            key = backups[0].key
        elif key not in {b.key for b in backups}:
            raise click.ClickException(f"no backup {key!r}; run `worlddoor restore` to list them")
        dst = settings.model_copy(update={"database_url": target or settings.database_url})
        started = time.monotonic()
        counts = restore_backup(dst, store, key, force=force, progress=click.echo)
    except (BackupError, AdapterError) as exc:
        raise click.ClickException(str(exc)) from exc
    width = max((len(name) for name in counts), default=5)
    click.echo(f"{'table'.ljust(width)}  rows")
    for table, count in counts.items():
        click.echo(f"{table.ljust(width)}  {count}")
    click.echo(f"restored {key} in {time.monotonic() - started:.1f} s")


if __name__ == "__main__":
    main()

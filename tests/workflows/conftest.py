"""A real worker (all workflows, all activities, real adapters -> sandbox over HTTP, real
database) on the real Temporal dev server, one per test session."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass

import pytest
from temporalio.client import Client


@dataclass
class RunningWorker:
    client: Client
    task_queue: str


@pytest.fixture(scope="session")
async def worker(temporal_env, settings, migrated_db, sandbox) -> AsyncIterator[RunningWorker]:
    from worker import build_worker

    task_queue = f"test-{uuid.uuid4().hex[:8]}"
    settings.temporal_task_queue = task_queue
    w = build_worker(temporal_env.client, settings, task_queue=task_queue)
    async with w:
        yield RunningWorker(temporal_env.client, task_queue)


@pytest.fixture(scope="session")
async def ts_worker(
    time_skipping_env, settings, migrated_db, sandbox
) -> AsyncIterator[RunningWorker]:
    """A worker on the time-skipping server: timers fire when the test fast-forwards."""
    from worker import build_worker

    task_queue = f"ts-{uuid.uuid4().hex[:8]}"
    w = build_worker(time_skipping_env.client, settings, task_queue=task_queue)
    async with w:
        yield RunningWorker(time_skipping_env.client, task_queue)


async def record_history(handle, name: str) -> None:
    """With RECORD_HISTORIES=1, save a finished workflow's history under tests/histories/ so
    the replay test (tests/workflows/test_replay.py) can prove later code still replays it.

    Payloads are saved decrypted: the test run's key is made per run (var/), so a history kept
    encrypted would not replay in the next run; the replayer's codec passes plain payloads."""
    import os
    from pathlib import Path

    if os.environ.get("RECORD_HISTORIES") != "1":
        return
    history = await handle.fetch_history()
    await decrypt_payloads(history, handle._client.data_converter.payload_codec)
    target = Path(__file__).parent.parent / "histories" / f"{name}.json"
    target.parent.mkdir(exist_ok=True)
    target.write_text(history.to_json())


async def decrypt_payloads(history, codec) -> None:
    """Every payload of the history in plain JSON: the session's encryption key is thrown away
    with the session, and the replay test must read the history later (the production converter
    passes plain payloads)."""
    from temporalio.api.common.v1 import Payload

    if codec is None:
        return
    found: list[Payload] = []

    def visit(message) -> None:
        for field, value in message.ListFields():
            if field.message_type is None:
                continue
            if field.message_type.GetOptions().map_entry:
                items = list(value.values())
            elif field.is_repeated:
                items = list(value)
            else:
                items = [value]
            for item in items:
                if isinstance(item, Payload):
                    found.append(item)
                elif hasattr(item, "ListFields"):
                    visit(item)

    for event in history.events:
        visit(event)
    for payload, plain in zip(found, await codec.decode(found), strict=True):
        payload.CopyFrom(plain)

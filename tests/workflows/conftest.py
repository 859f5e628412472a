"""A real worker (all workflows, all activities, real adapters -> sandbox over HTTP, real
database) on the real Temporal dev server, one per test session."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

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
    import json
    import os
    from pathlib import Path

    if os.environ.get("RECORD_HISTORIES") != "1":
        return
    history = await handle.fetch_history()
    target = Path(__file__).parent.parent / "histories" / f"{name}.json"
    target.parent.mkdir(exist_ok=True)
    target.write_text(json.dumps(decrypted(json.loads(history.to_json()))))


def decrypted(value: Any) -> Any:
    """A history's JSON with every payload our codec encrypted replaced by its plain form."""
    import base64

    from google.protobuf.json_format import MessageToDict, ParseDict
    from temporalio.api.common.v1 import Payload

    from config import Settings
    from temporal_codec import ENCODING, EncryptionCodec

    if isinstance(value, list):
        return [decrypted(item) for item in value]
    if not isinstance(value, dict):
        return value
    encoding = value.get("metadata", {}).get("encoding") if "data" in value else None
    if encoding == base64.b64encode(ENCODING).decode():
        codec = EncryptionCodec.from_spec(Settings().temporal_payload_keys.get_secret_value())
        return MessageToDict(codec.decrypt(ParseDict(value, Payload())))
    return {key: decrypted(item) for key, item in value.items()}

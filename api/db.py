"""Sync SQLModel sessions run on a worker thread, so a query never blocks the event loop."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

import anyio.to_thread
from sqlmodel import Session

from config import Settings
from models.db import session_scope

T = TypeVar("T")


async def in_session(settings: Settings, work: Callable[[Session], T]) -> T:
    """Run `work(session)` in one transaction on a thread; commit on success."""

    def run() -> T:
        with session_scope(settings) as session:
            return work(session)

    return await anyio.to_thread.run_sync(run)

"""Database work from the API's event loop.

- `in_session`: any work (one transaction, committed on success) on a worker thread, so nothing
  it does blocks the event loop.
- `select_rows`: one Core SELECT, its rows (no ORM objects): the cheapest read (list pages).
- `read`: read-only work of one statement per answer on the hot paths (every authenticated
  request, list pages). On PostgreSQL it runs on the event loop itself, over psycopg's async
  connection in autocommit (no thread hop, no BEGIN/COMMIT round trips); the sync `work`
  runs inside SQLAlchemy's greenlet bridge, so it must only use the session (no other I/O).
  On SQLite it is `in_session`.

Thread hops cost more than the hop: worker threads running ORM code take the GIL from the event
loop in 5 ms slices, which is where the p99 of the list routes went."""

from __future__ import annotations

import asyncio
import weakref
from collections.abc import Callable, Sequence
from typing import Any, TypeVar, cast

import anyio.to_thread
import sqlalchemy as sa
import sqlalchemy.orm as sa_orm
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from sqlmodel import Session
from sqlmodel.ext.asyncio.session import AsyncSession

from config import Settings
from models.db import get_engine, session_scope

T = TypeVar("T")

READ_POOL_SIZE = 10
"""PostgreSQL connections per API process for `read` (plus the sync engine's own pool)."""

_ENGINES: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[str, AsyncEngine]] = (
    weakref.WeakKeyDictionary()
)
"""Async engines per event loop (a pool's connections belong to the loop that opened them)."""


async def in_session(settings: Settings, work: Callable[[Session], T]) -> T:
    """Run `work(session)` in one transaction on a thread; commit on success."""

    def run() -> T:
        with session_scope(settings) as session:
            return work(session)

    return await anyio.to_thread.run_sync(run)


def _read_engine(settings: Settings) -> AsyncEngine | None:
    url = settings.sqlalchemy_url
    if not url.startswith("postgresql+psycopg://"):
        return None
    engines = _ENGINES.setdefault(asyncio.get_running_loop(), {})
    if url not in engines:
        engines[url] = create_async_engine(
            url,
            # No ping before each use (a round trip per request): `read` retries once instead
            # when a pooled connection turns out to be dead (a restarted server).
            pool_pre_ping=False,
            # A fixed pool: requests beyond it wait for a connection (they take well under a
            # millisecond each); an overflow connection was opened and closed per request
            # under load, which cost more than the queries.
            pool_size=READ_POOL_SIZE,
            max_overflow=0,
            isolation_level="AUTOCOMMIT",
        )
    return engines[url]


async def read(settings: Settings, work: Callable[[Session], T]) -> T:
    """Run read-only `work(session)`: on the event loop on PostgreSQL, else `in_session`."""
    engine = _read_engine(settings)
    if engine is None:
        return await in_session(settings, work)
    # AsyncSession hands `work` its sync session, a sqlmodel Session (sync_session_class).
    run = cast(Callable[[sa_orm.Session], T], work)
    try:
        async with AsyncSession(engine, expire_on_commit=False) as session:
            return await session.run_sync(run)
    except DBAPIError as exc:
        if not exc.connection_invalidated:
            raise
    async with AsyncSession(engine, expire_on_commit=False) as session:  # read-only: retry once
        return await session.run_sync(run)


async def select_rows(
    settings: Settings, statement: sa.Select[Any], params: dict[str, Any] | None = None
) -> Sequence[sa.Row[Any]]:
    """The rows of one SELECT: on PostgreSQL over the async connection on the event loop (no
    ORM session: a third of `read`'s cost), else on a thread."""
    engine = _read_engine(settings)
    if engine is None:

        def run() -> Sequence[sa.Row[Any]]:
            with get_engine(settings).connect() as connection:
                return connection.execute(statement, params).all()

        return await anyio.to_thread.run_sync(run)
    try:
        async with engine.connect() as connection:
            return (await connection.execute(statement, params)).all()
    except DBAPIError as exc:
        if not exc.connection_invalidated:
            raise
    async with engine.connect() as connection:  # read-only: retry once on a fresh connection
        return (await connection.execute(statement, params)).all()

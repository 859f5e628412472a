"""Database work from the API's event loop.

- `in_session`: any work (one transaction, committed on success) on a worker thread, so nothing
  it does blocks the event loop.
- `select_rows`: one Core SELECT, its rows (no ORM objects): the cheapest read (list pages).
- `plain_rows`: `select_rows` without SQLAlchemy at execution, for statements whose columns and
  parameters need no type conversion (checked when the statement is first compiled): the order
  list, the hottest page.
- `read`: read-only work of one statement per answer on the hot paths (every authenticated
  request, list pages). On PostgreSQL it runs on the event loop itself, over psycopg's async
  connection in autocommit (no thread hop, no BEGIN/COMMIT round trips); the sync `work`
  runs inside SQLAlchemy's greenlet bridge, so it must only use the session (no other I/O).
  On SQLite it is `in_session`.

Thread hops cost more than the hop: worker threads running ORM code take the GIL from the event
loop in 5 ms slices, which is where the p99 of the list routes went."""

from __future__ import annotations

import asyncio
import functools
import weakref
from collections.abc import Callable, Sequence
from enum import StrEnum
from typing import Any, TypeVar, cast

import anyio.to_thread
import psycopg
import sqlalchemy as sa
import sqlalchemy.orm as sa_orm
from psycopg.rows import namedtuple_row
from sqlalchemy.engine.interfaces import Dialect
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from sqlalchemy.util import greenlet_spawn
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


async def dispose_read_engines() -> None:
    """Close this event loop's read pools (the app's shutdown). Each engine's connections refer
    to their loop, which keeps the loop alive as a key of `_ENGINES`: without this, every
    stopped loop (each test client) left its pool's connections open until the process ended."""
    for engine in _ENGINES.pop(asyncio.get_running_loop(), {}).values():
        await engine.dispose()


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


def _converted(kind: sa.types.TypeEngine[Any], processor: Any) -> bool:
    """Whether SQLAlchemy converts this type's values. A StrEnum column stays plain: its stored
    string is equal to (and encodes as) the member, and the caller binds strings."""
    if isinstance(kind, sa.Enum) and kind.enum_class and issubclass(kind.enum_class, StrEnum):
        return False
    return processor is not None


@functools.lru_cache(maxsize=64)
def _plain_sql(statement: sa.Select[Any], dialect: Dialect) -> str:
    """The statement's SQL for the driver (named `%(name)s` parameters), compiled once. Refused
    when a column or parameter has a type SQLAlchemy converts (encrypted columns, ...): the
    driver alone would return or send the raw value."""
    compiled = statement.compile(dialect=dialect)
    converted = [
        str(column.key)
        for column in statement.selected_columns
        if _converted(column.type, column.type.result_processor(dialect, None))
    ] + [
        name
        for name, bind in compiled.binds.items()
        if _converted(bind.type, bind.type.bind_processor(dialect))
    ]
    if converted or compiled.positiontup:
        raise TypeError(f"not a plain statement ({', '.join(converted) or 'positional'})")
    return compiled.string


async def plain_rows(
    settings: Settings, statement: sa.Select[Any], params: dict[str, Any]
) -> list[Any]:
    """The rows of one SELECT whose values need no conversion, as named tuples (attribute
    access and `_asdict()`, like a Row). On PostgreSQL the SQL compiled once goes straight to
    psycopg on a pooled connection: SQLAlchemy's per-execution work (parameter processing,
    result metadata, the greenlet bridge per call) was a third of the order list's time. Else
    `select_rows`."""
    engine = _read_engine(settings)
    if engine is None:
        return list(await select_rows(settings, statement, params))
    sql = _plain_sql(statement, engine.dialect)
    for attempt in (1, 2):
        pooled = await engine.raw_connection()
        connection = cast(psycopg.AsyncConnection[Any], pooled.driver_connection)
        try:
            async with connection.cursor(row_factory=namedtuple_row) as cursor:
                await cursor.execute(sql, params)
                return await cursor.fetchall()
        except psycopg.OperationalError:
            if attempt == 2 or not connection.closed:
                raise
            pooled.invalidate()  # read-only: retry once on a fresh connection
        finally:
            await greenlet_spawn(pooled.close)  # back to the pool (or discarded)
    raise AssertionError("unreachable")

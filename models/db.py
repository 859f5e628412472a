"""Engine and sessions. One engine per process and URL; SQLite gets WAL and a busy timeout."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlmodel import Session, SQLModel

from config import Settings, get_settings


@lru_cache(maxsize=8)
def _engine_for(url: str) -> Engine:
    if url.startswith("sqlite"):
        path = url.split("///", 1)[-1]
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = sa.create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})

        @sa.event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_connection, _record):
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA busy_timeout=30000")
            cursor.close()

        return engine
    return sa.create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=10)


def get_engine(settings: Settings | None = None) -> Engine:
    return _engine_for((settings or get_settings()).sqlalchemy_url)


@contextmanager
def session_scope(settings: Settings | None = None) -> Iterator[Session]:
    """A session that commits on success and rolls back on error."""
    with Session(get_engine(settings), expire_on_commit=False) as session:
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise


@contextmanager
def connection_scope(settings: Settings | None = None) -> Iterator[sa.Connection]:
    """A Core connection in one transaction that commits on success and rolls back on error:
    for the single statements of the hottest activities, without an ORM session's unit of work
    (loading a row to change two columns)."""
    with get_engine(settings).begin() as connection:
        yield connection


def database_ok(settings: Settings | None = None) -> bool:
    with get_engine(settings).connect() as conn:
        conn.execute(sa.text("select 1"))
    return True


def table_of(model: type[SQLModel]) -> sa.Table:
    """The Core table behind a SQLModel table class, typed (SQLModel does not declare
    `__table__`), for the statements that update columns by name."""
    table = sa.inspect(model).local_table
    assert isinstance(table, sa.Table)
    return table

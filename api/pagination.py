"""Limit/offset pages for list routes (read from the database, never from Temporal visibility),
and the search and date-range filters they share.

Both bounds are declared in the OpenAPI document and checked before any query runs: an offset
past MAX_OFFSET (e.g. 2^63, which overflowed the database driver) is a 400, never a 500."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, Generic, TypeVar

from litestar.exceptions import ValidationException
from litestar.params import Parameter
from pydantic import BaseModel

T = TypeVar("T")

MAX_LIMIT = 200
MAX_OFFSET = 1_000_000
"""Far beyond any table here; a deeper page is a search, not a scroll."""


NO_NUL = r"^[^\x00]*$"
"""PostgreSQL text cannot hold NUL: a search for "\x00" was a 500."""


def search_param(max_length: int, description: str = "") -> str | None:
    return Parameter(
        default=None, max_length=max_length, pattern=NO_NUL, description=description or None
    )


def limit_param(default: int = 50) -> int:
    return Parameter(default=default, ge=1, le=MAX_LIMIT, description="page size")


def offset_param() -> int:
    return Parameter(default=0, ge=0, le=MAX_OFFSET, description="rows to skip")


class Page(BaseModel, Generic[T]):
    items: list[T]
    total: int
    limit: int
    offset: int


def contains(column: Any, text: str) -> Any:
    """Case-insensitive "contains" with `%` and `_` taken literally."""
    return column.ilike(contains_pattern(text), escape="\\")


def contains_pattern(text: str) -> str:
    """The LIKE pattern of `contains` (for a statement that takes it as a bound parameter)."""
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def check_range(start: datetime | None, end: datetime | None) -> None:
    if start is not None and end is not None and start > end:
        raise ValidationException(detail="created_from must not be after created_to")


def in_range(query: Any, column: Any, start: datetime | None, end: datetime | None) -> Any:
    """Rows whose `column` is within [start, end]; a time without zone is taken as UTC."""
    if start is not None:
        query = query.where(column >= utc(start))
    if end is not None:
        query = query.where(column <= utc(end))
    return query


def utc(moment: datetime) -> datetime:
    """A time without zone taken as UTC."""
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)

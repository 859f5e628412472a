"""Limit/offset pages for list routes (read from the database, never from Temporal visibility),
and the search and date-range filters they share."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, Generic, TypeVar

from litestar.exceptions import ValidationException
from pydantic import BaseModel

T = TypeVar("T")

MAX_LIMIT = 200


class Page(BaseModel, Generic[T]):
    items: list[T]
    total: int
    limit: int
    offset: int


def contains(column: Any, text: str) -> Any:
    """Case-insensitive "contains" with `%` and `_` taken literally."""
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return column.ilike(f"%{escaped}%", escape="\\")


def check_range(start: datetime | None, end: datetime | None) -> None:
    if start is not None and end is not None and start > end:
        raise ValidationException(detail="created_from must not be after created_to")


def in_range(query: Any, column: Any, start: datetime | None, end: datetime | None) -> Any:
    """Rows whose `column` is within [start, end]; a time without zone is taken as UTC."""
    if start is not None:
        query = query.where(column >= _utc(start))
    if end is not None:
        query = query.where(column <= _utc(end))
    return query


def _utc(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)

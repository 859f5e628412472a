"""Limit/offset pages for list routes (read from the database, never from Temporal visibility),
and the search and date-range filters they share.

Both bounds are declared in the OpenAPI document and checked before any query runs: an offset
past MAX_OFFSET (e.g. 2^63, which overflowed the database driver) is a 400, never a 500."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Annotated, Any, Generic, TypeVar

from litestar.exceptions import ClientException, ValidationException
from litestar.params import Parameter
from pydantic import BaseModel
from sqlmodel import Session, func, select

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


def count_of(session: Session, query: Any) -> int:
    """How many rows `query` selects (its filters, no page)."""
    return int(session.exec(select(func.count()).select_from(query.subquery())).one())


def page_of(
    session: Session, query: Any, *order_by: Any, limit: int, offset: int
) -> tuple[list[Any], int]:
    """One page of `query`'s rows in `order_by` order (end it with a unique column, so that
    pages neither repeat nor skip a row), and the count of all its rows."""
    rows = session.exec(query.order_by(*order_by).offset(offset).limit(limit)).all()
    return list(rows), count_of(session, query)


def contains(column: Any, text: str) -> Any:
    """Case-insensitive "contains" with `%` and `_` taken literally."""
    return column.ilike(contains_pattern(text), escape="\\")


def contains_pattern(text: str) -> str:
    """The LIKE pattern of `contains` (for a statement that takes it as a bound parameter)."""
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


ISO_DATETIME = re.compile(
    r"\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?([Zz]|[+-]\d{2}:?\d{2})?"
)
"""ISO 8601 date and time (offset optional: UTC). Litestar's datetime parameters also took a
number as a Unix time (`created_to=0.5` answered 200), which the document's date-time refuses."""


def _date_param(description: str) -> Any:
    return Parameter(
        max_length=40,
        description=f"{description} (ISO 8601; without an offset: UTC)",
        schema_extra={"format": "date-time"},
    )


# Annotated with a plain `= None` default, so the console calling a route's `.fn` directly
# gets None, not the Parameter object.
CreatedFrom = Annotated[str | None, _date_param("created at or after")]
CreatedTo = Annotated[str | None, _date_param("created at or before")]


def _moment(name: str, text: str | None) -> datetime | None:
    if text is None:
        return None
    try:
        if not ISO_DATETIME.fullmatch(text):
            raise ValueError(text)
        return utc(datetime.fromisoformat(text.replace("z", "Z")))
    except ValueError:
        raise ValidationException(
            detail=f"{name} must be an ISO 8601 date and time, e.g. 2026-12-01T09:00:00Z"
        ) from None


def date_range(created_from: str | None, created_to: str | None) -> tuple[datetime | None, ...]:
    """The parsed bounds (400 when not ISO 8601). A range that ends before it starts parses but
    is refused: 422 (the list routes declare it)."""
    start, end = _moment("created_from", created_from), _moment("created_to", created_to)
    if start is not None and end is not None and start > end:
        raise ClientException(status_code=422, detail="created_from must not be after created_to")
    return start, end


RANGE_ERRORS = {"errors": (422,)}
"""`opt` of a list route with a date range."""


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

"""Limit/offset pages for list routes (read from the database, never from Temporal visibility).

Both bounds are declared in the OpenAPI document and checked before any query runs: an offset
past MAX_OFFSET (e.g. 2^63, which overflowed the database driver) is a 400, never a 500."""

from __future__ import annotations

from typing import Generic, TypeVar

from litestar.params import Parameter
from pydantic import BaseModel

T = TypeVar("T")

MAX_LIMIT = 200
MAX_OFFSET = 1_000_000
"""Far beyond any table here; a deeper page is a search, not a scroll."""


NO_NUL = r"^[^\x00]*$"
"""PostgreSQL text cannot hold NUL: a search for "\x00" was a 500."""


def search_param(max_length: int, description: str = "") -> str | None:
    return Parameter(  # type: ignore[no-any-return]
        default=None, max_length=max_length, pattern=NO_NUL, description=description or None
    )


def limit_param(default: int = 50) -> int:
    return Parameter(default=default, ge=1, le=MAX_LIMIT, description="page size")  # type: ignore[no-any-return]


def offset_param() -> int:
    return Parameter(default=0, ge=0, le=MAX_OFFSET, description="rows to skip")  # type: ignore[no-any-return]


class Page(BaseModel, Generic[T]):
    items: list[T]
    total: int
    limit: int
    offset: int

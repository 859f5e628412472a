"""The order list's query: a page of `OrderSummary` rows, newest first, with the filters of
`GET /api/orders` and the console's orders page (status, carrier, date range, search).

No exact total by default. Counting every match was about 90% of the route's database time on
10,000 orders (an index-only scan of the whole table per page) and grows with the table; a page
needs only to know whether another follows (`has_more`: one row more is read). The exact
`total` is counted when asked (`total=true`; the console asks, as it prints it). The API keeps
its encoded pages until PostgreSQL notifies a write (api/change_feed.py); this module always
reads the database.

Pages go by offset or by keyset (`after`, the `next_after` cursor of the previous page: the
position of its last row), which costs the same on page 1 and page 500. The sort, newest first
then the eBay id, is the one the console has always shown (index
ix_orders_created_at_ebay_order_id)."""

from __future__ import annotations

import base64
import binascii
import functools
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from litestar.exceptions import ClientException

from api.db import plain_rows
from api.pagination import contains_pattern, date_range, utc
from config import Settings
from models import Order, Shipment
from models.db import table_of
from models.types import as_utc

SUMMARY_COLUMNS = (
    "id",
    "ebay_order_id",
    "buyer_username",
    "buyer_name",
    "status",
    "total_value",
    "total_currency",
    "ebay_created_at",
    "created_at",
    "updated_at",
)
"""The columns of a list row (api.routes.orders.OrderSummary; a test keeps the two equal)."""

_DATETIMES = ("ebay_created_at", "created_at", "updated_at")


@dataclass(frozen=True)
class OrderFilters:
    status: str | None = None
    q: str | None = None  # a LIKE pattern (api.pagination.contains_pattern)
    carrier: str | None = None
    created_from: datetime | None = None
    created_to: datetime | None = None


@dataclass(frozen=True)
class OrderRows:
    rows: list[sa.Row[Any]]  # attribute access as OrderSummary (the console renders them)
    has_more: bool
    next_after: str | None  # keyset cursor of the next page (None on the last)
    total: int | None  # every match, counted only when asked


def encode_cursor(row: Any) -> str:
    raw = f"{as_utc(row.created_at).isoformat()}|{row.ebay_order_id}"
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime, str]:
    """(created_at, ebay_order_id) of the row a page starts after. A cursor of the documented
    alphabet that is not one of ours is a 422 (well-formed, refused), as a backwards range."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        moment, ebay_order_id = raw.split("|", 1)
        parsed = datetime.fromisoformat(moment)
        if parsed.tzinfo is None or not 0 < len(ebay_order_id) <= 40 or "\x00" in ebay_order_id:
            raise ValueError(raw)
    except (ValueError, binascii.Error, UnicodeDecodeError):
        raise ClientException(
            status_code=422, detail="after must be the next_after of a page"
        ) from None
    return parsed, ebay_order_id


@functools.lru_cache(maxsize=64)
def _statements(given: frozenset[str]) -> tuple[sa.Select[Any], sa.Select[Any]]:
    """The page and count statements for a set of parameters, built once with bound
    parameters (a statement built per request cost SQLAlchemy a cache key and a result-column
    match per execution)."""
    orders = table_of(Order)
    filters: list[Any] = []
    if "status" in given:
        filters.append(orders.c.status == sa.bindparam("status"))
    if "q" in given:
        pattern = sa.bindparam("q", type_=sa.String)
        columns = (orders.c.ebay_order_id, orders.c.buyer_name, orders.c.buyer_username)
        filters.append(sa.or_(*(c.ilike(pattern, escape="\\") for c in columns)))
    if "carrier" in given:
        shipments = table_of(Shipment)
        shipped_by = sa.select(shipments.c.order_id).where(
            shipments.c.carrier == sa.bindparam("carrier")
        )
        filters.append(orders.c.id.in_(shipped_by))
    if "created_from" in given:
        filters.append(orders.c.created_at >= sa.bindparam("created_from"))
    if "created_to" in given:
        filters.append(orders.c.created_at <= sa.bindparam("created_to"))
    count = sa.select(sa.func.count()).select_from(orders).where(*filters)
    page = sa.select(*(orders.c[name] for name in SUMMARY_COLUMNS)).where(*filters)
    if "after_created_at" in given:  # after the cursor's row, in the sort below
        moment = sa.bindparam("after_created_at", type_=orders.c.created_at.type)
        page = page.where(
            sa.or_(
                orders.c.created_at < moment,
                sa.and_(
                    orders.c.created_at == moment,
                    orders.c.ebay_order_id > sa.bindparam("after_ebay_order_id"),
                ),
            )
        )
    page = (
        page.order_by(orders.c.created_at.desc(), orders.c.ebay_order_id)
        .offset(sa.bindparam("offset", type_=sa.Integer))
        .limit(sa.bindparam("limit", type_=sa.Integer))
    )
    return page, count


async def order_page(
    settings: Settings,
    filters: OrderFilters,
    *,
    limit: int,
    offset: int = 0,
    after: str | None = None,
    with_total: bool = False,
) -> OrderRows:
    params: dict[str, Any] = {
        name: value for name, value in vars(filters).items() if value is not None and value != ""
    }
    counted = dict(params)
    if after:  # empty: the first page, as an empty search is no search
        params["after_created_at"], params["after_ebay_order_id"] = decode_cursor(after)
    page, count = _statements(frozenset(params))
    rows = list(await plain_rows(settings, page, {**params, "offset": offset, "limit": limit + 1}))
    has_more = len(rows) > limit
    del rows[limit:]
    total = None
    if with_total:
        total = (await plain_rows(settings, count, counted))[0][0]
    return OrderRows(
        rows=rows,
        has_more=has_more,
        next_after=encode_cursor(rows[-1]) if has_more else None,
        total=total,
    )


def summary_json(row: Any) -> dict[str, Any]:
    """One list row as OrderSummary serialises it (`msgspec` encodes the UUID and the
    datetimes; naive ones from SQLite are UTC), without building a pydantic model per row."""
    item = row._asdict()
    for name in _DATETIMES:
        if item[name] is not None:
            item[name] = as_utc(item[name])
    return item


def order_filters(
    status: str | None,
    q: str | None,
    carrier: str | None,
    created_from: str | None,
    created_to: str | None,
) -> OrderFilters:
    """The list's query parameters as filters: the dates parsed (400/422, api.pagination), the
    search as a literal "contains" pattern."""
    start, end = date_range(created_from, created_to)
    return OrderFilters(
        status=str(status) if status else None,  # a plain string (api.db.plain_rows)
        q=contains_pattern(q) if q else None,
        carrier=carrier or None,
        created_from=utc(start) if start is not None else None,
        created_to=utc(end) if end is not None else None,
    )

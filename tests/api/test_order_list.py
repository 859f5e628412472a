"""The order list (api/queries/orders.py) on the real database: pages by offset and by keyset
cursor agree, `has_more` says whether another page follows, the exact `total` only when asked,
filters (status, carrier, a JST date range, search) with both, and the rows encoded as
OrderSummary would encode them."""

from __future__ import annotations

import base64
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import anyio.to_thread
import pytest
import sqlalchemy as sa

from tests.api.conftest import login

# Seven orders a minute apart, the last two at the same moment (the eBay id breaks the tie).
BASE = datetime(2026, 3, 1, 0, 30, tzinfo=UTC)  # 09:30 in Japan
MOMENTS = [BASE + timedelta(minutes=m) for m in (0, 1, 2, 3, 4, 5, 5)]


def _insert_orders(settings, marker: str) -> list[str]:
    """Seven orders whose buyer names contain `marker`; their eBay ids, newest first as listed."""
    from models import Order, Shipment
    from models.db import session_scope

    ids = []
    with session_scope(settings) as session:
        for i, moment in enumerate(MOMENTS):
            order = Order(
                ebay_order_id=f"{marker}-{i}",
                buyer_username=f"user_{marker}_{i}",
                buyer_name=f"Buyer {marker}",
                status="shipped" if i % 2 else "inspecting",
                total_value="10.00",
                created_at=moment,
                updated_at=moment,
            )
            session.add(order)
            session.flush()
            if i in (1, 2):
                session.add(Shipment(order_id=order.id, carrier="yamato", service="TA-Q-BIN"))
            ids.append(order.ebay_order_id)
    # newest first; the two at 00:35 by eBay id ascending
    return [ids[5], ids[6], ids[4], ids[3], ids[2], ids[1], ids[0]]


@pytest.fixture
async def staff(client, make_user):
    return await login(client, await make_user("staff"))


@pytest.fixture
async def listed(settings, migrated_db) -> tuple[str, list[str]]:
    marker = uuid.uuid4().hex[:10]
    return marker, await anyio.to_thread.run_sync(lambda: _insert_orders(settings, marker))


async def _get(client, staff, **params: Any) -> dict[str, Any]:
    response = await client.get("/api/orders", headers=staff.headers, params=params)
    assert response.status_code == 200, response.text
    return response.json()


async def test_offset_and_keyset_pages_agree_and_total_only_when_asked(client, staff, listed):
    marker, expected = listed
    by_offset, flags = [], []
    for offset in (0, 3, 6):
        page = await _get(client, staff, q=marker, limit=3, offset=offset)
        assert page["total"] is None  # not counted unless asked
        by_offset += [o["ebay_order_id"] for o in page["items"]]
        flags.append(page["has_more"])
    assert by_offset == expected
    assert flags == [True, True, False]

    for limit in (1, 3):  # with 1, a cursor falls on the tie at 00:35
        by_cursor, after = [], None
        while True:
            cursor = {"after": after} if after else {}
            page = await _get(client, staff, q=marker, limit=limit, **cursor)
            by_cursor += [o["ebay_order_id"] for o in page["items"]]
            after = page["next_after"]
            assert (after is not None) == page["has_more"]
            if after is None:
                break
        assert by_cursor == expected, limit  # no row repeated or skipped

    counted = await _get(client, staff, q=marker, limit=3, total="true")
    assert counted["total"] == 7 and counted["has_more"] is True
    past = await _get(client, staff, q=marker, limit=3, offset=50, total="true")
    assert past["items"] == [] and past["total"] == 7 and past["has_more"] is False


async def test_filters_with_pages(client, staff, listed):
    marker, expected = listed
    shipped = await _get(client, staff, q=marker, status="shipped", limit=2, total="true")
    assert shipped["total"] == 3
    rest = await _get(client, staff, q=marker, status="shipped", after=shipped["next_after"])
    names = [o["ebay_order_id"] for o in shipped["items"] + rest["items"]]
    assert names == [f"{marker}-5", f"{marker}-3", f"{marker}-1"]
    assert rest["has_more"] is False

    yamato = await _get(client, staff, q=marker, carrier="yamato", total="true")
    assert [o["ebay_order_id"] for o in yamato["items"]] == [f"{marker}-2", f"{marker}-1"]

    # The console's JST day bounds: 09:32 to 09:34 in Japan is 00:32 to 00:34 UTC.
    window = await _get(
        client,
        staff,
        q=marker.upper(),  # search is case-insensitive
        created_from="2026-03-01T09:32:00+09:00",
        created_to="2026-03-01T09:34:00+09:00",
        total="true",
    )
    assert [o["ebay_order_id"] for o in window["items"]] == expected[2:5]
    assert window["total"] == 3


async def test_rows_are_encoded_as_order_summary(client, staff, listed, settings):
    from api.queries.orders import SUMMARY_COLUMNS
    from api.routes.orders import OrderSummary
    from models import Order
    from models.db import session_scope

    assert tuple(OrderSummary.model_fields) == SUMMARY_COLUMNS
    marker, _ = listed
    page = await _get(client, staff, q=marker)

    def summaries() -> dict[str, Any]:
        with session_scope(settings) as session:
            rows = session.scalars(sa.select(Order).where(Order.buyer_name == f"Buyer {marker}"))
            return {
                o.ebay_order_id: OrderSummary.model_validate(o).model_dump(mode="json")
                for o in rows
            }

    expected = await anyio.to_thread.run_sync(summaries)
    assert len(page["items"]) == 7
    for item in page["items"]:
        assert item == expected[item["ebay_order_id"]]
        assert item["created_at"].endswith("Z")


def _cursor(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


@pytest.mark.parametrize(
    "after",
    [
        "abc",
        _cursor(b"2026-03-01T00:30:00|x"),  # no offset
        _cursor(b"yesterday|x"),
        _cursor(b"\xff\xfe"),
        _cursor(b"2026-03-01T00:30:00+00:00|a\x00b"),
    ],
)
async def test_a_cursor_not_ours_is_refused(client, staff, after):
    """Of the documented alphabet but not ours: 422 (like a backwards date range); outside the
    alphabet: 400; empty: the first page."""
    response = await client.get("/api/orders", headers=staff.headers, params={"after": after})
    assert response.status_code == 422, response.text
    assert response.json()["detail"] == "after must be the next_after of a page"
    outside = await client.get("/api/orders", headers=staff.headers, params={"after": after + "!"})
    assert outside.status_code == 400, outside.text
    empty = await client.get("/api/orders", headers=staff.headers, params={"after": ""})
    assert empty.status_code == 200 and empty.json()["offset"] == 0


async def test_the_document_describes_the_page(client):
    spec = (await client.get("/schema/openapi.json")).json()
    operation = spec["paths"]["/api/orders"]["get"]
    ref = operation["responses"]["200"]["content"]["application/json"]["schema"]["$ref"]
    schema = spec["components"]["schemas"][ref.rsplit("/", 1)[1]]
    assert set(schema["properties"]) == {
        "items",
        "limit",
        "offset",
        "has_more",
        "next_after",
        "total",
    }
    assert {"after", "total"} <= {p["name"] for p in operation["parameters"]}


def test_plain_rows_refuses_a_column_the_driver_cannot_read_alone():
    """An encrypted column read straight from psycopg would be ciphertext."""
    from sqlalchemy.dialects.postgresql.psycopg import PGDialect_psycopg

    from api.db import _plain_sql
    from models import User
    from models.db import table_of

    users = table_of(User)
    with pytest.raises(TypeError, match="totp_secret"):
        _plain_sql(sa.select(users.c.id, users.c.totp_secret), PGDialect_psycopg())
    assert "FROM users" in _plain_sql(sa.select(users.c.id), PGDialect_psycopg())

"""The order list's page cache (api/change_feed.py) on the real PostgreSQL: a page is served
from memory until the migration's trigger notifies a write to the orders or shipments, never
while the LISTEN connection is down, and again once it listens."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable
from typing import Any

import anyio.to_thread
import pytest
import sqlalchemy as sa

from api.change_feed import ChangeFeed, PageCache, order_pages
from tests.api.conftest import app_settings, login


async def _commit(settings, statement: Any) -> None:
    """One statement committed from a connection of its own, on a thread (as the worker
    writes)."""
    from models.db import connection_scope

    def run() -> None:
        with connection_scope(settings) as connection:
            connection.execute(statement)

    await anyio.to_thread.run_sync(run)


def _set_status(marker: str, status: str) -> Any:
    """The UPDATE of the fixture's order to `status`."""
    from models import Order
    from models.db import table_of

    orders = table_of(Order)
    return sa.update(orders).where(orders.c.ebay_order_id == f"{marker}-1").values(status=status)


def _insert_order(settings, marker: str) -> None:
    from models import Order
    from models.db import session_scope

    with session_scope(settings) as session:
        session.add(
            Order(ebay_order_id=f"{marker}-1", buyer_name=f"Buyer {marker}", status="received")
        )


async def _eventually(condition: Callable[[], bool], what: str) -> None:
    for _ in range(500):
        if condition():
            return
        await asyncio.sleep(0.01)
    raise AssertionError(f"not within 5 s: {what}")


@pytest.fixture
async def cached(settings, migrated_db, make_client, make_user):
    """A client whose app keeps pages, its cache (same event loop), staff headers, an order."""
    if not settings.sqlalchemy_url.startswith("postgresql"):
        pytest.skip("the page cache listens on PostgreSQL")
    overrides = {"order_page_cache_entries": 16, "store_namespace": f"t{uuid.uuid4().hex[:12]}"}
    marker = uuid.uuid4().hex[:10]
    await anyio.to_thread.run_sync(lambda: _insert_order(settings, marker))
    async with make_client(**overrides) as client:
        staff = await login(client, await make_user("staff"))
        # The app runs on the test client's event loop thread (a blocking portal): its cache
        # is that loop's.
        portal = client.blocking_portal
        pages = portal.call(order_pages, app_settings(settings, **overrides))
        assert pages is not None
        await _eventually(lambda: pages.feed.live, "the feed listens")
        yield client, pages, staff.headers, marker
    # the app's shutdown stopped the feed
    assert not pages.feed.live


async def _statuses(client, headers, **params: Any) -> list[str]:
    response = await client.get("/api/orders", headers=headers, params=params)
    assert response.status_code == 200, response.text
    return [item["status"] for item in response.json()["items"]]


async def test_a_page_is_kept_until_a_write_to_the_orders_is_notified(settings, cached):
    client, pages, headers, marker = cached
    assert await _statuses(client, headers, q=marker) == ["received"]  # read, kept
    hits = pages.hits
    assert await _statuses(client, headers, q=marker) == ["received"]
    assert pages.hits == hits + 1  # served from memory

    generation = pages.feed.generation
    await _commit(settings, _set_status(marker, "inspecting"))
    await _eventually(lambda: pages.feed.generation > generation, "the write is notified")
    assert await _statuses(client, headers, q=marker) == ["inspecting"]
    assert pages.hits == hits + 1  # read again


async def test_a_new_shipment_changes_the_carrier_filter(settings, cached):
    from models import Order, Shipment
    from models.db import table_of

    client, pages, headers, marker = cached
    assert await _statuses(client, headers, q=marker, carrier="sagawa") == []
    assert await _statuses(client, headers, q=marker, carrier="sagawa") == []
    generation = pages.feed.generation
    orders = table_of(Order)
    order_id = sa.select(orders.c.id).where(orders.c.ebay_order_id == f"{marker}-1")
    shipment = sa.insert(table_of(Shipment)).values(
        id=uuid.uuid4(), order_id=order_id.scalar_subquery(), carrier="sagawa", service="hikyaku"
    )
    await _commit(settings, shipment)
    await _eventually(lambda: pages.feed.generation > generation, "the shipment is notified")
    assert await _statuses(client, headers, q=marker, carrier="sagawa") == ["received"]


async def test_no_page_is_served_while_the_feed_is_down(settings, cached):
    """The listening backend killed: pages come from the database (a write is seen without
    any notification), and are kept again once the feed listens again."""
    client, pages, headers, marker = cached
    await _statuses(client, headers, q=marker)
    killed = pages.feed.backend_pid
    await _commit(settings, sa.select(sa.func.pg_terminate_backend(killed)))
    await _eventually(lambda: not pages.feed.live, "the feed notices")
    client.blocking_portal.call(pages.feed.close)  # no reconnection during the next steps
    await _commit(settings, _set_status(marker, "cancelled"))
    hits = pages.hits
    assert await _statuses(client, headers, q=marker) == ["cancelled"]
    assert await _statuses(client, headers, q=marker) == ["cancelled"]
    assert pages.hits == hits  # nothing kept while not listening

    pages.feed.task = None
    client.blocking_portal.call(pages.feed.start)
    await _eventually(lambda: pages.feed.live, "the feed listens again")
    assert pages.feed.backend_pid != killed
    await _statuses(client, headers, q=marker)
    assert await _statuses(client, headers, q=marker) == ["cancelled"]
    assert pages.hits == hits + 1


def _listening_feed() -> ChangeFeed:
    feed = ChangeFeed("postgresql://unused")
    feed.live = True
    return feed


def _reader(page: bytes, calls: list[bytes], gate: asyncio.Event | None = None):
    async def read() -> bytes:
        calls.append(page)
        if gate is not None:
            await gate.wait()
        return page

    return read


async def test_a_page_read_while_a_change_arrived_is_read_again() -> None:
    pages, calls = PageCache(_listening_feed(), entries=4), list[bytes]()

    async def read_during_a_change() -> bytes:
        calls.append(b"old")
        pages.feed.generation += 1  # a notification while the page was read
        return b"old"

    assert await pages.page("page", read_during_a_change) == b"old"
    assert await pages.page("page", _reader(b"new", calls)) == b"new"
    assert await pages.page("page", _reader(b"unused", calls)) == b"new"
    assert calls == [b"old", b"new"]
    pages.feed.live = False
    assert await pages.page("page", _reader(b"direct", calls)) == b"direct"
    assert await pages.page("page", _reader(b"again", calls)) == b"again"  # nothing kept


async def test_only_the_most_recently_used_pages_are_kept() -> None:
    pages, calls = PageCache(_listening_feed(), entries=2), list[bytes]()
    for key in ("a", "b", "a", "c", "a", "b"):  # "b" is the least recently used when "c" comes
        await pages.page(key, _reader(key.encode(), calls))
    assert calls == [b"a", b"b", b"c", b"b"]


async def test_requests_for_a_page_being_read_share_that_read() -> None:
    pages, calls, gate = PageCache(_listening_feed(), entries=4), list[bytes](), asyncio.Event()
    waiting = [asyncio.create_task(pages.page("p", _reader(b"v1", calls, gate))) for _ in range(10)]
    await asyncio.sleep(0)
    gate.set()
    assert [await task for task in waiting] == [b"v1"] * 10
    assert (calls, pages.reads, pages.shared) == ([b"v1"], 1, 9)

    # A request arriving after a change does not wait for a read from before it.
    gate.clear()
    old = asyncio.create_task(pages.page("q", _reader(b"before", calls, gate)))
    await asyncio.sleep(0)
    pages.feed.generation += 1
    assert await pages.page("q", _reader(b"after", calls)) == b"after"
    gate.set()
    assert await old == b"before"
    assert await pages.page("q", _reader(b"unused", calls)) == b"after"


async def test_when_the_shared_read_fails_each_waiter_reads_for_itself() -> None:
    pages, gate = PageCache(_listening_feed(), entries=4), asyncio.Event()

    async def failing() -> bytes:
        await gate.wait()
        raise ConnectionError("database gone")

    leader = asyncio.create_task(pages.page("p", failing))
    await asyncio.sleep(0)
    follower = asyncio.create_task(pages.page("p", _reader(b"fresh", [])))
    await asyncio.sleep(0)
    gate.set()
    with pytest.raises(ConnectionError):
        await leader
    assert await follower == b"fresh"
    assert pages.reads == 2


def test_no_cache_on_sqlite_or_when_turned_off(settings, tmp_path) -> None:
    async def both() -> tuple[Any, Any]:
        sqlite = settings.model_copy(update={"database_url": f"sqlite:///{tmp_path / 'x.db'}"})
        off = settings.model_copy(update={"order_page_cache_entries": 0})
        return order_pages(sqlite), order_pages(off)

    assert asyncio.run(both()) == (None, None)

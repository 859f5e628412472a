"""Sync activities: orders by modified date into the projection, the watermark, price/quantity."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlmodel import select
from temporalio.testing import ActivityEnvironment

from workflows.contracts.ops import (
    AdvanceWatermark,
    FetchOrders,
    MarkOrdersStarted,
    ReadWatermark,
)

pytestmark = pytest.mark.timeout(60)

ORDERS_CONTROL = "/_sandbox/orders"


@pytest.fixture(scope="module")
def acts(settings, migrated_db, sandbox) -> Any:
    from activities.deps import Dependencies
    from activities.sync import SyncActivities

    return SyncActivities(Dependencies(settings))


def run(activity: Callable[..., Any], *args: Any) -> Any:
    return ActivityEnvironment().run(activity, *args)


def create_orders(sandbox, count: int) -> list[str]:
    r = httpx.post(f"{sandbox.base_url}{ORDERS_CONTROL}", json={"count": count})
    r.raise_for_status()
    return [o["orderId"] for o in r.json()["orders"]]


def test_watermark_only_moves_forward(acts) -> None:
    name = f"test-{uuid.uuid4().hex[:8]}"
    assert run(acts.read_watermark, ReadWatermark(name=name)).value is None
    later = datetime(2026, 5, 1, 12, tzinfo=UTC)
    run(acts.advance_watermark, AdvanceWatermark(name=name, value=later))
    kept = run(
        acts.advance_watermark,
        AdvanceWatermark(name=name, value=later - timedelta(hours=1)),
    )
    assert kept.value == later
    assert run(acts.read_watermark, ReadWatermark(name=name)).value == later


def test_fetch_orders_projects_and_lists_new_ones(acts, clean_sandbox, settings) -> None:
    from models import Order
    from models.db import session_scope

    ids = create_orders(clean_sandbox, 3)
    now = datetime.now(UTC)
    window = FetchOrders(start=now - timedelta(minutes=10), end=now + timedelta(seconds=5))
    first = run(acts.fetch_orders, window)
    assert first.fetched >= 3 and set(ids) <= set(first.to_start)
    with session_scope(settings) as session:
        rows = session.exec(select(Order).where(Order.ebay_order_id.in_(ids))).all()
        assert len(rows) == 3
        assert all(r.line_items and r.ship_to.get("country_code") for r in rows)
    # Twice is harmless: same rows; once marked started they are no longer "to start".
    again = run(acts.fetch_orders, window)
    assert set(ids) <= set(again.to_start)
    run(acts.mark_orders_started, MarkOrdersStarted(ebay_order_ids=ids))
    third = run(acts.fetch_orders, window)
    assert not set(ids) & set(third.to_start)
    with session_scope(settings) as session:
        rows = session.exec(select(Order).where(Order.ebay_order_id.in_(ids))).all()
        assert len(rows) == 3 and {r.workflow_id for r in rows} == {f"order-{i}" for i in ids}

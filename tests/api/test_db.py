"""api/db.py's read pools: one per event loop, closed when the app stops. Every stopped loop (a
test client, a restarted server in one process) used to leave its pool's connections open, which
exhausted PostgreSQL's max_connections late in a full test run."""

from __future__ import annotations

import asyncio

import psycopg
import pytest
import sqlalchemy as sa


def _connections(settings) -> int:
    """Connections to this test database other than the one counting."""
    url = settings.sqlalchemy_url.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(url, autocommit=True) as conn:
        row = conn.execute(
            "SELECT count(*) FROM pg_stat_activity"
            " WHERE datname = current_database() AND pid <> pg_backend_pid()"
        ).fetchone()
    assert row is not None
    return int(row[0])


async def test_dispose_closes_the_loops_read_pool(settings, migrated_db):
    if not settings.sqlalchemy_url.startswith("postgresql+psycopg://"):
        pytest.skip("the read pool exists on PostgreSQL only")
    from api.db import _ENGINES, dispose_read_engines, plain_rows, select_rows

    await dispose_read_engines()  # a pool this loop opened in an earlier test
    before = _connections(settings)
    await select_rows(settings, sa.select(sa.literal(1)))
    await plain_rows(settings, sa.select(sa.literal_column("1").label("one")), {})
    assert _connections(settings) > before
    await dispose_read_engines()
    assert _connections(settings) == before
    assert asyncio.get_running_loop() not in _ENGINES


async def test_an_app_that_stops_leaves_no_read_connection(settings, make_client, make_user):
    if not settings.sqlalchemy_url.startswith("postgresql+psycopg://"):
        pytest.skip("the read pool exists on PostgreSQL only")
    from tests.api.conftest import login

    staff = await make_user("staff")
    before = _connections(settings)
    for _ in range(3):
        async with make_client() as client:
            await login(client, staff)
            response = await client.get("/api/orders", headers=staff.headers)
            assert response.status_code == 200, response.text
        assert _connections(settings) <= before  # the app's shutdown closed its read pool

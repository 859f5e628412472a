"""`worlddoor copy-data`: a SQLite database copied into a fresh, migrated database."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest
from sqlmodel import Session, select

from config import Settings
from models import Order, Product, User
from models.copy_data import copy_data
from models.db import get_engine
from models.migrate import upgrade


def _sqlite(tmp_path: Path, name: str) -> Settings:
    return Settings(database_url=f"sqlite:///{tmp_path / name}", WORLDDOOR_VAR_DIR=tmp_path)


def test_rows_arrive_intact_and_a_non_empty_target_is_refused(tmp_path: Path) -> None:
    source, target = _sqlite(tmp_path, "source.db"), _sqlite(tmp_path, "target.db")
    upgrade(source)
    upgrade(target)
    with Session(get_engine(source)) as session:
        user = User(email="a@example.com", password_hash="x")
        product = Product(
            sku=f"SKU-{uuid.uuid4().hex[:6]}",
            title_ja="腕時計",
            price_jpy=12000,
            tags=["watch", "seiko"],
            image_keys=["product-images/a.jpg"],
        )
        order = Order(ebay_order_id="12-34567-89012", ship_to={"city": "Berlin"})
        session.add_all([user, product, order])
        session.commit()
    counts = copy_data(source, target)
    assert counts["users"] == 1 and counts["products"] == 1 and counts["orders"] == 1
    with Session(get_engine(target)) as session:
        copied = session.exec(select(Product)).one()
        assert copied.tags == ["watch", "seiko"] and copied.title_ja == "腕時計"
    with pytest.raises(ValueError, match="not empty"):
        copy_data(source, target)


@pytest.mark.integration  # a real PostgreSQL database
def test_sqlite_to_postgresql(tmp_path: Path, settings: Settings) -> None:
    """The SQLite -> PostgreSQL move, when the test run has PostgreSQL (CI always does)."""
    if not settings.database_url.startswith("postgres"):
        pytest.skip("PostgreSQL not available in this run")
    import psycopg

    name = f"worlddoor_copy_{uuid.uuid4().hex[:8]}"
    admin_url = settings.database_url.rsplit("/", 1)[0] + "/test"
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        source = _sqlite(tmp_path, "source.db")
        target = settings.model_copy(
            update={"database_url": settings.database_url.rsplit("/", 1)[0] + "/" + name}
        )
        upgrade(source)
        upgrade(target)
        with Session(get_engine(source)) as session:
            session.add(Product(sku="PG-1", title_ja="カメラ", price_jpy=30000, tags=["camera"]))
            session.commit()
        assert copy_data(source, target)["products"] == 1
        with Session(get_engine(target)) as session:
            assert session.exec(select(Product)).one().tags == ["camera"]
    finally:
        get_engine(target).dispose()
        with psycopg.connect(admin_url, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

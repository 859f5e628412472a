"""Alembic: `upgrade head` works on the test database (PostgreSQL in CI) and on SQLite, and the
migrations describe exactly the models (autogenerate finds no difference)."""

from __future__ import annotations

from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlmodel import SQLModel

import models  # noqa: F401
from config import Settings
from models.db import get_engine
from models.migrate import head_revision, is_up_to_date, upgrade


def _diff(settings: Settings) -> list:
    with get_engine(settings).connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        return compare_metadata(context, SQLModel.metadata)


def test_upgrade_head_on_the_test_database(settings: Settings, migrated_db: str) -> None:
    assert is_up_to_date(settings)
    assert _diff(settings) == []


def test_upgrade_head_on_sqlite_and_no_autogenerate_difference(tmp_path: Path) -> None:
    settings = Settings(
        database_url=f"sqlite:///{tmp_path / 'fresh.db'}", WORLDDOOR_VAR_DIR=tmp_path
    )
    upgrade(settings)
    upgrade(settings)  # a second run is a no-op
    assert is_up_to_date(settings)
    assert head_revision(settings) is not None
    assert _diff(settings) == []

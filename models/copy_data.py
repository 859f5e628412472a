"""Copy every table from one database to another (the move from SQLite to PostgreSQL).

The target must be migrated to the same revision and empty; rows are copied in foreign-key
order inside one transaction, so a failure leaves the target untouched.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlmodel import SQLModel

import models  # noqa: F401  (registers the tables)
from config import Settings
from models.db import get_engine
from models.migrate import current_revision

BATCH = 1000


def copy_data(source: Settings, target: Settings) -> dict[str, int]:
    """Returns the number of rows copied per table."""
    if current_revision(source) != current_revision(target):
        raise ValueError(
            f"source is at revision {current_revision(source)}, target at "
            f"{current_revision(target)}: run `worlddoor migrate` on both first"
        )
    tables = SQLModel.metadata.sorted_tables
    copied: dict[str, int] = {}
    with get_engine(source).connect() as src, get_engine(target).begin() as dst:
        for table in tables:
            if dst.execute(sa.select(sa.func.count()).select_from(table)).scalar_one():
                raise ValueError(f"target table {table.name} is not empty")
        for table in tables:
            copied[table.name] = 0
            result = src.execution_options(stream_results=True).execute(sa.select(table))
            while rows := result.mappings().fetchmany(BATCH):
                dst.execute(sa.insert(table), [dict(r) for r in rows])
                copied[table.name] += len(rows)
    return copied

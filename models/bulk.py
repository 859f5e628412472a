"""A bulk listing batch's products, staged in order before its workflow starts: the workflow reads
them a chunk at a time by position (a keyset), so neither its input nor the worker's memory
holds all of a 10,000-product batch. The rows stay as the batch's record."""

from __future__ import annotations

import uuid
from collections.abc import Iterable

import sqlalchemy as sa
from sqlmodel import Field, Session, SQLModel, func, select

STAGE_ROWS = 1000
"""Rows written per INSERT while staging."""


class BulkBatchItem(SQLModel, table=True):
    __tablename__ = "bulk_batch_items"

    batch_id: str = Field(primary_key=True, max_length=64)
    position: int = Field(primary_key=True)  # 0, 1, 2... in the order the batch gave them
    product_id: uuid.UUID


def stage_batch(session: Session, batch_id: str, product_ids: Iterable[uuid.UUID]) -> int:
    """Stage the batch's products once (each product once, in order); the number staged. A
    batch already staged keeps its rows (same batch_id = same batch)."""
    staged = session.exec(
        select(func.count()).select_from(BulkBatchItem).where(BulkBatchItem.batch_id == batch_id)
    ).one()
    if staged:
        return int(staged)
    rows = [
        {"batch_id": batch_id, "position": position, "product_id": product_id}
        for position, product_id in enumerate(dict.fromkeys(product_ids))
    ]
    for start in range(0, len(rows), STAGE_ROWS):
        session.execute(sa.insert(BulkBatchItem), rows[start : start + STAGE_ROWS])
    return len(rows)


def staged_products(session: Session, batch_id: str, start: int, count: int) -> list[str]:
    """The product ids at positions [start, start + count) of a staged batch, in order."""
    found = session.exec(
        select(BulkBatchItem.product_id)
        .where(
            BulkBatchItem.batch_id == batch_id,
            BulkBatchItem.position >= start,
            BulkBatchItem.position < start + count,
        )
        .order_by(BulkBatchItem.position)  # type: ignore[arg-type]
    ).all()
    return [str(product_id) for product_id in found]

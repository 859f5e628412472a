"""Stock movements: every change to a product's quantity made because of an order line, keyed
by (order line, reason) so it happens once, and kept as the audit trail (`domain/stock.py`)."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import UniqueConstraint
from sqlmodel import Field, SQLModel

from models.types import timestamp, uuid_pk


class StockMovement(SQLModel, table=True):
    __tablename__ = "stock_movements"
    __table_args__ = (UniqueConstraint("line_item_id", "reason", name="uq_stock_movement_line"),)

    id: uuid.UUID = uuid_pk()
    sku: str = Field(max_length=50, index=True)
    product_id: uuid.UUID | None = Field(default=None, foreign_key="products.id", index=True)
    order_id: uuid.UUID | None = Field(default=None, foreign_key="orders.id", index=True)
    line_item_id: str = Field(max_length=40)
    reason: str = Field(max_length=30)  # domain.stock.MovementReason
    quantity: int  # signed change applied to Product.quantity (0: a decision recorded)
    note: str = Field(default="", max_length=500)
    created_at: datetime = timestamp()

"""Stock movements applied to the catalog (`domain/stock.py` holds the rules).

`take_sold_lines` runs inside both order imports (the fulfillment workflow's record step and the
scheduled order sync), in the importing transaction; `apply_movement` is the single place a
product's quantity changes because of an order. Each movement is keyed by (order line, reason):
the key is checked first and enforced by a unique constraint, so an import or a compensation that
runs twice changes the quantity once.
"""

from __future__ import annotations

import uuid
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, select

from domain.stock import MovementReason
from models import Order, Product
from models.stock import StockMovement
from models.types import utcnow


def movement_done(session: Session, line_item_id: str, reason: MovementReason) -> bool:
    return (
        session.exec(
            select(StockMovement.id).where(
                StockMovement.line_item_id == line_item_id, StockMovement.reason == reason
            )
        ).first()
        is not None
    )


def apply_movement(
    session: Session,
    order: Order,
    line: dict[str, Any],
    reason: MovementReason,
    change: int,
    note: str = "",
) -> Product | None:
    """Record the movement for this line once and change the product's quantity by `change`
    (never below zero). Returns the product when the movement was applied now, else None."""
    line_item_id = str(line.get("line_item_id", ""))
    sku = str(line.get("sku", ""))
    if not line_item_id or movement_done(session, line_item_id, reason):
        return None
    product = session.exec(select(Product).where(Product.sku == sku)).first() if sku else None
    if product is not None and change:
        # one UPDATE ... SET quantity = quantity + change: concurrent sales of the same product
        # (different orders, different transactions) never overwrite each other
        new = Product.quantity + change
        product.quantity = sa.case((new < 0, 0), else_=new)  # type: ignore[assignment,arg-type]
        product.updated_at = utcnow()
        session.add(product)
        session.flush()
        session.refresh(product, ["quantity"])
    session.add(
        StockMovement(
            sku=sku,
            product_id=product.id if product else None,
            order_id=order.id,
            line_item_id=line_item_id,
            reason=reason,
            quantity=change if product is not None else 0,
            note=note[:500],
        )
    )
    session.flush()
    return product


def take_sold_lines(session: Session, order: Order) -> None:
    """An imported order takes each line's quantity off our stock, once per line."""
    if order.id is None:
        order.id = uuid.uuid4()
    session.add(order)
    session.flush()
    for line in order.line_items:
        apply_movement(
            session, order, line, MovementReason.sale, -int(line.get("quantity", 1) or 1)
        )

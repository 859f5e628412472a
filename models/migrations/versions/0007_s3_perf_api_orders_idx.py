"""orders listed newest first from an index: (created_at, ebay_order_id)

The order list (`GET /api/orders`) sorts by created_at descending, then ebay_order_id; without
this index every page sorted the whole table.

Revision ID: 0007_s3_perf_api_orders_idx
Revises: 0006_invitations
Create Date: 2026-12-02 07:30:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0007_s3_perf_api_orders_idx"
down_revision: str | None = "0006_invitations"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_orders_created_at_ebay_order_id", "orders", ["created_at", "ebay_order_id"])


def downgrade() -> None:
    op.drop_index("ix_orders_created_at_ebay_order_id", table_name="orders")

"""bulk_batch_items: a bulk listing batch's products, staged in order for the workflow to read
a chunk at a time (its input no longer carries every id through each continue-as-new)

Revision ID: 0008_bulk_batch_items
Revises: 0007_s3_perf_api_orders_idx
Create Date: 2026-12-02 13:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

revision: str = "0008_bulk_batch_items"
down_revision: str | None = "0007_s3_perf_api_orders_idx"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "bulk_batch_items",
        sa.Column("batch_id", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("product_id", sa.Uuid(), nullable=False),
        sa.PrimaryKeyConstraint("batch_id", "position"),
    )


def downgrade() -> None:
    op.drop_table("bulk_batch_items")

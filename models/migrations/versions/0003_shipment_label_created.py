"""shipment status label_ready -> label_created (the carrier has not scanned the parcel yet)

Revision ID: 0003_label_created
Revises: 0002_inspection_media_versions
Create Date: 2026-12-02 05:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003_label_created"
down_revision: str | None = "0002_inspection_media_versions"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _rename(old: str, new: str) -> None:
    if op.get_bind().dialect.name == "postgresql":
        # renaming the enum label rewrites every row that holds it
        op.execute(f"ALTER TYPE shipmentstatus RENAME VALUE '{old}' TO '{new}'")
    else:  # SQLite stores the enum as text without a CHECK constraint
        op.execute(
            sa.text("UPDATE shipments SET status = :new WHERE status = :old").bindparams(
                new=new, old=old
            )
        )


def upgrade() -> None:
    _rename("label_ready", "label_created")


def downgrade() -> None:
    _rename("label_created", "label_ready")

"""orders and shipments notify `order_list_changed` on every write (PostgreSQL)

The API keeps pages of the order list in memory until a change is notified
(api/change_feed.py): a statement trigger on each table the list reads (orders; shipments for
the carrier filter) calls pg_notify, which PostgreSQL delivers when the transaction commits and
only then. SQLite has no LISTEN: nothing to do there.

Revision ID: 0009_order_list_notify
Revises: 0008_bulk_batch_items
Create Date: 2026-12-02 16:40:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0009_order_list_notify"
down_revision: str | None = "0008_bulk_batch_items"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

CHANNEL = "order_list_changed"  # api.change_feed.CHANNEL
TABLES = ("orders", "shipments")


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(
        f"""
        CREATE OR REPLACE FUNCTION notify_order_list_changed() RETURNS trigger
        LANGUAGE plpgsql AS $$
        BEGIN
            PERFORM pg_notify('{CHANNEL}', '');
            RETURN NULL;
        END
        $$
        """
    )
    for table in TABLES:
        op.execute(
            f"CREATE TRIGGER {table}_notify_order_list "
            f"AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON {table} "
            "FOR EACH STATEMENT EXECUTE FUNCTION notify_order_list_changed()"
        )


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for table in TABLES:
        op.execute(f"DROP TRIGGER IF EXISTS {table}_notify_order_list ON {table}")
    op.execute("DROP FUNCTION IF EXISTS notify_order_list_changed()")

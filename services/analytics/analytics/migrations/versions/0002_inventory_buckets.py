"""Daily sell-through buckets per distributor x SKU x day and each distributor's as_of, kept by
the facts projection, so a position's 91-day window is a sum of at most 91 bucket rows instead of
a scan of every line of the distributor's window on every batch. Filled from the lines already
there; bi views unchanged.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23
"""

from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        """create table sell_through_daily (
            distributor_id text not null,
            sku text not null,
            sold_on date not null,
            units bigint not null,
            primary key (distributor_id, sku, sold_on)
        )"""
    )
    op.execute(
        """create table distributor_as_of (
            distributor_id text primary key,
            as_of date not null
        )"""
    )
    op.execute(
        "insert into sell_through_daily (distributor_id, sku, sold_on, units)"
        " select distributor_id, sku, sold_on, sum(quantity) from sell_through_lines"
        " group by 1, 2, 3"
    )
    op.execute(
        "insert into distributor_as_of (distributor_id, as_of)"
        " select distributor_id, max(sold_on) from sell_through_lines group by 1"
    )


def downgrade() -> None:
    op.execute("drop table distributor_as_of")
    op.execute("drop table sell_through_daily")

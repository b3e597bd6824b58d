"""Sell-through lines and rebate accruals keep one unique key each, their natural key: the
unique `event_id` beside it guarded nothing more (a line's report and line number, an accrual's
id — which is its event id — already identify the event) and cost an index entry per row on the
projection's hottest COPYs. event_id stays, as a column.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23
"""

from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

TABLES = ("sell_through_lines", "rebate_accruals")


def upgrade() -> None:
    for table in TABLES:
        op.execute(f"alter table {table} drop constraint {table}_event_id_key")


def downgrade() -> None:
    for table in TABLES:
        op.execute(f"alter table {table} add constraint {table}_event_id_key unique (event_id)")

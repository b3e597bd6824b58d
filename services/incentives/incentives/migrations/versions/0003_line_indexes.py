"""Drop the lines' (distributor_id, period) and (reseller_id, period) indexes: no statement reads
lines by them (lines are found by event id, or by their natural key for deduplication; unpaid-line
reports join from the small skipped and pending tables), and keeping them cost two of the four
index insertions per line on the accrual hot path.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23
"""

from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("drop index if exists sell_through_lines_distributor")
    op.execute("drop index if exists sell_through_lines_reseller")


def downgrade() -> None:
    op.execute(
        "create index sell_through_lines_distributor on sell_through_lines (distributor_id, period)"
    )
    op.execute("create index sell_through_lines_reseller on sell_through_lines (reseller_id, period)")

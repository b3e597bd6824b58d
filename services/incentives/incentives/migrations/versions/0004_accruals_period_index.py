"""Drop the accruals' (period) index: a ledger read sorts every matching accrual by the ledger
order anyway, statements use the (partner_id, period) index, and the period index was one of
three index insertions per accrual on the hot path.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-23
"""

from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("drop index if exists accruals_period")


def downgrade() -> None:
    op.execute("create index accruals_period on accruals (period)")

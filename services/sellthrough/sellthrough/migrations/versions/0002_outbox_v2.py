"""Outbox v2: headers packed in one text (no JSON on the relay's hot path) and published rows
deleted instead of marked (no published_at, no pending index, no unique event_id). Rows already
published are dropped; pending ones keep their headers.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23
"""

from alembic import op
from channelstream_common.outbox import OUTBOX_FROM_V2, OUTBOX_TO_V2

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    for statement in OUTBOX_TO_V2:
        op.execute(statement)


def downgrade() -> None:
    for statement in OUTBOX_FROM_V2:
        op.execute(statement)

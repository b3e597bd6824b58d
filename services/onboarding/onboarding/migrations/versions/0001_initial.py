"""Partners, exclusive-territory claims, outbox, partner directory and projection positions.

Revision ID: 0001
Revises:
"""

from collections.abc import Sequence

from alembic import op
from channelstream_common.outbox import OUTBOX_DDL_V1
from channelstream_common.projection import POSITIONS_DDL

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

PARTNER_COLUMNS = """
    partner_id text primary key,
    legal_name text not null,
    partner_type text not null,
    tier text not null,
    parent_distributor_id text{parent_ref},
    territories text[] not null,
    exclusive_territories text[] not null,
    enrolled_on date not null,
    contact_email text not null,
    event_id text not null
"""


def upgrade() -> None:
    op.execute(
        "create table partners ("
        + PARTNER_COLUMNS.format(parent_ref=" references partners (partner_id)")
        + ", correlation_id text not null, unique (event_id))"
    )
    op.execute(
        """create table exclusive_territory_claims (
            territory text primary key check (territory ~ '^[A-Z]{2}$'),
            partner_id text not null references partners (partner_id)
        )"""
    )
    for ddl in OUTBOX_DDL_V1:
        op.execute(ddl)
    op.execute(
        "create table partner_directory ("
        + PARTNER_COLUMNS.format(parent_ref="")
        + ", recorded_at timestamptz not null)"
    )
    op.execute("create index partner_directory_type on partner_directory (partner_type)")
    op.execute(
        "create index partner_directory_parent on partner_directory (parent_distributor_id)"
    )
    op.execute(POSITIONS_DDL)


def downgrade() -> None:
    for table in (
        "projection_positions",
        "partner_directory",
        "outbox",
        "exclusive_territory_claims",
        "partners",
    ):
        op.execute(f"drop table if exists {table}")

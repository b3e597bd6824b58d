"""Partners projection, deal decisions, projection positions and the transactional outbox.

Revision ID: 0001
Revises:
Create Date: 2026-11-22
"""

from alembic import op
from channelstream_common.outbox import OUTBOX_DDL_V1
from channelstream_common.projection import POSITIONS_DDL

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

TABLES = [
    """create table partners (
        partner_id text primary key,
        legal_name text not null,
        partner_type text not null,
        tier text not null,
        parent_distributor_id text,
        enrolled_on date not null,
        event_id text not null
    )""",
    """create table deals (
        deal_id text primary key,
        partner_id text not null,
        status text not null check (status in ('APPROVED', 'REJECTED')),
        reason text,
        detail text not null default '',
        conflicting_deal_id text,
        customer_name text not null,
        customer_country text not null,
        customer_domain text,
        customer_key text not null,
        name_key text not null,
        domain_key text,
        products jsonb not null,
        skus text[] not null,
        estimated_value numeric(18, 2) not null check (estimated_value > 0),
        currency text not null,
        expected_close_on date not null,
        evidence_contact_email text,
        evidence_meeting_on date,
        evidence_proposal_ref text,
        registered_on date not null,
        protection_expires_on date,
        event_id text not null unique,
        decided_at timestamptz not null default now(),
        check ((status = 'APPROVED') = (protection_expires_on is not null))
    )""",
    "create index deals_approved_customer on deals (customer_key) where status = 'APPROVED'",
    "create index deals_approved_domain on deals (domain_key)"
    " where status = 'APPROVED' and domain_key is not null",
    "create index deals_partner on deals (partner_id, registered_on)",
    "create index deals_name on deals (name_key)",
]


def upgrade() -> None:
    for ddl in [POSITIONS_DDL, *OUTBOX_DDL_V1, *TABLES]:
        op.execute(ddl)


def downgrade() -> None:
    for table in ("deals", "partners", "outbox", "projection_positions"):
        op.execute(f"drop table if exists {table}")

"""Incentives: facts, rebate ledger, totals, pending and skipped rules, positions, outbox.

Revision ID: 0001
Revises:
Create Date: 2026-01-01
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
        partner_type text not null,
        tier text not null,
        event_id text not null,
        correlation_id text not null,
        recorded_at timestamptz not null,
        trace_id text
    )""",
    """create table deals (
        deal_id text primary key,
        partner_id text not null,
        registered_on date not null,
        protection_expires_on date not null,
        event_id text not null,
        correlation_id text not null,
        recorded_at timestamptz not null,
        trace_id text
    )""",
    """create table sell_through_lines (
        event_id text primary key,
        distributor_id text not null,
        reseller_id text not null,
        report_id text not null,
        line_no bigint not null,
        product_line text,
        quantity integer not null,
        unit_price numeric(18, 4) not null,
        currency text not null,
        sold_on date not null,
        period text not null,
        deal_id text,
        log_partition integer not null,
        log_offset bigint not null,
        correlation_id text not null,
        recorded_at timestamptz not null,
        trace_id text,
        topic text not null,
        unique (distributor_id, report_id, line_no)
    )""",
    "create index sell_through_lines_distributor on sell_through_lines (distributor_id, period)",
    "create index sell_through_lines_reseller on sell_through_lines (reseller_id, period)",
    """create table volume_positions (
        program_id text not null,
        program_version integer not null,
        distributor_id text not null,
        period text not null,
        revenue numeric(20, 4) not null,
        primary key (program_id, program_version, distributor_id, period)
    )""",
    """create table accruals (
        accrual_id text primary key,
        partner_id text not null,
        program_id text not null,
        program_version integer not null,
        currency text not null,
        period text not null,
        reason text not null,
        basis_amount numeric(18, 4) not null,
        rate numeric(18, 6) not null,
        amount numeric(18, 2) not null,
        line_event_id text not null,
        line_partition integer not null,
        line_offset bigint not null,
        deal_id text,
        sold_on date not null,
        running_before numeric(20, 4),
        running_after numeric(20, 4),
        source_event_id text not null,
        source_topic text not null,
        correlation_id text not null,
        recorded_at timestamptz not null
    )""",
    "create index accruals_partner_period on accruals (partner_id, period)",
    "create index accruals_period on accruals (period)",
    """create table accrual_totals (
        partner_id text not null,
        program_id text not null,
        program_version integer not null,
        period text not null,
        reason text not null,
        currency text not null,
        amount numeric(20, 2) not null,
        accruals integer not null,
        primary key (partner_id, program_id, program_version, period, reason)
    )""",
    """create table pending_rules (
        line_event_id text not null,
        program_id text not null,
        program_version integer not null,
        rule text not null,
        awaiting text not null,
        awaiting_key text not null,
        primary key (line_event_id, program_id, program_version, rule)
    )""",
    "create index pending_rules_awaiting on pending_rules (awaiting, awaiting_key)",
    """create table skipped_rules (
        line_event_id text not null,
        program_id text not null,
        program_version integer not null,
        rule text not null,
        code text not null,
        detail text not null,
        primary key (line_event_id, program_id, program_version, rule)
    )""",
]


def upgrade() -> None:
    op.execute(POSITIONS_DDL)
    for ddl in OUTBOX_DDL_V1:
        op.execute(ddl)
    for ddl in TABLES:
        op.execute(ddl)


def downgrade() -> None:
    for table in (
        "skipped_rules", "pending_rules", "accrual_totals", "accruals", "volume_positions",
        "sell_through_lines", "deals", "partners", "outbox", "projection_positions",
    ):  # fmt: skip
        op.execute(f"drop table if exists {table}")

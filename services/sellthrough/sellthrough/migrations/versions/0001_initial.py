"""Partners, line decisions (dedup), holds, uploads, the inventory projection, outbox, positions.

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

STATUS = "status text not null check (status in ('accepted', 'rejected', 'held'))"

TABLES = [
    """create table partners (
        partner_id text primary key,
        partner_type text not null,
        enrolled_on date not null,
        event_id text not null
    )""",
    f"""create table report_lines (
        report_id text not null,
        line_no bigint not null,
        {STATUS},
        reason text,
        line_hash text,
        upload_id text not null,
        primary key (report_id, line_no)
    )""",
    f"""create table shipment_lines (
        shipment_id text primary key,
        {STATUS},
        reason text,
        line_hash text,
        upload_id text not null
    )""",
    """create table holds (
        origin text primary key,
        kind text not null check (kind in ('sale', 'shipment')),
        distributor_id text not null,
        reseller_id text,
        fields jsonb not null,
        raw_line text not null,
        upload_id text not null,
        ingestion_path text not null,
        submitted_by text not null,
        causation_id text,
        received_on date not null,
        held_at timestamptz not null
    )""",
    "create index holds_distributor on holds (distributor_id)",
    "create index holds_reseller on holds (reseller_id)",
    "create index holds_held_at on holds (held_at)",
    """create table uploads (
        upload_id text primary key,
        kind text not null,
        ingestion_path text not null,
        submitted_by text not null,
        state text not null,
        lines bigint not null default 0,
        accepted bigint not null default 0,
        duplicates bigint not null default 0,
        held bigint not null default 0,
        created_at timestamptz not null default now()
    )""",
    """create table upload_rejections (
        upload_id text not null,
        reason text not null,
        n bigint not null,
        primary key (upload_id, reason)
    )""",
    """create table inventory_sales (
        report_id text not null,
        line_no bigint not null,
        distributor_id text not null,
        sku text not null,
        quantity integer not null,
        sold_on date not null,
        primary key (report_id, line_no)
    )""",
    "create index inventory_sales_window on inventory_sales (distributor_id, sku, sold_on)",
    """create table inventory_shipments (
        shipment_id text primary key,
        distributor_id text not null,
        sku text not null,
        quantity integer not null,
        shipped_on date not null
    )""",
    """create table inventory_positions (
        distributor_id text not null,
        sku text not null,
        sell_in_units bigint not null,
        sell_through_units bigint not null,
        primary key (distributor_id, sku)
    )""",
    """create table distributor_as_of (
        distributor_id text primary key,
        as_of date not null
    )""",
]


def upgrade() -> None:
    for ddl in [*TABLES, *OUTBOX_DDL_V1, POSITIONS_DDL]:
        op.execute(ddl)


def downgrade() -> None:
    for table in (
        "projection_positions",
        "outbox",
        "distributor_as_of",
        "inventory_positions",
        "inventory_shipments",
        "inventory_sales",
        "upload_rejections",
        "uploads",
        "holds",
        "shipment_lines",
        "report_lines",
        "partners",
    ):
        op.execute(f"drop table if exists {table}")

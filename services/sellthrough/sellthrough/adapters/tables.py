"""The sellthrough database as SQLAlchemy Core tables (created by migrations/versions)."""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, Date, DateTime, Integer, MetaData, Table, Text
from sqlalchemy.dialects.postgresql import JSONB

metadata = MetaData()

partners = Table(
    "partners",
    metadata,
    Column("partner_id", Text, primary_key=True),
    Column("partner_type", Text, nullable=False),
    Column("enrolled_on", Date, nullable=False),
    Column("event_id", Text, nullable=False),
)

report_lines = Table(
    "report_lines",
    metadata,
    Column("report_id", Text, primary_key=True),
    Column("line_no", BigInteger, primary_key=True),
    Column("status", Text, nullable=False),
    Column("reason", Text),
    Column("line_hash", Text),
    Column("upload_id", Text, nullable=False),
)

shipment_lines = Table(
    "shipment_lines",
    metadata,
    Column("shipment_id", Text, primary_key=True),
    Column("status", Text, nullable=False),
    Column("reason", Text),
    Column("line_hash", Text),
    Column("upload_id", Text, nullable=False),
)

holds = Table(
    "holds",
    metadata,
    Column("origin", Text, primary_key=True),
    Column("kind", Text, nullable=False),
    Column("distributor_id", Text, nullable=False),
    Column("reseller_id", Text),
    Column("fields", JSONB, nullable=False),
    Column("raw_line", Text, nullable=False),
    Column("upload_id", Text, nullable=False),
    Column("ingestion_path", Text, nullable=False),
    Column("submitted_by", Text, nullable=False),
    Column("causation_id", Text),
    Column("received_on", Date, nullable=False),
    Column("held_at", DateTime(timezone=True), nullable=False),
)

uploads = Table(
    "uploads",
    metadata,
    Column("upload_id", Text, primary_key=True),
    Column("kind", Text, nullable=False),
    Column("ingestion_path", Text, nullable=False),
    Column("submitted_by", Text, nullable=False),
    Column("state", Text, nullable=False),
    Column("lines", BigInteger, nullable=False),
    Column("accepted", BigInteger, nullable=False),
    Column("duplicates", BigInteger, nullable=False),
    Column("held", BigInteger, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
)

upload_rejections = Table(
    "upload_rejections",
    metadata,
    Column("upload_id", Text, primary_key=True),
    Column("reason", Text, primary_key=True),
    Column("n", BigInteger, nullable=False),
)

inventory_sales = Table(
    "inventory_sales",
    metadata,
    Column("report_id", Text, primary_key=True),
    Column("line_no", BigInteger, primary_key=True),
    Column("distributor_id", Text, nullable=False),
    Column("sku", Text, nullable=False),
    Column("quantity", Integer, nullable=False),
    Column("sold_on", Date, nullable=False),
)

inventory_shipments = Table(
    "inventory_shipments",
    metadata,
    Column("shipment_id", Text, primary_key=True),
    Column("distributor_id", Text, nullable=False),
    Column("sku", Text, nullable=False),
    Column("quantity", Integer, nullable=False),
    Column("shipped_on", Date, nullable=False),
)

inventory_positions = Table(
    "inventory_positions",
    metadata,
    Column("distributor_id", Text, primary_key=True),
    Column("sku", Text, primary_key=True),
    Column("sell_in_units", BigInteger, nullable=False),
    Column("sell_through_units", BigInteger, nullable=False),
)

distributor_as_of = Table(
    "distributor_as_of",
    metadata,
    Column("distributor_id", Text, primary_key=True),
    Column("as_of", Date, nullable=False),
)

INVENTORY_TABLES = (
    "inventory_sales",
    "inventory_shipments",
    "inventory_positions",
    "distributor_as_of",
)

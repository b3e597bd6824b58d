"""SQLAlchemy Core tables (the DDL lives in migrations/versions)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import (
    BigInteger,
    Column,
    Date,
    DateTime,
    Integer,
    MetaData,
    Numeric,
    Table,
    Text,
)

metadata = MetaData()


def _provenance() -> list[Column[Any]]:
    return [
        Column("event_id", Text, nullable=False),
        Column("correlation_id", Text, nullable=False),
        Column("recorded_at", DateTime(timezone=True), nullable=False),
        Column("trace_id", Text),
    ]


partners = Table(
    "partners",
    metadata,
    Column("partner_id", Text, primary_key=True),
    Column("partner_type", Text, nullable=False),
    Column("tier", Text, nullable=False),
    *_provenance(),
)

deals = Table(
    "deals",
    metadata,
    Column("deal_id", Text, primary_key=True),
    Column("partner_id", Text, nullable=False),
    Column("registered_on", Date, nullable=False),
    Column("protection_expires_on", Date, nullable=False),
    *_provenance(),
)

lines = Table(
    "sell_through_lines",
    metadata,
    Column("event_id", Text, primary_key=True),
    Column("distributor_id", Text, nullable=False),
    Column("reseller_id", Text, nullable=False),
    Column("report_id", Text, nullable=False),
    Column("line_no", BigInteger, nullable=False),
    Column("product_line", Text),
    Column("quantity", Integer, nullable=False),
    Column("unit_price", Numeric(18, 4), nullable=False),
    Column("currency", Text, nullable=False),
    Column("sold_on", Date, nullable=False),
    Column("period", Text, nullable=False),
    Column("deal_id", Text),
    Column("log_partition", Integer, nullable=False),
    Column("log_offset", BigInteger, nullable=False),
    Column("correlation_id", Text, nullable=False),
    Column("recorded_at", DateTime(timezone=True), nullable=False),
    Column("trace_id", Text),
    Column("topic", Text, nullable=False),
)

volume_positions = Table(
    "volume_positions",
    metadata,
    Column("program_id", Text, primary_key=True),
    Column("program_version", Integer, primary_key=True),
    Column("distributor_id", Text, primary_key=True),
    Column("period", Text, primary_key=True),
    Column("revenue", Numeric(20, 4), nullable=False),
)

accruals = Table(
    "accruals",
    metadata,
    Column("accrual_id", Text, primary_key=True),
    Column("partner_id", Text, nullable=False),
    Column("program_id", Text, nullable=False),
    Column("program_version", Integer, nullable=False),
    Column("currency", Text, nullable=False),
    Column("period", Text, nullable=False),
    Column("reason", Text, nullable=False),
    Column("basis_amount", Numeric(18, 4), nullable=False),
    Column("rate", Numeric(18, 6), nullable=False),
    Column("amount", Numeric(18, 2), nullable=False),
    Column("line_event_id", Text, nullable=False),
    Column("line_partition", Integer, nullable=False),
    Column("line_offset", BigInteger, nullable=False),
    Column("deal_id", Text),
    Column("sold_on", Date, nullable=False),
    Column("running_before", Numeric(20, 4)),
    Column("running_after", Numeric(20, 4)),
    Column("source_event_id", Text, nullable=False),
    Column("source_topic", Text, nullable=False),
    Column("correlation_id", Text, nullable=False),
    Column("recorded_at", DateTime(timezone=True), nullable=False),
)

accrual_totals = Table(
    "accrual_totals",
    metadata,
    Column("partner_id", Text, primary_key=True),
    Column("program_id", Text, primary_key=True),
    Column("program_version", Integer, primary_key=True),
    Column("period", Text, primary_key=True),
    Column("reason", Text, primary_key=True),
    Column("currency", Text, nullable=False),
    Column("amount", Numeric(20, 2), nullable=False),
    Column("accruals", Integer, nullable=False),
)

pending_rules = Table(
    "pending_rules",
    metadata,
    Column("line_event_id", Text, primary_key=True),
    Column("program_id", Text, primary_key=True),
    Column("program_version", Integer, primary_key=True),
    Column("rule", Text, primary_key=True),
    Column("awaiting", Text, nullable=False),
    Column("awaiting_key", Text, nullable=False),
)

skipped_rules = Table(
    "skipped_rules",
    metadata,
    Column("line_event_id", Text, primary_key=True),
    Column("program_id", Text, primary_key=True),
    Column("program_version", Integer, primary_key=True),
    Column("rule", Text, primary_key=True),
    Column("code", Text, nullable=False),
    Column("detail", Text, nullable=False),
)

"""SQLAlchemy Core tables of dealreg's own database (DDL lives in the Alembic migrations)."""

from __future__ import annotations

from sqlalchemy import Column, Date, DateTime, MetaData, Numeric, Table, Text
from sqlalchemy.dialects.postgresql import ARRAY, JSONB

metadata = MetaData()

partners = Table(
    "partners",
    metadata,
    Column("partner_id", Text, primary_key=True),
    Column("legal_name", Text, nullable=False),
    Column("partner_type", Text, nullable=False),
    Column("tier", Text, nullable=False),
    Column("parent_distributor_id", Text),
    Column("enrolled_on", Date, nullable=False),
    Column("event_id", Text, nullable=False),
)

deals = Table(
    "deals",
    metadata,
    Column("deal_id", Text, primary_key=True),
    Column("partner_id", Text, nullable=False),
    Column("status", Text, nullable=False),
    Column("reason", Text),
    Column("detail", Text, nullable=False),
    Column("conflicting_deal_id", Text),
    Column("customer_name", Text, nullable=False),
    Column("customer_country", Text, nullable=False),
    Column("customer_domain", Text),
    Column("customer_key", Text, nullable=False),
    Column("name_key", Text, nullable=False),
    Column("domain_key", Text),
    Column("products", JSONB, nullable=False),
    Column("skus", ARRAY(Text), nullable=False),
    Column("estimated_value", Numeric(18, 2), nullable=False),
    Column("currency", Text, nullable=False),
    Column("expected_close_on", Date, nullable=False),
    Column("evidence_contact_email", Text),
    Column("evidence_meeting_on", Date),
    Column("evidence_proposal_ref", Text),
    Column("registered_on", Date, nullable=False),
    Column("protection_expires_on", Date),
    Column("event_id", Text, nullable=False, unique=True),
    Column("decided_at", DateTime(timezone=True), nullable=False),
)

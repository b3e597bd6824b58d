"""Onboarding's own tables: the write side (partners, exclusive claims) and the read side."""

from __future__ import annotations

from sqlalchemy import (
    ARRAY,
    Column,
    Date,
    DateTime,
    ForeignKey,
    MetaData,
    Table,
    Text,
)

metadata = MetaData()

partners = Table(
    "partners",
    metadata,
    Column("partner_id", Text, primary_key=True),
    Column("legal_name", Text, nullable=False),
    Column("partner_type", Text, nullable=False),
    Column("tier", Text, nullable=False),
    Column("parent_distributor_id", Text, ForeignKey("partners.partner_id")),
    Column("territories", ARRAY(Text), nullable=False),
    Column("exclusive_territories", ARRAY(Text), nullable=False),
    Column("enrolled_on", Date, nullable=False),
    Column("contact_email", Text, nullable=False),
    Column("event_id", Text, nullable=False, unique=True),
    Column("correlation_id", Text, nullable=False),
)

# UNIQUE (territory): two concurrent enrolments can never both hold one exclusive territory.
exclusive_claims = Table(
    "exclusive_territory_claims",
    metadata,
    Column("territory", Text, primary_key=True),
    Column("partner_id", Text, ForeignKey("partners.partner_id"), nullable=False),
)

# The read side, built only from PartnerEnrolled events.
partner_directory = Table(
    "partner_directory",
    metadata,
    Column("partner_id", Text, primary_key=True),
    Column("legal_name", Text, nullable=False),
    Column("partner_type", Text, nullable=False),
    Column("tier", Text, nullable=False),
    Column("parent_distributor_id", Text),
    Column("territories", ARRAY(Text), nullable=False),
    Column("exclusive_territories", ARRAY(Text), nullable=False),
    Column("enrolled_on", Date, nullable=False),
    Column("contact_email", Text, nullable=False),
    Column("event_id", Text, nullable=False),
    Column("recorded_at", DateTime(timezone=True), nullable=False),
)

"""SQLAlchemy Core tables of analytics' own database (DDL lives in the Alembic migrations)."""

from __future__ import annotations

from sqlalchemy import BigInteger, Boolean, Column, Date, Integer, MetaData, Numeric, Table, Text
from sqlalchemy.dialects.postgresql import ARRAY

metadata = MetaData()

partners = Table(
    "partners",
    metadata,
    Column("partner_id", Text, primary_key=True),
    Column("legal_name", Text, nullable=False),
    Column("partner_type", Text, nullable=False),
    Column("tier", Text, nullable=False),
    Column("parent_distributor_id", Text),
    Column("territories", ARRAY(Text), nullable=False),
    Column("enrolled_on", Date, nullable=False),
    Column("event_id", Text, nullable=False, unique=True),
)

sell_through_lines = Table(
    "sell_through_lines",
    metadata,
    Column("report_id", Text, primary_key=True),
    Column("line_no", BigInteger, primary_key=True),
    Column("distributor_id", Text, nullable=False),
    Column("reseller_id", Text, nullable=False),
    Column("sku", Text, nullable=False),
    Column("product_line", Text),
    Column("quantity", Integer, nullable=False),
    Column("unit_price", Numeric(18, 4), nullable=False),
    Column("currency", Text, nullable=False),
    Column("sold_on", Date, nullable=False),
    Column("end_customer_name", Text),
    Column("end_customer_country", Text),
    Column("deal_id", Text),
    Column("upload_id", Text),
    Column("ingestion_path", Text, nullable=False),
    Column("event_id", Text, nullable=False),
)

sell_in_shipments = Table(
    "sell_in_shipments",
    metadata,
    Column("shipment_id", Text, primary_key=True),
    Column("distributor_id", Text, nullable=False),
    Column("sku", Text, nullable=False),
    Column("quantity", Integer, nullable=False),
    Column("unit_cost", Numeric(18, 4), nullable=False),
    Column("currency", Text, nullable=False),
    Column("shipped_on", Date, nullable=False),
    Column("upload_id", Text),
    Column("ingestion_path", Text, nullable=False),
    Column("event_id", Text, nullable=False, unique=True),
)

deals = Table(
    "deals",
    metadata,
    Column("deal_id", Text, primary_key=True),
    Column("partner_id", Text, nullable=False),
    Column("customer_key", Text, nullable=False),
    Column("customer_name", Text, nullable=False),
    Column("customer_country", Text, nullable=False),
    Column("estimated_value", Numeric(18, 2), nullable=False),
    Column("currency", Text, nullable=False),
    Column("expected_close_on", Date, nullable=False),
    Column("registered_on", Date, nullable=False),
    Column("protection_expires_on", Date, nullable=False),
    Column("event_id", Text, nullable=False, unique=True),
)

deal_rejections = Table(
    "deal_rejections",
    metadata,
    Column("event_id", Text, primary_key=True),
    Column("deal_id", Text, nullable=False),
    Column("partner_id", Text, nullable=False),
    Column("reason", Text, nullable=False),
    Column("detail", Text, nullable=False),
    Column("conflicting_deal_id", Text),
    Column("registered_on", Date),
    Column("occurred_on", Date, nullable=False),
)

sell_through_rejections = Table(
    "sell_through_rejections",
    metadata,
    Column("event_id", Text, primary_key=True),
    Column("report_id", Text),
    Column("line_no", BigInteger),
    Column("distributor_id", Text),
    Column("reason", Text, nullable=False),
    Column("detail", Text, nullable=False),
    Column("raw_line", Text, nullable=False),
    Column("upload_id", Text),
    Column("ingestion_path", Text, nullable=False),
    Column("occurred_on", Date, nullable=False),
)

rebate_accruals = Table(
    "rebate_accruals",
    metadata,
    Column("accrual_id", Text, primary_key=True),
    Column("partner_id", Text, nullable=False),
    Column("program_id", Text, nullable=False),
    Column("program_version", Integer, nullable=False),
    Column("period", Text, nullable=False),
    Column("reason", Text, nullable=False),
    Column("basis_amount", Numeric(18, 4), nullable=False),
    Column("rate", Numeric(18, 6), nullable=False),
    Column("amount", Numeric(18, 2), nullable=False),
    Column("source_event_id", Text, nullable=False),
    Column("source_topic", Text, nullable=False),
    Column("deal_id", Text),
    Column("sold_on", Date),
    Column("line_event_id", Text),
    Column("currency", Text),
    Column("event_id", Text, nullable=False),
)

inventory_positions = Table(
    "inventory_positions",
    metadata,
    Column("distributor_id", Text, primary_key=True),
    Column("sku", Text, primary_key=True),
    Column("sell_in_units", BigInteger, nullable=False),
    Column("sell_through_units", BigInteger, nullable=False),
    Column("on_hand", BigInteger, nullable=False),
    Column("units_in_window", BigInteger, nullable=False),
    Column("as_of", Date),
    Column("avg_weekly_units", Numeric(18, 2), nullable=False),
    Column("weeks_of_supply", Numeric(18, 2)),
    Column("loading_flag", Boolean, nullable=False),
)

# net units sold through per distributor x SKU x day: the inventory window (91 days) of a
# position is a sum of at most 91 of these rows, however many lines there are
sell_through_daily = Table(
    "sell_through_daily",
    metadata,
    Column("distributor_id", Text, primary_key=True),
    Column("sku", Text, primary_key=True),
    Column("sold_on", Date, primary_key=True),
    Column("units", BigInteger, nullable=False),
)

# the last day with a sell-through line per distributor: the end of its inventory window
distributor_as_of = Table(
    "distributor_as_of",
    metadata,
    Column("distributor_id", Text, primary_key=True),
    Column("as_of", Date, nullable=False),
)

# sums of the sell-through lines per distributor x reseller x quarter, the (deal, reseller)
# pairs lines name, and the accruals per partner x quarter: what bi.scorecard_quarterly reads
reseller_quarter_sales = Table(
    "reseller_quarter_sales",
    metadata,
    Column("distributor_id", Text, primary_key=True),
    Column("quarter", Text, primary_key=True),
    Column("reseller_id", Text, primary_key=True),
    Column("units", BigInteger, nullable=False),
    Column("revenue", Numeric, nullable=False),
    Column("lines", BigInteger, nullable=False),
)

deal_conversions = Table(
    "deal_conversions",
    metadata,
    Column("deal_id", Text, primary_key=True),
    Column("reseller_id", Text, primary_key=True),
)

partner_quarter_rebates = Table(
    "partner_quarter_rebates",
    metadata,
    Column("partner_id", Text, primary_key=True),
    Column("quarter", Text, primary_key=True),
    Column("amount", Numeric, nullable=False),
)

FACT_TABLES = (
    partners,
    sell_through_lines,
    sell_in_shipments,
    deals,
    deal_rejections,
    sell_through_rejections,
    rebate_accruals,
)

# what the facts projection writes besides the facts (replays compare these too)
INVENTORY_TABLES = (inventory_positions, sell_through_daily, distributor_as_of)
SCORECARD_TABLES = (reseller_quarter_sales, deal_conversions, partner_quarter_rebates)

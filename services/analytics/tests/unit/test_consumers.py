from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from analytics.adapters import tables
from analytics.domain.quarters import InvalidQuarter
from analytics.entrypoints.consumers import (
    CONSUMED,
    ROWS,
    accrual_row,
    columns,
    deal_rejection_row,
    deal_row,
    line_rejection_row,
    line_row,
    partner_row,
    shipment_row,
)
from channelstream_common.topics import EVENT_TOPICS, EXTERNAL

META = {
    "event_id": "e-1",
    "occurred_at": datetime(2026, 10, 20, 23, 30, tzinfo=UTC),
    "recorded_at": datetime(2026, 10, 20, 23, 30, tzinfo=UTC),
    "producer": "x",
    "correlation_id": "c",
}


def accrual(period: str) -> dict:
    return {
        "metadata": META,
        "accrual_id": "A-1",
        "partner_id": "D-1",
        "program_id": "default",
        "program_version": 1,
        "period": period,
        "reason": "BASE",
        "basis_amount": Decimal("100.0000"),
        "rate": Decimal("0.010000"),
        "amount": Decimal("1.00"),
        "source_event_id": "s-1",
        "source_topic": "sellthrough.sell-through-reported",
        "deal_id": None,
        "sold_on": date(2026, 10, 1),
    }


def test_analytics_consumes_every_event_topic_written_by_a_service():
    assert set(CONSUMED) == {t for t in EVENT_TOPICS if t.owner != EXTERNAL}


def named(table, row: tuple) -> dict:
    assert len(row) == len(table.c)
    return dict(zip(columns(table), row, strict=True))


def test_accrual_period_is_stored_in_canonical_form():
    row = named(tables.rebate_accruals, accrual_row(accrual("2026-q4")))
    assert row["period"] == "2026-Q4"
    assert row["event_id"] == "e-1" and row["amount"] == Decimal("1.00")
    assert row["line_event_id"] is None and row["currency"] is None  # newer optional fields


def test_accrual_with_a_period_that_is_no_quarter_is_refused():
    with pytest.raises(InvalidQuarter):
        accrual_row(accrual("2026-13"))


def test_rejected_deal_without_a_date_is_counted_on_the_day_it_occurred():
    row = named(
        tables.deal_rejections,
        deal_rejection_row(
            {
                "metadata": META,
                "deal_id": "",
                "partner_id": "R-1",
                "customer": None,
                "request_json": "{}",
                "reason": "INVALID_REQUEST",
                "detail": "bad",
                "conflicting_deal_id": None,
                "registered_on": None,
            }
        ),
    )
    assert (row["registered_on"], row["occurred_on"]) == (None, date(2026, 10, 20))


def test_line_row_copies_the_line_and_its_event_id():
    value = {
        "metadata": META,
        "report_id": "R",
        "line_no": 3,
        "distributor_id": "D",
        "reseller_id": "S",
        "sku": "K",
        "quantity": -2,
        "unit_price": Decimal("1.2500"),
        "currency": "USD",
        "sold_on": date(2026, 10, 2),
        "ingestion_path": "HTTP",
        "raw_line": "ignored",
    }
    row = named(tables.sell_through_lines, line_row(value))
    assert row["quantity"] == -2 and row["event_id"] == "e-1" and row["deal_id"] is None
    assert "raw_line" not in row


LINE = {
    "metadata": META,
    "report_id": "R",
    "line_no": 3,
    "distributor_id": "D",
    "reseller_id": "S",
    "sku": "K",
    "product_line": "Core",
    "quantity": 2,
    "unit_price": Decimal("1.2500"),
    "currency": "USD",
    "sold_on": date(2026, 10, 2),
    "end_customer_name": "N",
    "end_customer_country": "US",
    "deal_id": "DL",
    "upload_id": "U",
    "ingestion_path": "SFTP",
    "submitted_by": "x",
    "raw_line": "ignored",
    "line_hash": "h",
    "end_customer_domain": None,
}


def test_every_column_is_filled_from_the_field_of_its_name_or_its_derivation():
    derived = {"event_id": "e-1", "occurred_on": date(2026, 10, 20), "period": "2026-Q4"}
    events = [
        (partner_row, {"partner_id": "P", "legal_name": "L", "partner_type": "RESELLER",
                       "tier": "GOLD", "parent_distributor_id": "D", "territories": ("US",),
                       "enrolled_on": date(2026, 1, 1)}),
        (deal_row, {"deal_id": "DL", "partner_id": "P", "customer_key": "k",
                    "customer": {"name": "C", "country": "US"},
                    "estimated_value": Decimal("1.00"), "currency": "USD",
                    "expected_close_on": date(2026, 2, 1), "registered_on": date(2026, 1, 2),
                    "protection_expires_on": date(2026, 4, 2)}),
        (line_row, LINE),
        (line_rejection_row, {"report_id": "R", "line_no": 4, "distributor_id": "D",
                              "reason": "UNKNOWN_SKU", "detail": "d", "raw_line": "r",
                              "upload_id": "U", "ingestion_path": "HTTP"}),
        (shipment_row, {"shipment_id": "S", "distributor_id": "D", "sku": "K", "quantity": 5,
                        "unit_cost": Decimal("2.0000"), "currency": "USD",
                        "shipped_on": date(2026, 9, 1), "upload_id": None,
                        "ingestion_path": "HTTP"}),
        (accrual_row, {**accrual("2026-Q4"), "line_event_id": "l", "currency": "USD"}),
    ]  # fmt: skip
    nested = {"customer_name": ("customer", "name"), "customer_country": ("customer", "country")}
    by_row = {fn: table for table, fn in ROWS.values()}
    for to_row, fields in events:
        value = {"metadata": META, **fields}
        row = named(by_row[to_row], to_row(value))
        for column, stored in row.items():
            if column in nested:
                outer, inner = nested[column]
                assert stored == value[outer][inner], column
            elif column in derived:
                assert stored == derived[column], column
            else:
                assert stored == value[column] or stored == list(value[column]), column

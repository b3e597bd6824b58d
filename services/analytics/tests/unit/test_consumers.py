from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from analytics.domain.quarters import InvalidQuarter
from analytics.entrypoints.consumers import CONSUMED, accrual_row, deal_rejection_row, line_row
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


def test_accrual_period_is_stored_in_canonical_form():
    row = accrual_row(accrual("2026-q4"))
    assert row["period"] == "2026-Q4"
    assert row["event_id"] == "e-1" and row["amount"] == Decimal("1.00")
    assert row["line_event_id"] is None and row["currency"] is None  # newer optional fields


def test_accrual_with_a_period_that_is_no_quarter_is_refused():
    with pytest.raises(InvalidQuarter):
        accrual_row(accrual("2026-13"))


def test_rejected_deal_without_a_date_is_counted_on_the_day_it_occurred():
    row = deal_rejection_row(
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
    row = line_row(value)
    assert row["quantity"] == -2 and row["event_id"] == "e-1" and row["deal_id"] is None
    assert "raw_line" not in row


def test_new_facts_add_their_units_per_distributor_and_sku():
    from analytics.service_layer.projection import unit_sums

    shipments = [
        {"distributor_id": "D", "sku": "A", "quantity": 10},
        {"distributor_id": "D", "sku": "A", "quantity": 5},
    ]
    lines = [
        {"distributor_id": "D", "sku": "A", "quantity": 4},
        {"distributor_id": "D", "sku": "A", "quantity": -1},
        {"distributor_id": "E", "sku": "B", "quantity": 2},
    ]
    assert unit_sums(shipments, lines) == {("D", "A"): (15, 3), ("E", "B"): (0, 2)}
    assert unit_sums(shipments, lines) == unit_sums(shipments[::-1], lines[::-1])

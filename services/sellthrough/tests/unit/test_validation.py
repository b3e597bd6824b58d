"""Every coded reason, from a line that differs from a valid one in exactly one way."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from sellthrough.domain.decisions import decide
from sellthrough.domain.model import Hold, Reason, Rejection, SaleLine, ShipmentLine, Status
from sellthrough.domain.parsing import parse_sale, parse_shipment
from sellthrough.domain.validation import (
    check_sale,
    check_shipment,
    resubmission,
    sale_hash,
)
from sellthrough.service_layer.pipeline import Pipeline

TODAY = date(2026, 3, 10)


def verdict(rules, partners, fields):
    line = parse_sale(fields)
    assert isinstance(line, SaleLine), line
    return check_sale(line, rules, partners, TODAY)


def test_a_valid_line_passes(rules, partners, sale):
    assert verdict(rules, partners, sale()) is None


def test_a_return_is_a_negative_quantity_and_valid(rules, partners, sale):
    assert verdict(rules, partners, sale(quantity="-2")) is None


def test_a_free_line_is_valid(rules, partners, sale):
    assert verdict(rules, partners, sale(unit_price="0")) is None


@pytest.mark.parametrize(
    ("overrides", "reason"),
    [
        ({"quantity": "0"}, Reason.INVALID_QUANTITY),
        ({"quantity": "+0"}, Reason.INVALID_QUANTITY),
        ({"quantity": "3000000000"}, Reason.INVALID_QUANTITY),
        ({"quantity": "9" * 400}, Reason.INVALID_QUANTITY),
        ({"unit_price": "-0.01"}, Reason.INVALID_PRICE),
        ({"unit_price": "100000000000000"}, Reason.INVALID_PRICE),
        ({"currency": "GBP"}, Reason.UNSUPPORTED_CURRENCY),
        ({"sold_on": "2026-03-11"}, Reason.FUTURE_DATE),
        ({"sku": "NOPE-1"}, Reason.UNKNOWN_SKU),
        ({"distributor_id": "not a partner id"}, Reason.UNKNOWN_DISTRIBUTOR),
        ({"distributor_id": "VAR-1"}, Reason.NOT_A_DISTRIBUTOR),
        ({"distributor_id": "RES-1"}, Reason.NOT_A_DISTRIBUTOR),
        ({"reseller_id": "res 1"}, Reason.UNKNOWN_RESELLER),
        ({"sold_on": "2025-01-31"}, Reason.SOLD_BEFORE_ENROLLMENT),  # reseller enrolled 02-01
        ({"distributor_id": "DIST-LATE"}, Reason.SOLD_BEFORE_ENROLLMENT),
    ],
)
def test_each_rule_refuses_with_its_reason(rules, partners, sale, overrides, reason):
    result = verdict(rules, partners, sale(**overrides))
    assert isinstance(result, Rejection)
    assert result.reason is reason
    assert result.detail


def test_the_day_of_enrolment_counts_as_enrolled(rules, partners, sale):
    assert verdict(rules, partners, sale(sold_on="2025-02-01")) is None


def test_sold_today_is_not_in_the_future(rules, partners, sale):
    assert verdict(rules, partners, sale(sold_on=TODAY.isoformat())) is None


@pytest.mark.parametrize(
    ("overrides", "reason"),
    [
        ({"distributor_id": "DIST-NEW"}, Reason.UNKNOWN_DISTRIBUTOR),
        ({"reseller_id": "RES-NEW"}, Reason.UNKNOWN_RESELLER),
        ({"distributor_id": "DIST-NEW", "reseller_id": "RES-NEW"}, Reason.UNKNOWN_DISTRIBUTOR),
    ],
)
def test_a_partner_not_yet_enrolled_holds_the_line(rules, partners, sale, overrides, reason):
    assert verdict(rules, partners, sale(**overrides)) == Hold(
        reason, f"{'distributor' if reason is Reason.UNKNOWN_DISTRIBUTOR else 'reseller'} "
        f"{overrides.get('distributor_id') or overrides['reseller_id']} is not enrolled"
    )  # fmt: skip


def test_intrinsic_problems_are_refused_at_once_even_for_unknown_partners(rules, partners, sale):
    result = verdict(rules, partners, sale(distributor_id="DIST-NEW", quantity="0"))
    assert isinstance(result, Rejection) and result.reason is Reason.INVALID_QUANTITY


def test_an_identical_resubmission_is_a_no_op_and_a_changed_one_conflicts(sale):
    first = parse_sale(sale())
    changed = parse_sale(sale(quantity="6"))
    same_meaning = parse_sale(sale(unit_price="1200.5000", currency="usd"))
    assert isinstance(first, SaleLine) and isinstance(changed, SaleLine)
    assert isinstance(same_meaning, SaleLine)
    assert resubmission(sale_hash(first), sale_hash(same_meaning)) is None
    conflict = resubmission(sale_hash(first), sale_hash(changed))
    assert conflict is not None and conflict.reason is Reason.CONFLICTING_RESUBMISSION


@pytest.mark.parametrize(
    ("overrides", "reason"),
    [
        ({"quantity": "0"}, Reason.INVALID_QUANTITY),
        ({"unit_cost": "-1"}, Reason.INVALID_PRICE),
        ({"currency": "JPY"}, Reason.UNSUPPORTED_CURRENCY),
        ({"shipped_on": "2027-01-01"}, Reason.FUTURE_DATE),
        ({"sku": "X"}, Reason.UNKNOWN_SKU),
        ({"distributor_id": "VAR-1"}, Reason.NOT_A_DISTRIBUTOR),
        ({"distributor_id": "DIST-LATE"}, Reason.SOLD_BEFORE_ENROLLMENT),
        ({"distributor_id": "x"}, Reason.UNKNOWN_DISTRIBUTOR),
    ],
)
def test_shipments_follow_the_same_rules(rules, partners, shipment, overrides, reason):
    line = parse_shipment(shipment(**overrides))
    assert isinstance(line, ShipmentLine)
    result = check_shipment(line, rules, partners, TODAY)
    assert isinstance(result, Rejection) and result.reason is reason


def test_a_shipment_to_a_distributor_not_yet_enrolled_is_held(rules, partners, shipment):
    line = parse_shipment(shipment(distributor_id="DIST-NEW"))
    assert isinstance(line, ShipmentLine)
    assert isinstance(check_shipment(line, rules, partners, TODAY), Hold)


def run(rules, partners, rows, accepted=None, expired=False):
    parsed = [parse_sale(r) for r in rows]
    return decide(
        parsed,
        [TODAY] * len(parsed),
        {} if accepted is None else accepted,
        lambda line, day: check_sale(line, rules, partners, day),
        sale_hash,
        expired=expired,
    )


def test_a_batch_is_decided_line_by_line_with_repeats_as_duplicates_or_conflicts(
    rules, partners, sale
):
    decisions = run(
        rules,
        partners,
        [
            sale(),
            sale(),  # same line again in the same file
            sale(quantity="9"),  # same report line, other content
            sale(line_no="2", sku="NOPE"),
            sale(line_no="3", reseller_id="RES-NEW"),
            sale(line_no="x"),
        ],
    )
    assert [(d.status, d.reason) for d in decisions] == [
        (Status.ACCEPTED, None),
        (Status.DUPLICATE, None),
        (Status.REJECTED, Reason.CONFLICTING_RESUBMISSION),
        (Status.REJECTED, Reason.UNKNOWN_SKU),
        (Status.HELD, Reason.UNKNOWN_RESELLER),
        (Status.REJECTED, Reason.MALFORMED_ROW),
    ]


def test_lines_accepted_earlier_are_duplicates_or_conflicts(rules, partners, sale):
    first = parse_sale(sale())
    assert isinstance(first, SaleLine)
    accepted = {first.key: sale_hash(first)}
    decisions = run(rules, partners, [sale(), sale(quantity="1")], accepted)
    assert [(d.status, d.reason) for d in decisions] == [
        (Status.DUPLICATE, None),
        (Status.REJECTED, Reason.CONFLICTING_RESUBMISSION),
    ]


def test_after_the_grace_period_a_held_line_is_refused_for_its_unknown_partner(
    rules, partners, sale
):
    [decision] = run(rules, partners, [sale(reseller_id="RES-NEW")], expired=True)
    assert decision.status is Status.REJECTED
    assert decision.reason is Reason.UNKNOWN_RESELLER
    assert "grace period" in decision.detail


def test_the_date_a_line_was_received_is_its_today(rules, partners, sale):
    line = parse_sale(sale(sold_on="2026-03-10"))
    assert isinstance(line, SaleLine)
    [decision] = decide(
        [line],
        [date(2026, 3, 9)],
        {},
        lambda ln, day: check_sale(ln, rules, partners, day),
        sale_hash,
    )
    assert decision.reason is Reason.FUTURE_DATE


def test_today_is_the_latest_calendar_date_anywhere():
    def at(hour: int) -> Pipeline:
        clock = lambda: datetime(2026, 3, 10, hour, tzinfo=UTC)  # noqa: E731
        return Pipeline(
            None,  # type: ignore[arg-type]
            None,  # type: ignore[arg-type]
            None,  # type: ignore[arg-type]
            None,  # type: ignore[arg-type]
            dead_letter_topic="",
            grace=timedelta(),
            clock=clock,
        )

    assert at(9).today() == date(2026, 3, 10)  # 23:00 in Kiribati (UTC+14)
    assert at(10).today() == date(2026, 3, 11)  # already the 11th there

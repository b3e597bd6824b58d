"""Validating submitted requests: every wrong field is named."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from dealreg.domain.model import DealRequest, Evidence
from dealreg.domain.validation import InvalidRequest, decode_body, parse_request
from hypothesis import given
from hypothesis import strategies as st

TODAY = date(2026, 3, 10)


def document(**changes: Any) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "deal_id": "D-1",
        "partner_id": "RES-1",
        "customer": {"name": "Acme Inc", "country": "US", "domain": "acme.com"},
        "products": [{"sku": "SKU-1", "quantity": 10}],
        "estimated_value": "1000.50",
        "currency": "USD",
        "expected_close_on": "2026-06-30",
        "evidence": {"contact_email": "cio@acme.com"},
        "registered_on": "2026-03-01",
    }
    doc.update(changes)
    return {k: v for k, v in doc.items() if v is not ...}


def parse(**changes):
    return parse_request(document(**changes), today=TODAY)


def errors(**changes) -> dict[str, str]:
    result = parse(**changes)
    assert isinstance(result, InvalidRequest), result
    return result.errors


def test_a_complete_request_parses():
    req = parse()
    assert isinstance(req, DealRequest)
    assert req.estimated_value == Decimal("1000.50")
    assert req.customer.key == "acme|US"
    assert req.customer.domain_key == "acme.com"
    assert req.registered_on == date(2026, 3, 1)


def test_registered_on_defaults_to_today_and_may_not_be_in_the_future():
    req = parse(registered_on=...)
    assert isinstance(req, DealRequest) and req.registered_on == TODAY
    assert "registered_on" in errors(registered_on="2026-03-11")


def test_every_bad_field_is_named():
    found = errors(
        deal_id="has space",
        partner_id="lower",
        customer={"name": "  ", "country": "XX", "domain": "nope"},
        products=[{"sku": "A", "quantity": 0}, {"sku": "", "quantity": 1}, "x"],
        estimated_value="-1",
        currency="euro",
        expected_close_on="30/06/2026",
        evidence={"contact_email": "not-an-email", "meeting_on": "2026-13-01"},
        colour="red",
    )
    assert set(found) == {
        "deal_id",
        "partner_id",
        "customer.name",
        "customer.country",
        "customer.domain",
        "products[0].quantity",
        "products[1].sku",
        "products[2]",
        "estimated_value",
        "currency",
        "expected_close_on",
        "evidence.contact_email",
        "evidence.meeting_on",
        "colour",
    }


def test_rejection_keeps_what_could_be_read():
    result = parse(currency=None)
    assert isinstance(result, InvalidRequest)
    assert result.deal_id == "D-1" and result.partner_id == "RES-1"
    assert result.customer is not None and result.customer.country == "US"
    assert result.detail == "currency: is required"


@pytest.mark.parametrize(
    ("value", "expected"),
    [(10, "10.00"), ("10.5", "10.50"), (Decimal("10.50"), "10.50"), ("10.500", "10.50")],
)
def test_money_is_kept_in_cents(value, expected):
    req = parse(estimated_value=value)
    assert isinstance(req, DealRequest) and str(req.estimated_value) == expected


@given(st.decimals(min_value=Decimal("0.001"), max_value=Decimal("1e9"), places=3))
def test_more_than_two_decimals_is_refused_never_rounded(value):
    result = parse(estimated_value=str(value))
    if value == value.quantize(Decimal("0.01")):
        assert isinstance(result, DealRequest) and result.estimated_value == value
    else:
        assert isinstance(result, InvalidRequest)
        assert result.errors == {"estimated_value": "at most 2 decimal places"}


@pytest.mark.parametrize("value", [True, None, "abc", "NaN", "Infinity", "0", 0, [], "1e16"])
def test_money_must_be_a_positive_amount(value):
    assert "estimated_value" in errors(estimated_value=value)


@pytest.mark.parametrize("quantity", [0, -1, 1.5, "3", True, 2**31])
def test_quantities_are_whole_positive_numbers(quantity):
    assert "products[0].quantity" in errors(products=[{"sku": "A", "quantity": quantity}])


def test_duplicate_skus_are_refused():
    products = [{"sku": "a-1", "quantity": 1}, {"sku": "A-1", "quantity": 2}]
    assert errors(products=products) == {"products[1].sku": "duplicate SKU A-1"}


def test_missing_or_empty_evidence_is_not_invalid_it_is_no_evidence():
    for evidence in (..., None, {}, {"contact_email": "", "meeting_on": None, "proposal_ref": " "}):
        req = parse(evidence=evidence)
        assert isinstance(req, DealRequest) and req.evidence == Evidence()


def test_dates_must_be_consistent():
    assert "expected_close_on" in errors(expected_close_on="2026-02-28")
    assert "evidence.meeting_on" in errors(evidence={"meeting_on": "2026-03-02"})


def test_lowercase_country_is_accepted_and_upper_cased():
    req = parse(customer={"name": "Acme", "country": "de"})
    assert isinstance(req, DealRequest) and req.customer.country == "DE"


@pytest.mark.parametrize("doc", [[], "x", 3, None])
def test_a_body_that_is_not_an_object_is_invalid(doc):
    result = parse_request(doc, today=TODAY)
    assert isinstance(result, InvalidRequest) and "body" in result.errors


def test_bodies_decode_with_exact_decimals_and_unreadable_ones_are_invalid():
    assert decode_body('{"estimated_value": 0.1}') == {"estimated_value": Decimal("0.1")}
    for body in ("{not json", "", '{"estimated_value": NaN}', "[" * 100_000):
        result = decode_body(body)
        assert isinstance(result, InvalidRequest)
        assert result.errors["body"].startswith("not valid JSON")


def test_a_bad_registered_on_is_not_used_to_judge_other_dates():
    assert errors(registered_on="2026/01/01", expected_close_on="2026-01-02") == {
        "registered_on": "must be a date YYYY-MM-DD"
    }

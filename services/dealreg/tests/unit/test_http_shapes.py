"""What POST /deals answers for each kind of decision."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from dealreg.domain.model import (
    Customer,
    DealRecord,
    DealRequest,
    Decision,
    Evidence,
    Product,
    Reason,
    Status,
    rejected,
)
from dealreg.entrypoints.http import outcome_json
from dealreg.service_layer.registration import Outcome

REQUEST = DealRequest(
    deal_id="D-1",
    partner_id="RES-1",
    customer=Customer("Acme Inc", "US", "acme.com"),
    products=(Product("SKU-1", 3),),
    estimated_value=Decimal("1234.50"),
    currency="USD",
    expected_close_on=date(2026, 6, 30),
    evidence=Evidence(meeting_on=date(2026, 2, 1)),
    registered_on=date(2026, 3, 1),
)
AT = datetime(2026, 3, 1, 12, tzinfo=UTC)


def test_approval_is_201_with_the_deal_and_its_protection():
    decision = Decision(Status.APPROVED, protection_expires_on=date(2026, 5, 30))
    body, status = outcome_json(Outcome(decision, "D-1", DealRecord(REQUEST, decision, AT)))
    assert status == 201
    assert body["status"] == "APPROVED"
    deal = body["deal"]
    assert deal["protection_expires_on"] == "2026-05-30"
    assert deal["estimated_value"] == "1234.50"
    assert deal["customer_key"] == "acme|US"
    assert deal["evidence"] == {
        "contact_email": None,
        "meeting_on": "2026-02-01",
        "proposal_ref": None,
    }
    assert "error" not in body


@pytest.mark.parametrize(
    ("reason", "status"),
    [
        (Reason.CONFLICT, 409),
        (Reason.DUPLICATE_DEAL_ID, 409),
        (Reason.INVALID_REQUEST, 422),
        (Reason.UNKNOWN_PARTNER, 200),
        (Reason.DISTRIBUTOR_CANNOT_REGISTER, 200),
        (Reason.NO_EVIDENCE, 200),
    ],
)
def test_rejections_carry_reason_and_detail_and_4xx_ones_the_error_object(reason, status):
    decision = rejected(reason, "why", "D-0" if reason is Reason.CONFLICT else None)
    stored = replace(DealRecord(REQUEST, decision, AT))
    body, code = outcome_json(Outcome(decision, "D-1", stored))
    assert code == status
    assert body["status"] == "REJECTED"
    assert body["reason"] == reason.value and body["detail"] == "why"
    assert body["conflicting_deal_id"] == ("D-0" if reason is Reason.CONFLICT else None)
    if status >= 400:
        assert body["error"] == {"code": reason.value, "detail": "why"}
    else:
        assert "error" not in body


def test_invalid_request_names_the_fields():
    decision = rejected(Reason.INVALID_REQUEST, "currency: is required")
    body, code = outcome_json(Outcome(decision, "", fields={"currency": "is required"}))
    assert code == 422
    assert body["fields"] == {"currency": "is required"}
    assert "deal" not in body

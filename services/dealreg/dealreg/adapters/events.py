"""Domain decisions as the Avro values of DealRegistered / DealRegistrationRejected."""

from __future__ import annotations

from datetime import date
from typing import Any

from channelstream_common.topics import DEAL_REGISTERED, DEAL_REJECTED, Topic

from dealreg.domain.model import Customer, DealRequest, Decision, Evidence
from dealreg.domain.validation import InvalidRequest


def _customer(c: Customer) -> dict[str, Any]:
    return {"name": c.name, "country": c.country, "domain": c.domain}


def _evidence(e: Evidence) -> dict[str, Any]:
    return {
        "contact_email": e.contact_email,
        "meeting_on": e.meeting_on,
        "proposal_ref": e.proposal_ref,
    }


def deal_registered(
    request: DealRequest, expires_on: date, metadata: dict[str, Any]
) -> tuple[Topic, dict[str, Any]]:
    return DEAL_REGISTERED, {
        "metadata": metadata,
        "deal_id": request.deal_id,
        "partner_id": request.partner_id,
        "customer": _customer(request.customer),
        "customer_key": request.customer.key,
        "products": [{"sku": p.sku, "quantity": p.quantity} for p in request.products],
        "estimated_value": request.estimated_value,
        "currency": request.currency,
        "expected_close_on": request.expected_close_on,
        "evidence": _evidence(request.evidence),
        "registered_on": request.registered_on,
        "protection_expires_on": expires_on,
    }


def registration_rejected(
    request: DealRequest | InvalidRequest,
    decision: Decision,
    request_json: str,
    metadata: dict[str, Any],
) -> tuple[Topic, dict[str, Any]]:
    assert decision.reason is not None
    return DEAL_REJECTED, {
        "metadata": metadata,
        "deal_id": request.deal_id,
        "partner_id": request.partner_id,
        "customer": _customer(request.customer) if request.customer else None,
        "request_json": request_json,
        "reason": decision.reason.value,
        "detail": decision.detail,
        "conflicting_deal_id": decision.conflicting_deal_id,
        "registered_on": request.registered_on,
    }

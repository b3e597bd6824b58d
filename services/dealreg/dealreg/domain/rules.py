"""The registration decision: partner rules, evidence, protection windows and conflicts."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, timedelta

from dealreg.domain.customers import same_customer
from dealreg.domain.model import (
    DealRequest,
    Decision,
    Partner,
    ProtectedDeal,
    Reason,
    Status,
    rejected,
)

DEFAULT_PROTECTION_DAYS = 90


def protection_expires_on(registered_on: date, days: int) -> date:
    """The last protected day (inclusive): the window is [registered_on, registered_on + days]."""
    return registered_on + timedelta(days=days)


def covers(deal: ProtectedDeal, day: date) -> bool:
    return deal.registered_on <= day <= deal.protection_expires_on


def conflicts_with(request: DealRequest, held: ProtectedDeal) -> bool:
    """Another partner protects the same customer on the request's day for a shared SKU."""
    customer = request.customer
    return (
        held.partner_id != request.partner_id
        and same_customer(customer.key, customer.domain_key, held.customer_key, held.domain_key)
        and covers(held, request.registered_on)
        and bool(held.skus & request.skus)
    )


def find_conflict(request: DealRequest, held: Iterable[ProtectedDeal]) -> ProtectedDeal | None:
    """The earliest-registered blocking deal (ties by deal_id), whatever order `held` is in."""
    blocking = [h for h in held if conflicts_with(request, h)]
    return min(blocking, key=lambda h: (h.registered_on, h.deal_id), default=None)


def decide(
    request: DealRequest,
    *,
    partner: Partner | None,
    existing: Status | None,
    held: Iterable[ProtectedDeal],
    protection_days: int,
) -> Decision:
    """Checks in order: duplicate id (`existing` is the status of an earlier decision with the
    same deal_id), partner, evidence, conflict; else approve."""
    if existing is not None:
        return rejected(
            Reason.DUPLICATE_DEAL_ID,
            f"deal_id {request.deal_id} was already decided ({existing.value}); use a new deal_id",
        )
    if partner is None:
        return rejected(
            Reason.UNKNOWN_PARTNER, f"partner {request.partner_id} is not an enrolled partner"
        )
    if partner.is_distributor:
        return rejected(
            Reason.DISTRIBUTOR_CANNOT_REGISTER,
            f"partner {partner.partner_id} is a distributor; distributors cannot register deals",
        )
    if not request.evidence.given:
        return rejected(
            Reason.NO_EVIDENCE,
            "evidence needs at least one of contact_email, meeting_on, proposal_ref",
        )
    conflict = find_conflict(request, held)
    if conflict is not None:
        shared = ", ".join(sorted(conflict.skus & request.skus))
        return rejected(
            Reason.CONFLICT,
            f"customer is protected for partner {conflict.partner_id} by deal {conflict.deal_id}"
            f" from {conflict.registered_on} to {conflict.protection_expires_on}"
            f" (shared SKUs: {shared})",
            conflicting_deal_id=conflict.deal_id,
        )
    return Decision(
        Status.APPROVED,
        protection_expires_on=protection_expires_on(request.registered_on, protection_days),
    )

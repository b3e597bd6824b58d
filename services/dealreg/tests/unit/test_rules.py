"""The decision: window arithmetic, conflicts and the order of the checks."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from dealreg.domain.model import (
    Customer,
    DealRequest,
    Evidence,
    Partner,
    Product,
    ProtectedDeal,
    Reason,
    Status,
)
from dealreg.domain.rules import covers, decide, find_conflict, protection_expires_on
from hypothesis import given
from hypothesis import strategies as st

DAYS = st.dates(min_value=date(2000, 1, 1), max_value=date(2090, 12, 31))
RESELLER = Partner("RES-1", "RESELLER")


def request(**changes: Any) -> DealRequest:
    base = DealRequest(
        deal_id="D-1",
        partner_id="RES-1",
        customer=Customer("Acme Inc", "US", None),
        products=(Product("SKU-1", 10),),
        estimated_value=Decimal("1000.00"),
        currency="USD",
        expected_close_on=date(2026, 6, 30),
        evidence=Evidence(contact_email="cio@acme.com"),
        registered_on=date(2026, 3, 1),
    )
    return replace(base, **changes)


def held(
    deal_id: str = "D-0",
    partner_id: str = "RES-2",
    *,
    name: str = "ACME, Inc.",
    country: str = "US",
    domain: str | None = None,
    skus: tuple[str, ...] = ("SKU-1",),
    registered_on: date = date(2026, 2, 1),
    days: int = 90,
) -> ProtectedDeal:
    customer = Customer(name, country, domain)
    return ProtectedDeal(
        deal_id=deal_id,
        partner_id=partner_id,
        customer_key=customer.key,
        domain_key=customer.domain_key,
        skus=frozenset(skus),
        registered_on=registered_on,
        protection_expires_on=protection_expires_on(registered_on, days),
    )


def decision(req=None, *, partner=RESELLER, existing=None, holders=(), days=90):
    return decide(
        req or request(),
        partner=partner,
        existing=existing,
        held=list(holders),
        protection_days=days,
    )


def test_window_is_registered_on_plus_days_and_its_last_day_is_protected():
    assert protection_expires_on(date(2026, 1, 1), 90) == date(2026, 4, 1)
    deal = held(registered_on=date(2026, 1, 1))
    assert covers(deal, date(2026, 1, 1))
    assert covers(deal, date(2026, 4, 1))
    assert not covers(deal, date(2026, 4, 2))
    assert not covers(deal, date(2025, 12, 31))


@given(DAYS, st.integers(0, 3650), st.integers(-4000, 4000))
def test_window_covers_exactly_the_days_from_registration_to_expiry(start, days, offset):
    deal = held(registered_on=start, days=days)
    assert (deal.protection_expires_on - start).days == days
    day = start + timedelta(days=offset)
    assert covers(deal, day) == (0 <= offset <= days)


def test_approval_carries_the_expiry_of_the_configured_window():
    d = decision(days=30)
    assert d.status is Status.APPROVED
    assert d.protection_expires_on == date(2026, 3, 31)


def test_another_partners_protected_deal_for_the_same_customer_and_sku_conflicts():
    d = decision(holders=[held("D-0", registered_on=date(2026, 2, 1))])
    assert d.reason is Reason.CONFLICT
    assert d.conflicting_deal_id == "D-0"
    assert "RES-2" in d.detail and "SKU-1" in d.detail


def test_no_conflict_for_same_partner_other_sku_other_country_or_expired_window():
    assert decision(holders=[held(partner_id="RES-1")]).approved
    assert decision(holders=[held(skus=("SKU-9",))]).approved
    assert decision(holders=[held(country="CA")]).approved
    expired = held(registered_on=date(2026, 3, 1) - timedelta(days=91))
    assert decision(holders=[expired]).approved
    last_day = held(registered_on=date(2026, 3, 1) - timedelta(days=90))
    assert decision(holders=[last_day]).reason is Reason.CONFLICT


def test_skus_overlap_case_insensitively():
    assert (
        decision(
            holders=[held(skus=("SKU-1",))], req=request(products=(Product(" sku-1 ", 1),))
        ).reason
        is Reason.CONFLICT
    )


def test_domains_identify_the_customer_when_both_have_one():
    same_domain = request(customer=Customer("Acme Widgets GmbH", "DE", "www.acme.com"))
    assert decision(same_domain, holders=[held(domain="acme.com")]).reason is Reason.CONFLICT
    other_domain = request(customer=Customer("Acme Inc", "US", "acme.io"))
    assert decision(other_domain, holders=[held(domain="acme.com")]).approved
    one_domain = request(customer=Customer("ACME inc.", "US", "acme.io"))
    assert decision(one_domain, holders=[held(domain=None)]).reason is Reason.CONFLICT


def test_a_deal_registered_after_the_new_request_day_does_not_block_it():
    later = held(registered_on=date(2026, 3, 2))
    assert decision(holders=[later]).approved


@given(st.permutations(range(5)))
def test_the_earliest_blocking_deal_is_named_whatever_the_order(order):
    holders = [held(f"D-{i}", f"P-{i}", registered_on=date(2026, 2, 1 + i)) for i in range(5)]
    found = find_conflict(request(), [holders[i] for i in order])
    assert found is not None and found.deal_id == "D-0"


@given(
    st.sets(st.sampled_from("ABCDE"), min_size=1),
    st.sets(st.sampled_from("ABCDE"), min_size=1),
    st.booleans(),
)
def test_conflict_needs_a_shared_sku_and_another_partner(mine, theirs, same_partner):
    req = request(products=tuple(Product(s, 1) for s in sorted(mine)))
    holder = held(partner_id="RES-1" if same_partner else "RES-2", skus=tuple(theirs))
    expected = bool(mine & theirs) and not same_partner
    assert (find_conflict(req, [holder]) is not None) == expected


def test_checks_run_in_order_duplicate_partner_distributor_evidence_conflict():
    blocking = [held()]
    no_evidence = request(evidence=Evidence())
    distributor = Partner("RES-1", "DISTRIBUTOR")
    assert (
        decision(no_evidence, partner=None, existing=Status.REJECTED, holders=blocking).reason
        is Reason.DUPLICATE_DEAL_ID
    )
    assert decision(no_evidence, partner=None, holders=blocking).reason is Reason.UNKNOWN_PARTNER
    assert (
        decision(no_evidence, partner=distributor, holders=blocking).reason
        is Reason.DISTRIBUTOR_CANNOT_REGISTER
    )
    assert decision(no_evidence, holders=blocking).reason is Reason.NO_EVIDENCE
    assert decision(holders=blocking).reason is Reason.CONFLICT


def test_any_single_piece_of_evidence_is_enough():
    for evidence in (
        Evidence(contact_email="a@b.co"),
        Evidence(meeting_on=date(2026, 2, 1)),
        Evidence(proposal_ref="Q-1"),
    ):
        assert decision(request(evidence=evidence)).approved

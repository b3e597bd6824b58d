"""Serializing decisions: requests that could conflict always share an advisory-lock key."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from decimal import Decimal

from dealreg.adapters.repository import lock_id
from dealreg.domain.customers import same_customer
from dealreg.domain.model import Customer, DealRequest, Evidence, Product
from dealreg.service_layer.registration import lock_keys
from hypothesis import given
from hypothesis import strategies as st

BASE = DealRequest(
    deal_id="D-1",
    partner_id="RES-1",
    customer=Customer("Acme", "US"),
    products=(Product("SKU-1", 1),),
    estimated_value=Decimal("1.00"),
    currency="USD",
    expected_close_on=date(2026, 6, 30),
    evidence=Evidence(proposal_ref="Q-1"),
    registered_on=date(2026, 3, 1),
)
CUSTOMERS = st.builds(
    Customer,
    st.sampled_from(["Acme Inc", "ACME", "acme, llc", "Globex", "Globex GmbH"]),
    st.sampled_from(["US", "DE"]),
    st.sampled_from([None, "acme.com", "www.ACME.com", "globex.de"]),
)


@given(CUSTOMERS, CUSTOMERS)
def test_requests_naming_the_same_customer_share_a_lock(a, b):
    ra = replace(BASE, customer=a)
    rb = replace(BASE, deal_id="D-2", customer=b)
    if same_customer(a.key, a.domain_key, b.key, b.domain_key):
        assert set(lock_keys(ra)) & set(lock_keys(rb))


def test_the_same_deal_id_shares_a_lock_whatever_the_customer():
    other = replace(BASE, customer=Customer("Globex", "DE", "globex.de"))
    assert set(lock_keys(BASE)) & set(lock_keys(other)) == {"deal:D-1"}


def test_lock_ids_are_stable_signed_64_bit_integers():
    assert lock_id("customer:acme|US") == lock_id("customer:acme|US")
    assert lock_id("customer:acme|US") != lock_id("customer:acme|DE")
    assert all(-(2**63) <= lock_id(k) < 2**63 for k in ("a", "b", "customer:x|US"))

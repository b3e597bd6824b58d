from __future__ import annotations

import string
from datetime import date
from typing import Any

import pytest
from channelstream_common.countries import ISO_3166_ALPHA2
from hypothesis import assume, given
from hypothesis import strategies as st
from onboarding.domain.model import Code, Partner, PartnerType, Rejection, Tier
from onboarding.domain.validation import parse_partner


def request(**overrides: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "partner_id": "DIST-001",
        "legal_name": "Nordic Distribution AB",
        "partner_type": "DISTRIBUTOR",
        "tier": "GOLD",
        "parent_distributor_id": None,
        "territories": ["SE", "NO", "DK"],
        "exclusive_territories": ["SE"],
        "enrolled_on": "2026-01-05",
        "contact_email": "channel@nordic.example.com",
    }
    return {**base, **overrides}


def rejection(raw: dict[str, Any]) -> Rejection:
    result = parse_partner(raw)
    assert isinstance(result, Rejection), result
    assert result.code is Code.INVALID_FIELD
    return result


def test_valid_request_becomes_a_canonical_partner():
    result = parse_partner(
        request(
            legal_name="  Nordic   Distribution AB ",
            partner_type="distributor",
            territories=["se", " NO", "DK", "SE"],
        )
    )
    assert result == Partner(
        partner_id="DIST-001",
        legal_name="Nordic Distribution AB",
        partner_type=PartnerType.DISTRIBUTOR,
        tier=Tier.GOLD,
        parent_distributor_id=None,
        territories=("DK", "NO", "SE"),
        exclusive_territories=("SE",),
        enrolled_on=date(2026, 1, 5),
        contact_email="channel@nordic.example.com",
    )


def test_optional_fields_may_be_absent_or_empty():
    raw = request(partner_type="RESELLER", exclusive_territories=[])
    del raw["parent_distributor_id"]
    partner = parse_partner(raw)
    assert isinstance(partner, Partner)
    assert partner.parent_distributor_id is None
    assert partner.exclusive_territories == ()
    assert isinstance(parse_partner(request(parent_distributor_id="")), Partner)


@pytest.mark.parametrize(
    ("overrides", "field", "says"),
    [
        ({"partner_id": "dist-001"}, "partner_id", "does not match"),
        ({"partner_id": "AB"}, "partner_id", "does not match"),
        ({"partner_id": "A" * 33}, "partner_id", "does not match"),
        ({"partner_id": 17}, "partner_id", "must be a string"),
        ({"legal_name": "   "}, "legal_name", "required"),
        ({"legal_name": "x" * 201}, "legal_name", "longer than 200"),
        ({"partner_type": "WHOLESALER"}, "partner_type", "not one of"),
        ({"tier": "DIAMOND"}, "tier", "not one of"),
        ({"parent_distributor_id": "bad id"}, "parent_distributor_id", "does not match"),
        ({"territories": ["DE", "XX"]}, "territories", "'XX' is not an ISO 3166-1"),
        ({"territories": ["UK"]}, "territories", "'UK' is not an ISO 3166-1"),
        ({"territories": []}, "territories", "at least one"),
        ({"territories": "DE"}, "territories", "must be a list"),
        ({"exclusive_territories": ["EU"]}, "exclusive_territories", "'EU' is not"),
        ({"exclusive_territories": ["FI"]}, "exclusive_territories", "FI not among"),
        ({"enrolled_on": "05/01/2026"}, "enrolled_on", "not an ISO date"),
        ({"enrolled_on": "2026-02-30"}, "enrolled_on", "not an ISO date"),
        ({"enrolled_on": None}, "enrolled_on", "required"),
        ({"contact_email": "channel.nordic.example.com"}, "contact_email", "not a valid"),
        ({"contact_email": "a@b"}, "contact_email", "not a valid"),
        ({"contact_email": "a..b@nordic.example"}, "contact_email", "not a valid"),
        ({"contact_email": "a b@nordic.example"}, "contact_email", "not a valid"),
        ({"colour": "blue"}, "colour", "unknown field"),
    ],
)
def test_invalid_field_is_refused_naming_the_field(overrides, field, says):
    detail = rejection(request(**overrides)).detail
    assert detail.startswith(f"{field}: ")
    assert says in detail


def test_every_problem_is_reported_and_the_partner_id_kept():
    raw = request(tier="DIAMOND", territories=["ZZ"], exclusive_territories=[])
    del raw["contact_email"]
    found = rejection(raw)
    assert found.partner_id == "DIST-001"
    assert [p.split(":")[0] for p in found.detail.split("; ")] == [
        "tier",
        "territories",
        "contact_email",
    ]


def test_only_distributors_hold_exclusive_territories():
    detail = rejection(request(partner_type="VAR")).detail
    assert detail == "exclusive_territories: only distributors hold exclusive territories"


@given(st.from_regex(r"[A-Z0-9-]{3,32}", fullmatch=True))
def test_any_id_of_the_pattern_is_accepted(pid):
    partner = parse_partner(request(partner_id=pid))
    assert isinstance(partner, Partner)
    assert partner.partner_id == pid


def _id_like(text: str) -> bool:
    allowed = set(string.ascii_uppercase + string.digits + "-")
    return 3 <= len(text) <= 32 and set(text) <= allowed


@given(st.text(min_size=1, max_size=40))
def test_an_id_outside_the_pattern_is_refused(pid):
    assume(not _id_like(pid.strip()))
    found = parse_partner(request(partner_id=pid))
    assert isinstance(found, Rejection)
    assert found.detail.startswith("partner_id: ")


@given(st.text(alphabet=string.ascii_uppercase, min_size=2, max_size=2))
def test_a_two_letter_code_is_a_territory_exactly_when_iso_assigns_it(code):
    result = parse_partner(request(territories=[code], exclusive_territories=[]))
    assert isinstance(result, Partner) == (code in ISO_3166_ALPHA2)


@given(
    st.lists(st.sampled_from(sorted(ISO_3166_ALPHA2)), min_size=1, max_size=8),
    st.randoms(use_true_random=False),
)
def test_territory_order_case_and_repeats_do_not_change_the_partner(codes, rnd):
    shuffled = [c.lower() if rnd.random() < 0.5 else c for c in codes * 2]
    rnd.shuffle(shuffled)
    first = parse_partner(request(territories=codes, exclusive_territories=[]))
    second = parse_partner(request(territories=shuffled, exclusive_territories=[]))
    assert isinstance(first, Partner)
    assert first == second
    assert list(first.territories) == sorted(set(codes))


@given(st.emails(domains=st.from_regex(r"[a-z][a-z0-9]{0,20}\.(com|de|io|co\.uk)", fullmatch=True)))
def test_ordinary_email_addresses_are_accepted(address):
    partner = parse_partner(request(contact_email=address))
    assert isinstance(partner, Partner), partner

from __future__ import annotations

from datetime import date

from hypothesis import given
from hypothesis import strategies as st
from onboarding.domain.enrolment import Registry, claimed_territories, referenced_ids
from onboarding.domain.model import Code, Partner, PartnerType, Rejection, Status, Tier


def distributor(pid: str, *exclusive: str, territories: tuple[str, ...] = ()) -> Partner:
    return Partner(
        partner_id=pid,
        legal_name=f"{pid} GmbH",
        partner_type=PartnerType.DISTRIBUTOR,
        tier=Tier.GOLD,
        parent_distributor_id=None,
        territories=tuple(sorted({*territories, *exclusive} or {"DE"})),
        exclusive_territories=tuple(sorted(exclusive)),
        enrolled_on=date(2026, 1, 5),
        contact_email="ops@example.com",
    )


def reseller(pid: str, parent: str | None, kind: PartnerType = PartnerType.RESELLER) -> Partner:
    return Partner(
        partner_id=pid,
        legal_name=f"{pid} Ltd",
        partner_type=kind,
        tier=Tier.SILVER,
        parent_distributor_id=parent,
        territories=("DE",),
        exclusive_territories=(),
        enrolled_on=date(2026, 2, 1),
        contact_email="sales@example.com",
    )


def test_new_partner_is_enrolled_and_remembered():
    registry = Registry()
    outcome = registry.decide(distributor("D-1", "AT"))
    assert (outcome.status, outcome.code) == (Status.ENROLLED, None)
    assert registry.partners["D-1"] == distributor("D-1", "AT")
    assert registry.exclusive_holders == {"AT": "D-1"}


def test_identical_resend_is_unchanged_and_a_different_one_is_refused():
    registry = Registry.of([distributor("D-1", "AT")])
    again = registry.decide(distributor("D-1", "AT"))
    assert (again.status, again.code) == (Status.UNCHANGED, None)
    changed = registry.decide(distributor("D-1", "AT", territories=("CH",)))
    assert (changed.status, changed.code) == (Status.REJECTED, Code.PARTNER_EXISTS)
    assert changed.detail == "D-1 is already enrolled with different territories"
    assert registry.partners["D-1"] == distributor("D-1", "AT")


def test_parent_must_be_an_enrolled_distributor():
    registry = Registry.of([distributor("D-1"), reseller("R-1", "D-1")])
    unknown = registry.decide(reseller("R-2", "D-404"))
    assert (unknown.code, unknown.detail) == (
        Code.UNKNOWN_PARENT,
        "parent D-404 is not an enrolled partner",
    )
    not_distributor = registry.decide(reseller("R-3", "R-1", PartnerType.MSP))
    assert not_distributor.code is Code.PARENT_NOT_DISTRIBUTOR
    assert "R-1 is a RESELLER" in not_distributor.detail
    assert registry.decide(reseller("R-4", "D-1")).status is Status.ENROLLED
    assert registry.decide(reseller("R-5", None)).status is Status.ENROLLED


def test_distributor_cannot_have_a_parent():
    registry = Registry.of([distributor("D-1")])
    child = Partner(**{**vars(distributor("D-2")), "parent_distributor_id": "D-1"})
    outcome = registry.decide(child)
    assert outcome.code is Code.DISTRIBUTOR_HAS_PARENT
    assert "D-2" not in registry.partners


def test_exclusive_territory_held_by_another_distributor_is_refused_naming_the_holder():
    registry = Registry.of([distributor("D-1", "AT", "CH")])
    outcome = registry.decide(distributor("D-2", "CH", "LI"))
    assert outcome.code is Code.EXCLUSIVE_TERRITORY_TAKEN
    assert outcome.detail == "exclusive territory already held: CH (held by D-1)"
    assert registry.exclusive_holders == {"AT": "D-1", "CH": "D-1"}
    # selling non-exclusively in a territory someone else holds exclusively is allowed
    assert registry.decide(distributor("D-3", territories=("AT",))).status is Status.ENROLLED


def test_a_batch_sees_its_earlier_requests_but_not_its_later_ones():
    invalid = Rejection(Code.INVALID_FIELD, "tier: required", "R-0")
    batch = [
        reseller("R-1", "D-9"),
        distributor("D-9", "NL"),
        invalid,
        reseller("R-2", "D-9"),
        distributor("D-8", "NL"),
        distributor("D-9", "NL"),
    ]
    outcomes = Registry().decide_all(batch)
    assert [(o.partner_id, o.status, o.code) for o in outcomes] == [
        ("R-1", Status.REJECTED, Code.UNKNOWN_PARENT),
        ("D-9", Status.ENROLLED, None),
        ("R-0", Status.REJECTED, Code.INVALID_FIELD),
        ("R-2", Status.ENROLLED, None),
        ("D-8", Status.REJECTED, Code.EXCLUSIVE_TERRITORY_TAKEN),
        ("D-9", Status.UNCHANGED, None),
    ]
    assert referenced_ids(batch) == {"R-1", "R-2", "D-8", "D-9"}
    assert claimed_territories(batch) == {"NL"}


TERRITORIES = ["AT", "BE", "CH", "DE", "FR", "NL"]
claims = st.lists(
    st.tuples(
        st.sampled_from(["D-1", "D-2", "D-3", "D-4", "D-5"]),
        st.sets(st.sampled_from(TERRITORIES), max_size=3),
    ),
    max_size=12,
)


@given(claims)
def test_no_exclusive_territory_is_ever_held_by_two_distributors(requests):
    registry = Registry()
    outcomes = registry.decide_all([distributor(pid, *terr) for pid, terr in requests])
    holders: dict[str, str] = {}
    for o in outcomes:
        if o.status is Status.ENROLLED:
            assert o.partner is not None
            for t in o.partner.exclusive_territories:
                assert t not in holders
                holders[t] = o.partner_id
    assert holders == registry.exclusive_holders


@given(claims)
def test_deciding_the_same_requests_again_changes_nothing(requests):
    batch = [distributor(pid, *terr) for pid, terr in requests]
    registry = Registry()
    first = registry.decide_all(batch)
    snapshot = (dict(registry.partners), dict(registry.exclusive_holders))
    second = registry.decide_all(batch)
    assert all(o.status is not Status.ENROLLED for o in second)
    enrolled_first = {o.partner for o in first if o.status is Status.ENROLLED}
    assert {o.partner for o in second if o.status is Status.UNCHANGED} == enrolled_first
    assert (registry.partners, registry.exclusive_holders) == snapshot

from datetime import date
from decimal import Decimal

from analytics.domain.quarters import Quarter
from analytics.domain.scorecard import (
    ALL_METRICS,
    DISTRIBUTOR_METRICS,
    RESELLER_METRICS,
    is_active,
    is_dark,
    metrics_of,
    money,
    ratio,
    scorecard_type,
)
from hypothesis import given
from hypothesis import strategies as st

Q4 = Quarter(2026, 4)


def test_reseller_enrolled_before_the_quarter_without_lines_or_deals_is_dark():
    assert is_dark(date(2026, 7, 1), Q4, lines=0, approved_deals=0)


def test_one_line_or_one_approved_deal_in_the_quarter_lights_a_reseller_up():
    assert not is_dark(date(2026, 7, 1), Q4, lines=1, approved_deals=0)
    assert not is_dark(date(2026, 7, 1), Q4, lines=0, approved_deals=1)


def test_reseller_enrolled_during_the_quarter_is_never_dark_in_it():
    assert not is_dark(date(2026, 10, 1), Q4, lines=0, approved_deals=0)
    assert not is_dark(date(2026, 12, 31), Q4, lines=0, approved_deals=0)
    assert is_dark(date(2026, 9, 30), Q4, lines=0, approved_deals=0)


def test_ratio_is_undefined_without_sell_in():
    assert ratio(Decimal("100"), Decimal("0")) is None
    assert ratio(Decimal("0"), Decimal("0")) is None


def test_ratio_rounds_half_even_to_four_places():
    assert ratio(Decimal("493.825"), Decimal("1630")) == Decimal("0.3030")
    assert ratio(Decimal("1"), Decimal("20000")) == Decimal("0.0000")  # 0.00005 -> even
    assert ratio(Decimal("3"), Decimal("20000")) == Decimal("0.0002")  # 0.00015 -> even
    assert ratio(Decimal("-59.97"), Decimal("100")) == Decimal("-0.5997")


@given(
    st.decimals(min_value=-(10**9), max_value=10**9, places=4),
    st.decimals(min_value=Decimal("0.0001"), max_value=10**9, places=4),
)
def test_ratio_is_within_half_a_unit_of_the_exact_quotient(num, den):
    r = ratio(num, den)
    assert r is not None and r.as_tuple().exponent == -4
    assert abs(r - num / den) <= Decimal("0.00005")


def test_money_rounds_half_even_to_cents():
    assert money(Decimal("439.825")) == Decimal("439.82")
    assert money(Decimal("99.995")) == Decimal("100.00")
    assert money(Decimal("-0.125")) == Decimal("-0.12")
    assert str(money(Decimal("0"))) == "0.00"


def test_active_means_net_units_above_zero():
    assert is_active(1) and not is_active(0) and not is_active(-3)


def test_only_distributors_get_the_distributor_scorecard():
    assert scorecard_type("DISTRIBUTOR") == "distributor"
    for kind in ("RESELLER", "VAR", "MSP", "SI", "ISV", "REFERRAL"):
        assert scorecard_type(kind) == "reseller"
    assert metrics_of("distributor") == DISTRIBUTOR_METRICS
    assert metrics_of("reseller") == RESELLER_METRICS
    assert set(ALL_METRICS) == set(DISTRIBUTOR_METRICS) | set(RESELLER_METRICS)
    assert len(ALL_METRICS) == len(set(ALL_METRICS))
